"""EPCIS capture of sensor data about lotline goods: readings on a receiving event go into the shipment's log, a
sensor_reporting event about held goods into the holding's, and a dispensing event with a spent vial monitor is
refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from ledger import epcis, terms
from tests.trace_api.client import Api
from tests.trace_api.coldchain.flows import Flow, vaccine_shipment
from tests.trace_api.network import scan


def party(org: dict[str, Any]) -> dict[str, str]:
    return terms.owning_party(str(org["uscc"]))


def logger(flow: Flow, spells: list[tuple[int, int, float]]) -> epcis.SensorElement:
    reports = [
        epcis.SensorReport(value=celsius, time=flow.shipped_at + timedelta(minutes=m))
        for first, last, celsius in spells
        for m in range(first, last, 5)
    ]
    return epcis.SensorElement(reports=reports, device_id="urn:epc:id:giai:4000001.111")


def lot(flow: Flow, quantity: int | None = None) -> dict[str, Any]:
    element: dict[str, Any] = {"epcClass": terms.lot_class(flow.gtin, flow.lot)}
    if quantity is not None:
        element["quantity"] = quantity
    return element


def capture(api: Api, token: str, event: dict[str, Any]) -> Any:
    return api.client.post("/epcis/capture", json=epcis.epcis_document([event]), headers=api.auth(token))


def test_a_captured_receipt_with_a_warm_logger_holds_the_goods(api: Api) -> None:
    flow = vaccine_shipment(api)
    receipt = epcis.object_event(
        action="OBSERVE",
        event_time=flow.shipped_at + timedelta(minutes=299),
        quantity_list=[lot(flow, 20)],
        biz_step="receiving",
        disposition="in_progress",
        source_list=[party(flow.maker)],
        destination_list=[party(flow.clinic)],
        sensor_element_list=[logger(flow, [(0, 60, 5.0), (60, 240, 12.0), (240, 300, 5.0)])],
    )
    reply = capture(api, flow.clinic_token, receipt)
    assert reply.status_code == 201, reply.text
    assert reply.json()["events"][0]["operation"] == "receive"
    [excursion] = api.client.get("/api/v1/excursions", headers=api.auth(flow.clinic_token)).json()
    assert (excursion["kind"], excursion["shipment_id"], excursion["event_id"]) == (
        "hot",
        flow.shipment_id,
        reply.json()["events"][0]["eventID"],
    )


def test_a_sensor_report_about_held_goods_is_their_holder_s_readings(api: Api) -> None:
    flow = vaccine_shipment(api)
    scan(api, flow.clinic_token, {"action": "receive", "shipment_id": flow.shipment_id})
    report = epcis.object_event(
        action="OBSERVE",
        event_time=flow.shipped_at + timedelta(hours=6),
        quantity_list=[lot(flow)],
        biz_step="sensor_reporting",
        sensor_element_list=[logger(flow, [(360, 400, 4.0), (400, 500, 9.0), (500, 520, 4.0)])],
    )
    reply = capture(api, flow.clinic_token, report)
    assert reply.status_code == 201, reply.text
    assert (reply.json()["events"][0]["status"], reply.json()["events"][0]["operation"]) == ("applied", "sensor_report")
    [excursion] = api.client.get("/api/v1/excursions", headers=api.auth(flow.clinic_token)).json()
    assert (excursion["kind"], excursion["shipment_id"], excursion["holder"]) == ("hot", None, "西湖区接种门诊")
    _other, other_token = api.org("另一家门诊", "vaccinator")
    refused = capture(api, other_token, {**report, "eventTime": (flow.shipped_at + timedelta(hours=7)).isoformat()})
    assert (refused.status_code, refused.json()["error"]) == (403, "NotRecorder")


def test_a_captured_dose_whose_vial_monitor_is_spent_is_refused(api: Api) -> None:
    flow = vaccine_shipment(api)
    scan(api, flow.clinic_token, {"action": "receive", "shipment_id": flow.shipment_id})
    element = epcis.SensorElement(
        reports=[epcis.SensorReport(value=3, type="urn:lotline:measurement:vvm-stage", uom=None)]
    )
    dose = epcis.object_event(
        action="OBSERVE",
        event_time=flow.shipped_at + timedelta(hours=8),
        quantity_list=[lot(flow, 1)],
        biz_step="dispensing",
        disposition="dispensed",
        source_list=[party(flow.clinic)],
        sensor_element_list=[element],
    )
    refused = capture(api, flow.clinic_token, dose)
    assert (refused.status_code, refused.json()["error"]) == (409, "VialMonitorSpent")
