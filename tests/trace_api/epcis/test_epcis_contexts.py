"""Query answers every event of which re-hashes to its id under GS1's reference generator, run in a fresh process;
documents in GS1's simple context and with blank-node ids captured with the reference's ids."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ledger import epcis
from ledger.event_hash import SIMPLE_CONTEXT, STANDARD_CONTEXT
from tests.reference_hash import reference_ids
from tests.trace_api.client import Api
from tests.trace_api.epcis.test_epcis_api import CAPTURABLE, WHEN
from trace_api.epcis.contexts import AnswerContext

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:epcis_event_hash_generator")
EXAMPLE_NS = "http://ns.example.com/epcis/"


def pages(api: Api, token: str, **params: str) -> list[dict[str, Any]]:
    """Every page of GET /epcis/events (the query answers themselves), following the Link headers."""
    answers: list[dict[str, Any]] = []
    url: str | None = "/epcis/events"
    query: dict[str, str] | None = {"perPage": "30", **params}
    while url is not None:
        reply = api.client.get(url, params=query, headers=api.auth(token))
        assert reply.status_code == 200, reply.text
        answers.append(reply.json())
        link = reply.headers.get("link")
        url, query = (link.split(">")[0].lstrip("<"), None) if link else (None, None)
    return answers


def events_of(answer: dict[str, Any]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = answer["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    return events


def assert_every_event_rehashes(answers: list[dict[str, Any]]) -> list[str]:
    """What a third party does: each answer, as received, through the reference; every id must come back."""
    wrapped = [
        {"@context": a["@context"], "type": "EPCISDocument", "epcisBody": {"eventList": events_of(a)}}
        for a in answers
        if events_of(a)
    ]
    ids = [[e["eventID"] for e in w["epcisBody"]["eventList"]] for w in wrapped]
    assert reference_ids(wrapped) == ids
    return [event_id for page in ids for event_id in page]


def observation(serial: int, **extension: Any) -> dict[str, Any]:
    return {
        **epcis.object_event(action="OBSERVE", event_time=WHEN, epc_list=[f"urn:epc:id:sgtin:0614141.107346.{serial}"]),
        **extension,
    }


def document(events: list[dict[str, Any]], prefixes: dict[str, str] | None) -> dict[str, Any]:
    context: Any = [STANDARD_CONTEXT, prefixes] if prefixes else [STANDARD_CONTEXT]
    return {**epcis.epcis_document(events), "@context": context}


def test_events_that_use_one_prefix_differently_never_share_an_answer(api: Api) -> None:
    _partner, token = api.org("EPCIS 伙伴", "distributor")
    # The first document uses example: without declaring it, so it is hashed as the literal "example:note".
    undeclared = document([observation(1, **{"example:note": "a"})], None)
    declared = document([observation(2, **{"example:note": "b"})], {"example": EXAMPLE_NS})
    other = document([observation(3, **{"example:note": "c"})], {"example": "http://other.example.org/"})
    plain = document([observation(4)], None)
    captured = []
    for doc in (undeclared, declared, other, plain):
        reply = api.client.post("/epcis/capture", json=doc, headers=api.auth(token))
        assert reply.status_code == 201, reply.text
        captured.extend(e["eventID"] for e in reply.json()["events"])
    assert captured == [ids[0] for ids in reference_ids([undeclared, declared, other, plain])]

    answers = pages(api, token)
    assert assert_every_event_rehashes(answers) == captured
    # Three definitions of example: (none, one, another) need three answers; the plain event joins the last one.
    assert [len(events_of(a)) for a in answers] == [1, 1, 2]
    assert answers[0]["@context"] == STANDARD_CONTEXT
    assert answers[1]["@context"] == [STANDARD_CONTEXT, {"example": EXAMPLE_NS}]


def test_an_answer_carries_only_the_prefixes_its_events_use() -> None:
    answer = AnswerContext()
    assert answer.admit({"@context": [STANDARD_CONTEXT, {"example": EXAMPLE_NS, "unused": "urn:x:"}], "example:a": 1})
    assert answer.admit({"type": "ObjectEvent", "readPoint": {"id": "urn:epc:id:sgln:0614141.07346.1234"}})
    assert answer.context() == [STANDARD_CONTEXT, {"example": EXAMPLE_NS}]
    assert not answer.admit({"@context": [STANDARD_CONTEXT, {"urn": "http://evil.example/"}], "x": "urn:y"})
    assert not answer.admit({"@context": [SIMPLE_CONTEXT], "type": "ObjectEvent"})


def simple_form(path_document: dict[str, Any]) -> dict[str, Any]:
    """The example as GS1 publishes it in its simple form: the simple context, a blank-node document id."""
    context = path_document["@context"]
    parts = context if isinstance(context, list) else [context]
    swapped = [SIMPLE_CONTEXT if part == STANDARD_CONTEXT else part for part in parts]
    return {**path_document, "@context": swapped, "id": "_:document1"}


def test_simple_context_documents_with_blank_node_ids_are_captured_and_queried_back(api: Api) -> None:
    _partner, token = api.org("EPCIS 伙伴", "distributor")
    documents = [
        simple_form(json.loads(path.read_text()))
        for path in CAPTURABLE
        if not path.name.startswith("Example-TransactionEvents")  # the reference cannot hash it (test_epcis_api)
    ]
    captured: list[list[str]] = []
    for doc in documents:
        reply = api.client.post("/epcis/capture", json=doc, headers=api.auth(token))
        assert reply.status_code == 201, reply.text
        captured.append([e["eventID"] for e in reply.json()["events"]])
    assert captured == reference_ids(documents)

    answers = pages(api, token)
    returned = assert_every_event_rehashes(answers)
    assert set(returned) == {event_id for ids in captured for event_id in ids}
    assert all(SIMPLE_CONTEXT in json.dumps(a["@context"]) for a in answers)


def test_an_unknown_remote_context_is_a_400_naming_it(api: Api) -> None:
    _partner, token = api.org("EPCIS 伙伴", "distributor")
    doc = {**document([observation(5)], None), "@context": ["https://example.org/my-context.jsonld"]}
    reply = api.client.post("/epcis/capture", json=doc, headers=api.auth(token))
    assert reply.status_code == 400
    assert "https://example.org/my-context.jsonld" in reply.json()["detail"]
