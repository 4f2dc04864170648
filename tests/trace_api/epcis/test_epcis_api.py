"""EPCIS 2.0 over the REST binding: GS1's examples round-trip with the reference hashes, bad documents are 400s
naming the field, capture about lotline goods runs the scan rules, and queries show each organisation its own."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from epcis_event_hash_generator import hash_generator, json_to_py
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger import epcis, terms
from ledger.models import Event, EventBatch, Holding, Movement
from tests.trace_api.client import Api
from tests.trace_api.network import setup_chain
from trace_api.epcis import routes as epcis_routes

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:epcis_event_hash_generator")


EXAMPLES = Path(__file__).parents[2] / "data" / "epcis"


CAPTURABLE = sorted(p for p in EXAMPLES.glob("*.jsonld") if json.loads(p.read_text())["type"] == "EPCISDocument")


WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def epcis_api(api: Api) -> Api:
    """The API with the EPCIS routes, whether or not app.py registers them yet (the lead wires routers there)."""
    app = api.client.app
    assert isinstance(app, FastAPI)
    if not any(getattr(route, "path", "").startswith("/epcis/") for route in app.routes):
        app.include_router(epcis_routes.router)
    return api


def reference_hashes(document: dict[str, Any]) -> list[str]:
    json_to_py._namespaces.clear()  # the reference keeps prefixes from earlier documents in a global
    parsed = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(document))
    hashes: list[str] = hash_generator.epcis_hashes_from_events(parsed)
    return hashes


def all_events(api: Api, token: str, **params: str) -> list[dict[str, Any]]:
    """Every page of GET /epcis/events, following the Link headers."""
    events: list[dict[str, Any]] = []
    url: str | None = "/epcis/events"
    query: dict[str, str] | None = {"perPage": "4", **params}
    while url is not None:
        reply = api.client.get(url, params=query, headers=api.auth(token))
        assert reply.status_code == 200, reply.text
        body = reply.json()
        assert body["type"] == "EPCISQueryDocument"
        page = body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        # A third party re-hashes what it got, in the context it got it in: the ids must come out the same.
        if page:
            rewrapped = {"@context": body["@context"], "type": "EPCISDocument", "epcisBody": {"eventList": page}}
            assert reference_hashes(rewrapped) == [e["eventID"] for e in page]
        events.extend(page)
        link = reply.headers.get("link")
        url, query = (link.split(">")[0].lstrip("<"), None) if link else (None, None)
    return events


def ship(net: dict[str, Any], quantity: int) -> dict[str, Any]:
    return epcis.object_event(
        action="OBSERVE",
        event_time=WHEN,
        quantity_list=[terms.quantity_element(net["gtin"], "BR2026A", quantity, "EA")],
        biz_step="shipping",
        disposition="in_transit",
        source_list=[terms.owning_party(net["importer"]["uscc"])],
        destination_list=[terms.owning_party(net["market"]["uscc"])],
    )


def on_hand(factory: sessionmaker[Session], org_id: int) -> int:
    with factory() as session:
        return session.scalar(select(func.sum(Holding.on_hand)).where(Holding.org_id == org_id)) or 0


def event_count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(Event)) or 0


def test_every_gs1_example_document_is_captured_and_queried_back_with_the_reference_hashes(
    epcis_api: Api, session_factory: sessionmaker[Session]
) -> None:
    _partner, token = epcis_api.org("EPCIS 伙伴", "distributor")
    expected: set[str] = set()
    captured = 0
    for path in CAPTURABLE:
        document = json.loads(path.read_text())
        if path.name.startswith("Example-TransactionEvents"):
            continue  # its first bizTransaction has no type: the reference cannot hash it (see the test below)
        reply = epcis_api.client.post("/epcis/capture", json=document, headers=epcis_api.auth(token))
        assert reply.status_code == 201, (path.name, reply.text)
        hashes = reference_hashes(document)
        statuses = reply.json()["events"]
        assert [s["eventID"] for s in statuses] == hashes, path.name
        assert {s["status"] for s in statuses} <= {"recorded", "duplicate"}
        expected.update(hashes)
        captured += 1
    assert captured == len(CAPTURABLE) - 1
    returned = {e["eventID"] for e in all_events(epcis_api, token)}
    assert expected <= returned
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Movement)) == 0
        recorded = select(Event.seq).where(Event.event_id.in_(expected))
        assert session.scalar(select(func.count()).where(EventBatch.event_seq.in_(recorded))) == 0


def test_an_event_the_reference_cannot_hash_is_a_400_naming_it(epcis_api: Api) -> None:
    _partner, token = epcis_api.org("铁路", "carrier")
    document = json.loads((EXAMPLES / "Example-TransactionEvents-2020_07_03y.jsonld").read_text())
    reply = epcis_api.client.post("/epcis/capture", json=document, headers=epcis_api.auth(token))
    assert reply.status_code == 400
    assert reply.json()["context"]["field"] == "epcisBody.eventList[0].bizTransactionList[0]"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e.pop("eventTimeZoneOffset"), "epcisBody.eventList[0]"),
        (lambda e: e.update(action="MOVE"), "epcisBody.eventList[0].action"),
        (lambda e: e.update(type="ShipEvent"), "epcisBody.eventList[0].type"),
        (lambda e: e.update(epcList=["urn:epc:id:sgtin:0614141.ABC.1"]), "epcisBody.eventList[0].epcList[0]"),
        (
            lambda e: e.update(epcList=["https://id.gs1.org/01/09521234543214/21/1"]),
            "epcisBody.eventList[0].epcList[0]",
        ),
    ],
)
def test_invalid_documents_are_400_naming_the_field_and_write_nothing(
    epcis_api: Api, session_factory: sessionmaker[Session], change: Any, field: str
) -> None:
    _partner, token = epcis_api.org("伙伴", "distributor")
    document = json.loads((EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_text())
    change(document["epcisBody"]["eventList"][0])
    before = event_count(session_factory)
    reply = epcis_api.client.post("/epcis/capture", json=document, headers=epcis_api.auth(token))
    assert reply.status_code == 400, reply.text
    assert reply.json()["error"] == "InvalidEvent"
    assert reply.json()["context"]["field"].startswith(field)
    assert event_count(session_factory) == before


def test_a_shipping_event_about_lotline_goods_moves_them_like_a_scan(
    epcis_api: Api, session_factory: sessionmaker[Session]
) -> None:
    net: dict[str, Any] = setup_chain(epcis_api)
    imp, market_id = str(net["imp"]), net["market"]["id"]
    event = ship(net, 10)
    reply = epcis_api.client.post("/epcis/capture", json=epcis.epcis_document([event]), headers=epcis_api.auth(imp))
    assert reply.status_code == 201, reply.text
    [status] = reply.json()["events"]
    assert (status["status"], status["operation"]) == ("applied", "ship")
    assert status["eventID"] == reference_hashes(epcis.epcis_document([event]))[0]
    assert on_hand(session_factory, net["importer"]["id"]) == 90

    before = event_count(session_factory)
    over = epcis_api.client.post(
        "/epcis/capture", json=epcis.epcis_document([ship(net, 1000)]), headers=epcis_api.auth(imp)
    )
    assert over.status_code == 409
    assert over.json()["error"] == "QuantityExceeded"
    assert event_count(session_factory) == before
    assert on_hand(session_factory, net["importer"]["id"]) == 90

    receipt = {**event, "bizStep": "receiving", "disposition": "in_progress", "eventTime": "2026-03-02T08:00:00Z"}
    received = epcis_api.client.post(
        "/epcis/capture", json=epcis.epcis_document([receipt]), headers=epcis_api.auth(str(net["mkt"]))
    )
    assert received.status_code == 201, received.text
    assert received.json()["events"][0]["operation"] == "receive"
    assert on_hand(session_factory, market_id) == 10


def test_capturing_someone_elses_shipment_is_forbidden(epcis_api: Api) -> None:
    net: dict[str, Any] = setup_chain(epcis_api)
    reply = epcis_api.client.post(
        "/epcis/capture", json=epcis.epcis_document([ship(net, 1)]), headers=epcis_api.auth(str(net["mkt"]))
    )
    assert reply.status_code == 403


def test_a_retry_with_the_same_key_replays_and_a_resent_event_is_a_duplicate(
    epcis_api: Api, session_factory: sessionmaker[Session]
) -> None:
    net: dict[str, Any] = setup_chain(epcis_api)
    document = epcis.epcis_document([ship(net, 3)])
    headers = epcis_api.auth(str(net["imp"]), key="epcis-capture-0001")
    first = epcis_api.client.post("/epcis/capture", json=document, headers=headers)
    again = epcis_api.client.post("/epcis/capture", json=document, headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    resent = epcis_api.client.post("/epcis/capture", json=document, headers=epcis_api.auth(str(net["imp"])))
    assert resent.json()["events"][0]["status"] == "duplicate"
    assert on_hand(session_factory, net["importer"]["id"]) == 97


def test_queries_show_an_organisation_its_own_events_and_regulators_all(epcis_api: Api) -> None:
    net: dict[str, Any] = setup_chain(epcis_api)
    _other, other = epcis_api.org("无关企业", "retailer")
    imp = str(net["imp"])
    epcis_api.client.post("/epcis/capture", json=epcis.epcis_document([ship(net, 2)]), headers=epcis_api.auth(imp))
    example = json.loads((EXAMPLES / "SensorDataExample1.jsonld").read_text())
    [sensor] = epcis_api.client.post("/epcis/capture", json=example, headers=epcis_api.auth(imp)).json()["events"]

    shipping = all_events(epcis_api, str(net["mkt"]), EQ_bizStep="shipping")
    assert [e["bizStep"] for e in shipping] == ["shipping"]  # the market is the destination: it sees the shipment
    assert sensor["eventID"] not in {e["eventID"] for e in all_events(epcis_api, str(net["mkt"]))}
    assert all_events(epcis_api, other) == []
    everything = {e["eventID"] for e in all_events(epcis_api, epcis_api.regulator_token)}
    assert sensor["eventID"] in everything

    path = f"/epcis/events/{quote(sensor['eventID'], safe='')}"
    mine = epcis_api.client.get(path, headers=epcis_api.auth(imp))
    assert mine.status_code == 200
    [event] = mine.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert event["eventID"] == sensor["eventID"]
    assert "recordTime" in event
    assert epcis_api.client.get(path, headers=epcis_api.auth(other)).status_code == 404


def test_query_parameters_filter_by_epc_type_and_time(epcis_api: Api) -> None:
    _partner, token = epcis_api.org("伙伴", "distributor")
    for name in ("Example_9.6.1-ObjectEvent", "Example_9.6.3-AggregationEvent", "SensorDataExample1"):
        document = json.loads((EXAMPLES / f"{name}.jsonld").read_text())
        assert epcis_api.client.post("/epcis/capture", json=document, headers=epcis_api.auth(token)).status_code == 201

    def types(**params: str) -> list[str]:
        return sorted(e["type"] for e in all_events(epcis_api, token, **params))

    assert types(eventType="AggregationEvent") == ["AggregationEvent"]
    assert types(eventType="ObjectEvent", EQ_bizStep="shipping") == ["ObjectEvent"]
    # A Digital Link matches the same item written as an EPC URN (in epcList and childEPCs); an idpat matches
    # every serial of its GTIN; only MATCH_anyEPC looks at the parent.
    assert types(MATCH_epc="https://id.gs1.org/01/10614141073464/21/2017") == ["AggregationEvent", "ObjectEvent"]
    assert types(MATCH_anyEPC="urn:epc:idpat:sgtin:0614141.107346.*") == [
        "AggregationEvent",
        "ObjectEvent",
        "ObjectEvent",
    ]
    assert types(MATCH_epc="urn:epc:id:sscc:0614141.1234567890") == []
    assert types(MATCH_anyEPC="urn:epc:id:sscc:0614141.1234567890") == ["AggregationEvent"]
    assert types(GE_eventTime="2005-04-04T12:00:00Z", LT_eventTime="2013-06-09T00:00:00Z") == [
        "AggregationEvent",
        "ObjectEvent",
    ]
    assert types(EQ_readPoint="urn:epc:id:sgln:0614141.00777.0") == ["AggregationEvent"]
    bad = epcis_api.client.get("/epcis/events", params={"nextPageToken": "x1"}, headers=epcis_api.auth(token))
    assert bad.status_code == 422
