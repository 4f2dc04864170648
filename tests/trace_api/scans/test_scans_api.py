"""Scans over HTTP: the ledger's rules answer as 4xx with a machine-readable reason, and retries are idempotent."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.models import Event
from tests.trace_api.client import Api
from tests.trace_api.network import setup_chain


def test_a_scan_retried_with_the_same_key_is_recorded_once(api: Api, session_factory: sessionmaker[Session]) -> None:
    net = setup_chain(api)
    body = {
        "action": "ship",
        "to_org": net["market"]["uscc"],  # type: ignore[index]
        "lines": [{"gtin": net["gtin"], "lot": "BR2026A", "quantity": 10}],
    }
    headers = api.auth(str(net["imp"]), key="ship-0001-retry")
    first = api.client.post("/api/v1/scans", json=body, headers=headers)
    second = api.client.post("/api/v1/scans", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    with session_factory() as s:
        ships = s.scalar(select(func.count()).select_from(Event).where(Event.biz_step == "shipping"))
    assert ships == 1


def test_the_same_key_for_a_different_scan_is_refused(api: Api) -> None:
    net = setup_chain(api)
    line = {"gtin": net["gtin"], "lot": "BR2026A", "quantity": 1}
    headers = api.auth(str(net["imp"]), key="reused-key-0001")
    ok = api.client.post("/api/v1/scans", json={"action": "sell", "lines": [line]}, headers=headers)
    assert ok.status_code == 201, ok.text
    again = api.client.post("/api/v1/scans", json={"action": "destroy", "lines": [line]}, headers=headers)
    assert again.status_code == 409
    assert again.json()["error"] == "IdempotencyKeyReused"


def test_shipping_more_than_held_is_a_409_with_the_reason(api: Api) -> None:
    net = setup_chain(api)
    reply = api.client.post(
        "/api/v1/scans",
        headers=api.auth(str(net["imp"])),
        json={
            "action": "ship",
            "to_org": net["market"]["uscc"],  # type: ignore[index]
            "lines": [{"gtin": net["gtin"], "lot": "BR2026A", "quantity": 101}],
        },
    )
    assert reply.status_code == 409
    assert reply.json()["error"] == "QuantityExceeded"
    assert reply.json()["context"] == {"batch_id": net["batch"]["id"], "requested": 101, "on_hand": 100}  # type: ignore[index]


def test_a_list_of_scans_is_all_or_nothing(api: Api, session_factory: sessionmaker[Session]) -> None:
    net = setup_chain(api)
    with session_factory() as s:
        before = s.scalar(select(func.count()).select_from(Event))
    line = {"gtin": net["gtin"], "lot": "BR2026A"}
    reply = api.client.post(
        "/api/v1/scans",
        headers=api.auth(str(net["imp"])),
        json={
            "scans": [
                {"action": "sell", "lines": [{**line, "quantity": 60}]},
                {"action": "sell", "lines": [{**line, "quantity": 60}]},
            ]
        },
    )
    assert reply.status_code == 409
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Event)) == before


def test_malformed_input_is_a_422_naming_the_field(api: Api) -> None:
    net = setup_chain(api)
    bad = [
        ({"action": "sell", "lines": [{"gtin": "12345678901234", "lot": "X", "quantity": 1}]}, "InvalidGTIN"),
        ({"action": "sell", "lines": [{"gtin": net["gtin"], "lot": "BR2026A", "quantity": -1}]}, "InvalidRequest"),
        ({"action": "sell", "lines": [{"gtin": net["gtin"], "lot": "BR2026A", "quantity": 1.5}]}, "InvalidRequest"),
        ({"action": "sell", "codes": ["https://x.cn/01/123/21/ABC"]}, "InvalidDigitalLink"),
        ({"action": "sell", "lines": [], "codes": []}, "InvalidRequest"),
        ({"action": "teleport", "codes": []}, "InvalidRequest"),
        (
            {"action": "sell", "lines": [{"gtin": net["gtin"], "lot": "BR2026A", "quantity": 1}], "price": 3},
            "InvalidRequest",
        ),
    ]
    for body, reason in bad:
        reply = api.client.post("/api/v1/scans", json=body, headers=api.auth(str(net["imp"])))
        assert reply.status_code == 422, (body, reply.text)
        assert reply.json()["error"] == reason, (body, reply.json())


def test_a_retailer_cannot_administer_and_a_non_regulator_cannot_register_orgs(api: Api) -> None:
    net = setup_chain(api)
    reply = api.client.post(
        "/api/v1/scans",
        headers=api.auth(str(net["mkt"])),
        json={"action": "administer", "lines": [{"gtin": net["gtin"], "lot": "BR2026A", "quantity": 1}]},
    )
    assert (reply.status_code, reply.json()["error"]) == (403, "RoleRequired")
    org = api.client.post(
        "/api/v1/orgs",
        headers=api.auth(str(net["imp"])),
        json={"name": "x", "uscc": "91350100M000100Y43", "roles": ["retailer"]},
    )
    assert (org.status_code, org.json()["error"]) == (403, "RoleRequired")


def test_requests_without_a_valid_token_are_401(api: Api) -> None:
    assert api.client.get("/api/v1/orgs/me").status_code == 401
    reply = api.client.get("/api/v1/orgs/me", headers={"Authorization": "Bearer ll_not-a-token"})
    assert (reply.status_code, reply.json()["error"]) == (401, "NotAuthenticated")


def test_another_organisations_batch_is_not_found(api: Api) -> None:
    net = setup_chain(api)
    _stranger, token = api.org("别家超市", "retailer")
    batch_id = net["batch"]["id"]  # type: ignore[index]
    assert api.client.get(f"/api/v1/batches/{batch_id}", headers=api.auth(token)).status_code == 404
    assert api.client.get(f"/api/v1/batches/{batch_id}", headers=api.auth(str(net["imp"]))).status_code == 200
    assert api.client.get(f"/api/v1/batches/{batch_id}", headers=api.auth(api.regulator_token)).status_code == 200
