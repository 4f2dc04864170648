"""GS1's sensor examples captured and queried back with the EPCIS 2.0 sensor parameters; their ids are the hashes
GS1's reference generator prints, run on the files in a process of its own."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.trace_api.client import Api

EXAMPLES = Path(__file__).parents[2] / "data" / "epcis"
SENSOR_FILES = [EXAMPLES / f"SensorDataExample{n}.jsonld" for n in (1, 2, 3)]


def reference_hashes_of_file(path: Path) -> list[str]:
    """``python -m epcis_event_hash_generator FILE`` as a third party would run it."""
    printed = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "epcis_event_hash_generator", str(path)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return re.findall(r"ni:///sha-256;[0-9a-f]{64}\?ver=CBV2\.0", printed)


@pytest.fixture
def captured(api: Api) -> tuple[str, list[str]]:
    """The three examples captured by one organisation: its token and the events' ids, in file order."""
    _org, token = api.org("冷链物流公司", "carrier")
    ids = []
    for path in SENSOR_FILES:
        reply = api.client.post("/epcis/capture", json=json.loads(path.read_text()), headers=api.auth(token))
        assert reply.status_code == 201, reply.text
        ids += [event["eventID"] for event in reply.json()["events"]]
    return token, ids


def test_captured_sensor_events_have_the_ids_the_reference_generator_prints(captured: tuple[str, list[str]]) -> None:
    _token, ids = captured
    assert ids == [h for path in SENSOR_FILES for h in reference_hashes_of_file(path)]


def events(api: Api, token: str, query: str) -> list[dict[str, Any]]:
    reply = api.client.get(f"/epcis/events?{query}", headers=api.auth(token))
    assert reply.status_code == 200, reply.text
    found: list[dict[str, Any]] = reply.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return found


@pytest.mark.parametrize(
    ("query", "examples"),
    [
        ("EQ_type=Temperature", [1, 2, 3]),
        ("EQ_type=Temperature&GE_value_CEL=26.1", [1]),
        ("GE_maxValue_CEL=13&LT_maxValue_CEL=14", [3]),
        ("GE_value_FAH=79", [1]),
        ("EQ_deviceID=urn:epc:id:giai:4000001.111", [1, 2]),
        ("EQ_type=AbsoluteHumidity&GE_value_CEL=12", []),
        ("LT_value_CEL=0", []),
    ],
)
def test_sensor_parameters_find_the_examples_they_describe(
    api: Api, captured: tuple[str, list[str]], query: str, examples: list[int]
) -> None:
    token, ids = captured
    assert [e["eventID"] for e in events(api, token, query)] == [ids[n - 1] for n in examples]


def test_a_malformed_sensor_parameter_is_refused(api: Api, captured: tuple[str, list[str]]) -> None:
    token, _ids = captured
    reply = api.client.get("/epcis/events?GE_value=5", headers=api.auth(token))
    assert (reply.status_code, reply.json()["error"]) == (422, "InvalidInput")
