"""The cold-chain API beyond the end-to-end flows: gateways' batches, who sees and does what, the filters a
regulator uses, and the products' profiles."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from tests.trace_api.client import Api
from tests.trace_api.coldchain.flows import beef_shipment, logger_csv, upload, vaccine_shipment
from tests.trace_api.network import scan


def test_a_gateway_batch_lands_in_its_loggers_logs_anchored_by_the_bytes_posted(api: Api) -> None:
    flow = vaccine_shipment(api)
    readings = [
        {"time": (flow.shipped_at + timedelta(minutes=m)).isoformat(), "value": 5.0 if m < 60 else 11.5}
        for m in range(0, 120, 5)
    ]
    body = {"logs": [{"device_id": "GW-7/T1", "scope": {"shipment_id": flow.shipment_id}, "interval_s": 300,
                      "readings": readings}]}  # fmt: skip
    raw = json.dumps(body).encode()
    reply = api.client.post(
        "/api/v1/temperature/readings",
        content=raw,
        headers={**api.auth(flow.maker_token), "Content-Type": "application/json"},
    )
    assert reply.status_code == 201, reply.text
    [log] = reply.json()["logs"]
    assert (log["stored"], log["sha256"]) == (24, hashlib.sha256(raw).hexdigest())
    [ongoing] = log["new_excursions"]
    assert (ongoing["kind"], ongoing["ended_at"]) == ("hot", None)
    later = [{"time": (flow.shipped_at + timedelta(minutes=m)).isoformat(), "value": 5.0} for m in range(120, 130, 5)]
    body = {"logs": [{"device_id": "GW-7/T1", "scope": {"shipment_id": flow.shipment_id}, "readings": later}]}
    second = api.client.post("/api/v1/temperature/readings", json=body, headers=api.auth(flow.maker_token))
    [updated] = second.json()["logs"][0]["updated_excursions"]
    assert (updated["id"], updated["ended_at"] is not None) == (ongoing["id"], True)


def test_a_gateway_batch_naming_no_scope_or_two_is_refused(api: Api) -> None:
    flow = vaccine_shipment(api)
    reading = {"time": flow.shipped_at.isoformat(), "value": 5}
    for scope in ({}, {"shipment_id": flow.shipment_id, "location_id": 1}, {"gtin": flow.gtin}):
        body = {"logs": [{"device_id": "T1", "scope": scope, "readings": [reading]}]}
        reply = api.client.post("/api/v1/temperature/readings", json=body, headers=api.auth(flow.maker_token))
        assert reply.status_code == 422, scope


def test_only_the_sender_or_receiver_records_a_shipment_and_others_do_not_see_its_excursions(api: Api) -> None:
    flow = vaccine_shipment(api)
    _outsider, outsider_token = api.org("另一家门诊", "vaccinator")
    content = logger_csv(flow.shipped_at, [(0, 120, 12.0), (120, 130, 5.0)])
    refused = upload(api, outsider_token, flow.shipment_id, content)
    assert (refused.status_code, refused.json()["error"]) == (403, "NotRecorder")
    [found] = upload(api, flow.clinic_token, flow.shipment_id, content).json()["logs"][0]["new_excursions"]
    hidden = api.client.get(f"/api/v1/excursions/{found['id']}", headers=api.auth(outsider_token))
    assert (hidden.status_code, hidden.json()["error"]) == (404, "UnknownExcursion")
    assert api.client.get("/api/v1/excursions", headers=api.auth(outsider_token)).json() == []
    for token in (flow.maker_token, flow.clinic_token, api.regulator_token):
        assert [e["id"] for e in api.client.get("/api/v1/excursions", headers=api.auth(token)).json()] == [found["id"]]


def test_a_regulator_filters_excursions_by_standing_product_holder_and_region(api: Api) -> None:
    flow = vaccine_shipment(api)
    upload(api, flow.maker_token, flow.shipment_id, logger_csv(flow.shipped_at, [(0, 120, 12.0), (120, 130, 5.0)]))
    imp, _mkt, beef_shipment_id, shipped_at = beef_shipment(api)
    upload(api, imp, beef_shipment_id, logger_csv(shipped_at, [(0, 60, -20.0), (100, 180, -20.0)]))
    place = api.client.post(
        "/api/v1/locations",
        headers=api.auth(flow.clinic_token),
        json={"name": "西湖区接种门诊冷库", "kind": "clinic", "region_code": "330106"},
    )
    assert place.status_code == 201, place.text

    def kinds(query: str) -> list[str]:
        reply = api.client.get(f"/api/v1/excursions?{query}", headers=api.auth(api.regulator_token))
        assert reply.status_code == 200, reply.text
        return sorted(e["kind"] for e in reply.json())

    assert kinds("status=open") == ["data_gap", "hot"]
    assert kinds("status=resolved") == []
    assert kinds(f"gtin={flow.gtin}") == ["hot"]
    assert kinds(f"holder={flow.clinic['uscc']}") == ["hot"]
    assert kinds("region=33") == ["hot"]
    assert kinds("region=3301") == ["hot"]
    assert kinds("region=11") == []


def test_a_regulator_makes_an_excursion_a_recall_candidate_and_nobody_else_may(api: Api) -> None:
    flow = vaccine_shipment(api)
    content = logger_csv(flow.shipped_at, [(0, 120, 12.0), (120, 130, 5.0)])
    [found] = upload(api, flow.maker_token, flow.shipment_id, content).json()["logs"][0]["new_excursions"]
    path = f"/api/v1/excursions/{found['id']}/recall-candidate"
    refused = api.client.post(path, headers=api.auth(flow.maker_token))
    assert (refused.status_code, refused.json()["error"]) == (403, "RoleRequired")
    listed = api.client.get("/api/v1/recalls/candidates", headers=api.auth(api.regulator_token)).json()
    assert listed == []
    made = api.client.post(path, headers=api.auth(api.regulator_token))
    assert made.json()["recall_candidate"] is True
    [candidate] = api.client.get("/api/v1/recalls/candidates", headers=api.auth(api.regulator_token)).json()
    assert (candidate["kind"], candidate["batch"]["lot"], candidate["inspected_by"]) == (
        "excursion",
        flow.lot,
        "某生物制品有限公司",
    )
    recall = api.client.post(
        f"/api/v1/recalls/candidates/{candidate['hold_id']}/confirm", headers=api.auth(api.regulator_token)
    )
    assert recall.status_code == 201, recall.text
    assert recall.json()["reason"].startswith("冷链温度异常 / cold-chain excursion: cold-chain excursion EX-")
    assert api.client.get("/api/v1/recalls/candidates", headers=api.auth(api.regulator_token)).json() == []


def test_a_release_while_the_excursion_goes_on_is_refused(api: Api) -> None:
    flow = vaccine_shipment(api)
    content = logger_csv(flow.shipped_at, [(0, 120, 12.0)])
    [found] = upload(api, flow.maker_token, flow.shipment_id, content).json()["logs"][0]["new_excursions"]
    reply = api.client.post(
        f"/api/v1/excursions/{found['id']}/release",
        headers=api.auth(api.regulator_token),
        data={"reason": "ok"},
        files={"evidence": ("note.pdf", b"%PDF-1.4 note", "application/pdf")},
    )
    assert (reply.status_code, reply.json()["error"]) == (409, "ExcursionOngoing")


def test_release_evidence_must_be_a_document_its_bytes_say_it_is(api: Api) -> None:
    flow = vaccine_shipment(api)
    content = logger_csv(flow.shipped_at, [(0, 120, 12.0), (120, 130, 5.0)])
    [found] = upload(api, flow.maker_token, flow.shipment_id, content).json()["logs"][0]["new_excursions"]
    reply = api.client.post(
        f"/api/v1/excursions/{found['id']}/release",
        headers=api.auth(flow.maker_token),
        data={"reason": "ok"},
        files={"evidence": ("note.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")},
    )
    assert (reply.status_code, reply.json()["error"]) == (415, "UnsupportedMediaType")


def test_a_product_s_profile_is_derived_and_its_owner_may_choose_another(api: Api) -> None:
    flow = vaccine_shipment(api)
    path = f"/api/v1/products/{flow.gtin}/cold-chain-profile"
    derived = api.client.get(path, headers=api.auth(flow.clinic_token)).json()
    assert (derived["profile"], derived["chosen"], derived["min_c"], derived["max_c"]) == ("vaccine", False, 2, 8)
    assert "who_heat_30c_10h" in [r["name"] for r in derived["rules"]]
    refused = api.client.put(path, headers=api.auth(flow.clinic_token), json={"profile": "vaccine_freeze_sensitive"})
    assert (refused.status_code, refused.json()["error"]) == (403, "RoleRequired")
    chosen = api.client.put(path, headers=api.auth(flow.maker_token), json={"profile": "vaccine_freeze_sensitive"})
    assert (chosen.json()["profile"], chosen.json()["chosen"]) == ("vaccine_freeze_sensitive", True)
    assert "frozen_vial" in [r["name"] for r in chosen.json()["rules"]]
    # Freezing now counts: a dip to 0 °C for five minutes holds the vaccines.
    dip = logger_csv(flow.shipped_at, [(0, 30, 4.0), (30, 35, 0.0), (35, 60, 4.0)])
    [frozen] = upload(api, flow.maker_token, flow.shipment_id, dip).json()["logs"][0]["new_excursions"]
    assert frozen["rules"] == ["frozen_vial"]


def test_a_logger_file_the_ledger_cannot_read_is_refused_with_its_row(api: Api) -> None:
    flow = vaccine_shipment(api)
    reply = upload(api, flow.maker_token, flow.shipment_id, "时间,温度\n2026-11-27 08:00,warm\n".encode())
    assert (reply.status_code, reply.json()["error"]) == (422, "InvalidInput")
    assert "row 2" in reply.json()["detail"]


def test_a_clinic_fridge_s_logger_holds_every_vaccine_the_clinic_has_on_hand(api: Api) -> None:
    flow = vaccine_shipment(api)
    scan(api, flow.clinic_token, {"action": "receive", "shipment_id": flow.shipment_id})
    fridge = api.client.post(
        "/api/v1/locations", headers=api.auth(flow.clinic_token), json={"name": "2号冰箱", "kind": "clinic"}
    ).json()
    content = logger_csv(flow.shipped_at + timedelta(hours=6), [(0, 60, 4.0), (60, 150, 9.5), (150, 160, 4.0)])
    reply = api.client.post(
        f"/api/v1/temperature/files?location_id={fridge['id']}&interval_s=300",
        headers=api.auth(flow.clinic_token),
        files={"file": ("fridge.csv", content, "text/csv")},
    )
    assert reply.status_code == 201, reply.text
    [found] = reply.json()["logs"][0]["new_excursions"]
    excursion = api.client.get(f"/api/v1/excursions/{found['id']}", headers=api.auth(flow.clinic_token)).json()
    assert (excursion["location_id"], excursion["shipment_id"], excursion["holder"]) == (
        fridge["id"],
        None,
        "西湖区接种门诊",
    )
    assert [(g["lot"], g["quantity"]) for g in excursion["goods"]] == [(flow.lot, 20)]
    someone_else = api.client.post(
        f"/api/v1/temperature/files?location_id={fridge['id']}",
        headers=api.auth(flow.maker_token),
        files={"file": ("fridge.csv", content, "text/csv")},
    )
    assert (someone_else.status_code, someone_else.json()["error"]) == (403, "NotRecorder")
