"""End to end over the API: a vaccine shipment whose logger file shows 3 h at 12 °C is held, cannot be
administered, and ends released with a reason and evidence, or destroyed; a 40-minute gap in a frozen-meat
shipment's log is a data-gap excursion."""

from __future__ import annotations

from typing import Any

from tests.trace_api.client import Api
from tests.trace_api.coldchain.flows import Flow, beef_shipment, logger_csv, upload, vaccine_shipment
from tests.trace_api.network import scan

EVIDENCE = (
    "stability.pdf",
    b"%PDF-1.7\nstability data: 12 C for 3 h is within the product's budget",
    "application/pdf",
)


def administer(api: Api, flow: Flow) -> Any:
    line = {"gtin": flow.gtin, "lot": flow.lot, "quantity": 1}
    return api.client.post(
        "/api/v1/scans", json={"action": "administer", "lines": [line]}, headers=api.auth(flow.clinic_token)
    )


def held_vaccines(api: Api) -> tuple[Flow, dict[str, Any]]:
    """The shipment, its logger file (1 h at 5 °C, 3 h at 12 °C, 1 h at 5 °C) uploaded by the maker, and the
    goods received by the clinic: the excursion found."""
    flow = vaccine_shipment(api)
    content = logger_csv(flow.shipped_at, [(0, 60, 5.0), (60, 240, 12.0), (240, 300, 5.0)])
    reply = upload(api, flow.maker_token, flow.shipment_id, content)
    assert reply.status_code == 201, reply.text
    [log] = reply.json()["logs"]
    assert (log["device_id"], log["stored"], log["duplicates"]) == ("RC5-2001", 60, 0)
    [excursion] = log["new_excursions"]
    scan(api, flow.clinic_token, {"action": "receive", "shipment_id": flow.shipment_id})
    return flow, excursion


def test_a_three_hour_warm_spell_holds_the_vaccines_until_the_maker_releases_them(api: Api) -> None:
    flow, found = held_vaccines(api)
    assert (found["kind"], found["rules"]) == ("hot", ["above_range", "above_range_total"])
    refused = administer(api, flow)
    assert (refused.status_code, refused.json()["error"]) == (409, "HeldGoods")
    assert refused.json()["context"]["holds"] == [f"cold-chain excursion {found['number']}"]

    path = f"/api/v1/excursions/{found['id']}"
    excursion = api.client.get(path, headers=api.auth(flow.clinic_token)).json()
    assert (excursion["status"], excursion["duration_s"], excursion["max_c"]) == ("open", 3 * 3600, 12.0)
    assert excursion["holder"] == "西湖区接种门诊"
    assert [(g["lot"], g["quantity"]) for g in excursion["goods"]] == [(flow.lot, 20)]

    acknowledged = api.client.post(f"{path}/acknowledgement", headers=api.auth(flow.clinic_token))
    assert acknowledged.json()["acknowledged_at"] is not None
    own = api.client.post(
        f"{path}/release",
        headers=api.auth(flow.clinic_token),
        data={"reason": "我们觉得没问题"},
        files={"evidence": EVIDENCE},
    )
    assert (own.status_code, own.json()["error"]) == (403, "RoleRequired")
    released = api.client.post(
        f"{path}/release",
        headers=api.auth(flow.maker_token),
        data={"reason": "稳定性数据：12℃ 下 3 小时在允许范围内"},
        files={"evidence": EVIDENCE},
    )
    assert released.status_code == 200, released.text
    body = released.json()
    assert (body["status"], body["disposed_by"]) == ("released", "某生物制品有限公司")
    assert body["evidence_sha256"] is not None
    assert administer(api, flow).status_code == 201


def test_vaccines_held_by_an_excursion_can_be_destroyed_by_the_clinic(api: Api) -> None:
    flow, found = held_vaccines(api)
    path = f"/api/v1/excursions/{found['id']}"
    destroyed = api.client.post(f"{path}/destruction", headers=api.auth(flow.clinic_token), json={"reason": "超温报废"})
    assert destroyed.status_code == 200, destroyed.text
    assert destroyed.json()["status"] == "destroyed"
    again = api.client.post(f"{path}/destruction", headers=api.auth(flow.clinic_token), json={"reason": "again"})
    assert (again.status_code, again.json()["error"]) == (409, "ExcursionClosed")
    nothing_left = administer(api, flow)
    assert (nothing_left.status_code, nothing_left.json()["error"]) == (409, "QuantityExceeded")


def test_a_forty_minute_gap_in_a_frozen_meat_shipment_is_a_data_gap_excursion(api: Api) -> None:
    imp, mkt, shipment_id, shipped_at = beef_shipment(api)
    content = logger_csv(shipped_at, [(0, 60, -20.0), (100, 180, -20.5)])
    reply = upload(api, imp, shipment_id, content)
    assert reply.status_code == 201, reply.text
    [gap] = reply.json()["logs"][0]["new_excursions"]
    assert (gap["kind"], gap["rules"]) == ("data_gap", ["data_gap"])
    listed = api.client.get("/api/v1/excursions?status=open", headers=api.auth(mkt)).json()
    assert [(e["kind"], e["duration_s"], e["holder"]) for e in listed] == [("data_gap", 45 * 60, "一级批发市场")]
