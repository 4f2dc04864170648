"""Error declarations over the REST binding: captured (status "declared"), published inside the event they declare
(which still re-hashes to its id), queryable with GS1's EXISTS_errorDeclaration / EQ_errorReason /
EQ_correctiveEventID, and shown on the event's proof page and in its JSON proof."""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import quote

import pytest

from tests.trace_api.client import Api
from tests.trace_api.epcis.test_epcis_api import EXAMPLES, all_events
from tests.trace_api.pages import HTML

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:epcis_event_hash_generator")
CORRECTIVE_UUID = "urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8"


def capture(api: Api, token: str, document: dict[str, Any]) -> list[dict[str, Any]]:
    reply = api.client.post("/epcis/capture", json=document, headers=api.auth(token))
    assert reply.status_code == 201, reply.text
    events: list[dict[str, Any]] = reply.json()["events"]
    return events


def declared_with_corrective() -> tuple[dict[str, Any], dict[str, Any]]:
    """GS1's first 9.6.1 event, then the same event declared erroneous with one corrective event beside it."""
    original = json.loads((EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_text())
    original["epcisBody"]["eventList"] = original["epcisBody"]["eventList"][:1]
    declaration = copy.deepcopy(original)
    [event] = declaration["epcisBody"]["eventList"]
    corrective = {**copy.deepcopy(event), "eventID": CORRECTIVE_UUID, "disposition": "in_progress"}
    event["errorDeclaration"] = {
        "declarationTime": "2026-03-02T08:00:00+08:00",
        "reason": "incorrect_data",
        "correctiveEventIDs": [CORRECTIVE_UUID],
    }
    declaration["epcisBody"]["eventList"] = [event, corrective]
    return original, declaration


def test_a_declared_event_is_published_with_its_declaration_and_still_rehashes(api: Api) -> None:
    _partner, token = api.org("EPCIS 伙伴", "distributor")
    original, declaration = declared_with_corrective()
    [recorded] = capture(api, token, original)
    declared, corrective = capture(api, token, declaration)
    assert (declared["status"], declared["eventID"]) == ("declared", recorded["eventID"])
    assert corrective["status"] == "recorded"

    # all_events re-hashes every page with GS1's reference generator.
    [shown] = all_events(api, token, EXISTS_errorDeclaration="true")
    assert shown["eventID"] == recorded["eventID"]
    assert shown["errorDeclaration"]["reason"] == "incorrect_data"
    assert shown["errorDeclaration"]["correctiveEventIDs"] == [corrective["eventID"]]
    assert [e["eventID"] for e in all_events(api, token, EQ_errorReason="incorrect_data")] == [recorded["eventID"]]
    by_urn = all_events(api, token, EQ_errorReason="urn:epcglobal:cbv:er:incorrect_data")
    assert [e["eventID"] for e in by_urn] == [recorded["eventID"]]
    assert all_events(api, token, EQ_errorReason="did_not_occur") == []
    by_corrective = all_events(api, token, EQ_correctiveEventID=corrective["eventID"])
    assert [e["eventID"] for e in by_corrective] == [recorded["eventID"]]
    undeclared = {e["eventID"] for e in all_events(api, token, EXISTS_errorDeclaration="false")}
    assert corrective["eventID"] in undeclared
    assert recorded["eventID"] not in undeclared

    one = api.client.get(f"/epcis/events/{quote(recorded['eventID'], safe='')}", headers=api.auth(token))
    [event] = one.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert event["errorDeclaration"]["declarationTime"] == "2026-03-02T08:00:00+08:00"


def test_the_proof_page_and_json_proof_show_the_declaration_and_link_the_corrective_event(api: Api) -> None:
    _partner, token = api.org("EPCIS 伙伴", "distributor")
    original, declaration = declared_with_corrective()
    capture(api, token, original)
    declared, corrective = capture(api, token, declaration)
    digest = declared["eventID"].split(";")[1].split("?")[0]

    proof = api.client.get(f"/api/v1/verify/events/{digest}").json()
    assert proof["hash_matches"] is True
    assert proof["error_declaration"]["correctiveEventIDs"] == [corrective["eventID"]]

    page = api.client.get(f"/proof/{digest}", headers=HTML)
    assert page.status_code == 200
    assert "已声明为错误记录" in page.text
    assert '<dd data-field="declared-reason">数据有误</dd>' in page.text
    assert f'href="/proof/{corrective["eventID"].split(";")[1].split("?")[0]}"' in page.text
    english = api.client.get(f"/proof/{digest}", headers={**HTML, "Accept-Language": "en"})
    assert "Declared erroneous" in english.text
    untouched = corrective["eventID"].split(";")[1].split("?")[0]
    assert "已声明为错误记录" not in api.client.get(f"/proof/{untouched}", headers=HTML).text
