"""Sensor data on scans: a logger read at receipt goes into the event and the shipment's log; a vaccine vial
monitor's stage is recorded at receipt and administration, and stages 3 and 4 mean do not use."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.models import Event, VialMonitorReading
from tests.ledger.test_event_hash import reference_hash
from tests.trace_api.client import Api
from tests.trace_api.coldchain.flows import Flow, vaccine_shipment

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:epcis_event_hash_generator")


def post_scan(api: Api, token: str, body: dict[str, Any]) -> Any:
    return api.client.post("/api/v1/scans", json=body, headers=api.auth(token))


def readings(flow: Flow, spells: list[tuple[int, int, float]]) -> list[dict[str, Any]]:
    return [
        {"time": (flow.shipped_at + timedelta(minutes=m)).isoformat(), "value": celsius}
        for first, last, celsius in spells
        for m in range(first, last, 5)
    ]


def test_a_logger_read_at_receipt_holds_the_shipment_s_goods(api: Api, session_factory: sessionmaker[Session]) -> None:
    flow = vaccine_shipment(api)
    logger = {"device_id": "RC5-2001", "readings": readings(flow, [(0, 60, 5.0), (60, 240, 12.0), (240, 300, 5.0)])}
    arrived = (flow.shipped_at + timedelta(minutes=298)).isoformat()
    body = {"action": "receive", "shipment_id": flow.shipment_id, "sensors": [logger], "event_time": arrived}
    reply = post_scan(api, flow.clinic_token, body)
    assert reply.status_code == 201, reply.text
    [result] = reply.json()["results"]
    [number] = result["excursions"]
    with session_factory() as session:
        event = session.scalar(select(Event).where(Event.event_id == result["event_id"]))
        assert event is not None
        document = {k: v for k, v in event.document.items() if k != "eventID"}
    [element] = document["sensorElementList"]
    assert element["sensorMetadata"]["deviceID"].endswith(":RC5-2001")
    assert len(element["sensorReport"]) == 60
    assert (
        reference_hash(document, "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld") == result["event_id"]
    )
    administered = post_scan(
        api, flow.clinic_token, {"action": "administer", "lines": [{"gtin": flow.gtin, "lot": flow.lot, "quantity": 1}]}
    )
    assert (administered.status_code, administered.json()["error"]) == (409, "HeldGoods")
    listed = api.client.get("/api/v1/excursions", headers=api.auth(flow.clinic_token)).json()
    assert [(e["number"], e["kind"], e["recorded_by"]) for e in listed] == [(number, "hot", "西湖区接种门诊")]


def dose(flow: Flow, stage: int) -> dict[str, Any]:
    line = {"gtin": flow.gtin, "lot": flow.lot, "quantity": 1}
    return {"action": "administer", "lines": [line], "vvm_stage": stage}


def vvm_count(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(VialMonitorReading)) or 0


def test_a_dose_whose_vial_monitor_is_spent_is_refused_and_nothing_is_written(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    flow = vaccine_shipment(api)
    post_scan(api, flow.clinic_token, {"action": "receive", "shipment_id": flow.shipment_id, "vvm_stage": 1})
    assert vvm_count(session_factory) == 1
    for stage in (3, 4):
        refused = post_scan(api, flow.clinic_token, dose(flow, stage))
        assert (refused.status_code, refused.json()["error"]) == (409, "VialMonitorSpent")
    assert vvm_count(session_factory) == 1
    given = post_scan(api, flow.clinic_token, dose(flow, 2))
    assert given.status_code == 201, given.text
    assert vvm_count(session_factory) == 2


def test_vials_received_with_a_spent_monitor_are_kept_on_hold(api: Api) -> None:
    flow = vaccine_shipment(api)
    received = post_scan(api, flow.clinic_token, {"action": "receive", "shipment_id": flow.shipment_id, "vvm_stage": 4})
    assert received.status_code == 201, received.text
    [number] = received.json()["results"][0]["excursions"]
    [excursion] = api.client.get("/api/v1/excursions", headers=api.auth(flow.clinic_token)).json()
    assert (excursion["number"], excursion["kind"], excursion["rules"]) == (number, "vvm", ["vvm_stage_4"])
    refused = post_scan(api, flow.clinic_token, dose(flow, 1))
    assert (refused.status_code, refused.json()["error"]) == (409, "HeldGoods")


def test_a_vial_monitor_is_not_read_when_shipping(api: Api) -> None:
    flow = vaccine_shipment(api)
    line = {"gtin": flow.gtin, "lot": flow.lot, "quantity": 1}
    body = {"action": "ship", "to_org": flow.clinic["uscc"], "lines": [line], "vvm_stage": 1}
    assert post_scan(api, flow.maker_token, body).status_code == 422
