"""Per-organisation authorisation on every object endpoint: another organisation's token sees nothing and
changes nothing; role rules hold; expired tokens are refused."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger.models import Organisation, utcnow
from ledger.registry import issue_token
from tests.trace_api.batches.test_documents_api import PDF
from tests.trace_api.client import Api
from tests.trace_api.network import setup_chain


def test_every_object_endpoint_refuses_another_organisations_token(api: Api) -> None:
    net = setup_chain(api)
    owner = str(net["imp"])
    batch_id = net["batch"]["id"]  # type: ignore[index]
    run = api.client.post(f"/api/v1/batches/{batch_id}/codes", json={"count": 3}, headers=api.auth(owner)).json()
    code = api.client.get(f"/api/v1/batches/{batch_id}/codes", headers=api.auth(owner)).json()[0]["digital_link"]
    _stranger, token = api.org("无关的超市", "retailer")
    other = api.auth(token)
    attempts = [
        api.client.get(f"/api/v1/batches/{batch_id}", headers=other),
        api.client.get(f"/api/v1/batches/{batch_id}/documents", headers=other),
        api.client.post(
            f"/api/v1/batches/{batch_id}/documents",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("x.pdf", PDF, "application/pdf")},
            data={"kind": "other"},
        ),
        api.client.get(f"/api/v1/batches/{batch_id}/codes", headers=other),
        api.client.post(f"/api/v1/batches/{batch_id}/codes", json={"count": 1}, headers=other),
        api.client.get(f"/api/v1/code-runs/{run['id']}", headers=other),
        api.client.get(f"/api/v1/trace/{code}", headers=other),
    ]
    for reply in attempts:
        assert reply.status_code in (403, 404), (reply.request.url, reply.text)
    assert [b["id"] for b in api.client.get("/api/v1/batches", headers=other).json()] == []


def test_goods_held_by_another_organisation_cannot_be_moved(api: Api) -> None:
    net = setup_chain(api)
    _thief, token = api.org("冒用者", "distributor")
    line = {"gtin": net["gtin"], "lot": "BR2026A", "quantity": 1}
    for body in (
        {"action": "sell", "lines": [line]},
        {"action": "ship", "to_org": net["market"]["uscc"], "lines": [line]},
    ):  # type: ignore[index]
        reply = api.client.post("/api/v1/scans", json=body, headers=api.auth(token))
        assert reply.status_code in (403, 409), reply.text
    shipped = api.client.post(
        "/api/v1/scans",
        headers=api.auth(str(net["imp"])),
        json={"action": "ship", "to_org": net["market"]["uscc"], "lines": [{**line, "quantity": 3}]},
    )  # type: ignore[index]
    hijack = api.client.post(
        "/api/v1/scans",
        headers=api.auth(token),
        json={"action": "receive", "shipment_id": shipped.json()["results"][0]["shipment_id"]},
    )
    assert (hijack.status_code, hijack.json()["error"]) == (409, "ShipmentMismatch")


def test_role_rules_hold(api: Api) -> None:
    _retailer, token = api.org("超市", "retailer")
    product = api.client.post("/api/v1/products", headers=api.auth(token), json={"name": "x", "category": "vaccine"})
    assert (product.status_code, product.json()["error"]) == (403, "RoleRequired")
    org = api.client.post(
        "/api/v1/orgs",
        headers=api.auth(token),
        json={"name": "x", "uscc": "91350100M000100Y43", "roles": ["regulator"]},
    )
    assert (org.status_code, org.json()["error"]) == (403, "RoleRequired")


def test_an_expired_token_is_refused(api: Api, session_factory: sessionmaker[Session]) -> None:
    org, _token = api.org("临时账户", "retailer")
    with session_factory() as session:
        row = session.scalar(select(Organisation).where(Organisation.id == org["id"]))
        assert row is not None
        expired = issue_token(session, row, label="expired", expires_at=utcnow() - timedelta(minutes=1))
        session.commit()
    reply = api.client.get("/api/v1/orgs/me", headers={"Authorization": f"Bearer {expired}"})
    assert (reply.status_code, reply.json()["error"]) == (401, "NotAuthenticated")
    assert reply.json()["detail"] == "token expired"
