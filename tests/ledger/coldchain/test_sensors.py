"""Temperature readings out of EPCIS sensor data, and the sensor parameters of the SimpleEventQuery."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ledger.coldchain.readings import Reading
from ledger.coldchain.sensors import parse_sensor_query, temperature_readings
from ledger.errors import InvalidEvent, InvalidInput

EXAMPLES = Path(__file__).parents[2] / "data" / "epcis"


def example(n: int) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EXAMPLES / f"SensorDataExample{n}.jsonld").read_text())["epcisBody"][
        "eventList"
    ][0]
    return event


def ms(text: str) -> int:
    return round(datetime.fromisoformat(text).timestamp() * 1000)


def test_each_temperature_report_of_gs1_example_1_is_a_reading_of_its_device() -> None:
    assert temperature_readings(example(1)) == {
        "urn:epc:id:giai:4000001.111": [
            Reading(ms("2019-04-02T14:05:00+01:00"), 26.0),
            Reading(ms("2019-04-02T14:35:00+01:00"), 26.1),
            Reading(ms("2019-04-02T14:55:00+01:00"), 26.2),
        ]
    }


def test_a_report_over_a_period_is_one_reading_with_its_extremes_at_the_start() -> None:
    assert temperature_readings(example(2)) == {
        "urn:epc:id:giai:4000001.111": [Reading(ms("2019-04-02T13:55:01+01:00"), 26.1, 26.0, 26.2)]
    }
    assert temperature_readings(example(3)) == {"": [Reading(ms("2019-04-01T15:00:00+01:00"), None, 12.4, 13.8)]}


def sensor_event(*reports: dict[str, Any], metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"sensorReport": list(reports)}
    if metadata:
        element["sensorMetadata"] = metadata
    return {"type": "ObjectEvent", "eventTime": "2026-11-27T08:00:00.000+08:00", "sensorElementList": [element]}


def test_fahrenheit_and_kelvin_are_read_in_celsius_and_an_unknown_unit_is_refused() -> None:
    readings = temperature_readings(
        sensor_event(
            {"type": "gs1:Temperature", "value": 41, "uom": "FAH", "time": "2026-11-27T08:00:00+08:00"},
            {"type": "Temperature", "value": 278.15, "uom": "KEL", "time": "2026-11-27T08:05:00+08:00"},
        )
    )
    assert [r.value_c for r in readings[""]] == pytest.approx([5.0, 5.0])
    with pytest.raises(InvalidEvent, match="uom is CEL, FAH or KEL"):
        temperature_readings(sensor_event({"type": "Temperature", "value": 5}))


def test_a_report_without_a_time_takes_the_event_time() -> None:
    [reading] = temperature_readings(sensor_event({"type": "Temperature", "value": 5, "uom": "CEL"}))[""]
    assert reading.taken_ms == ms("2026-11-27T08:00:00+08:00")


@pytest.mark.parametrize(
    ("query", "examples"),
    [
        ("EQ_type=Temperature", {1, 2, 3}),
        ("EQ_type=gs1:Temperature&GE_value_CEL=26.1", {1}),
        ("GE_value_CEL=26.3", set()),
        ("GE_value_FAH=79", {1}),  # 79 °F is 26.1 °C
        ("GE_maxValue_CEL=13&LT_maxValue_CEL=14", {3}),
        ("EQ_deviceID=urn:epc:id:giai:4000001.111", {1, 2}),
        ("EQ_bizRules=https://example.com/253/4012345000054987", {2}),
        # Every parameter holds for one report: humidity is in A93, never in CEL.
        ("EQ_type=AbsoluteHumidity&GE_value_CEL=12", set()),
        ("EQ_type=AbsoluteHumidity&GE_maxValue_A93=70", {3}),
        ("GE_time=2019-04-02T14:30:00%2B01:00&LT_time=2019-04-02T14:40:00%2B01:00", {1}),
        ("EQ_type=Speed|Illuminance&LT_minValue_KMH=161", {2}),
        ("GE_sDev_CEL=0.1", {2}),
    ],
)
def test_sensor_parameters_select_the_gs1_examples_they_should(query: str, examples: set[int]) -> None:
    from urllib.parse import parse_qsl

    parsed = parse_sensor_query(parse_qsl(query))
    assert {n for n in (1, 2, 3) if parsed.matches(example(n))} == examples


@pytest.mark.parametrize("parameter", ["GE_value=5", "GE_percRank_CEL=1", "GE_value_CEL=warm", "EQ_booleanValue=1"])
def test_malformed_sensor_parameters_are_refused(parameter: str) -> None:
    name, _, value = parameter.partition("=")
    with pytest.raises(InvalidInput, match=name):
        parse_sensor_query([(name, value)])


def test_a_query_without_sensor_parameters_matches_everything() -> None:
    query = parse_sensor_query([("eventType", "ObjectEvent")])
    assert not query
    assert query.matches({"type": "ObjectEvent"})
