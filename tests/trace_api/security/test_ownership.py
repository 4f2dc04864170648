"""GTINs and locations belong to organisations, and access is decided by organisation id (issue #12)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.models import Batch, Event
from tests.trace_api.client import Api
from tests.trace_api.network import COLD, build_traced_network, setup_chain


def location(api: Api, token: str, name: str = "冷库") -> int:
    reply = api.client.post("/api/v1/locations", headers=api.auth(token), json={"name": name, "kind": "cold_store"})
    assert reply.status_code == 201, reply.text
    location_id: int = reply.json()["id"]
    return location_id


def counts(sessions: sessionmaker[Session]) -> tuple[int, int]:
    """Batches and events in the ledger, read in a session of its own (a held one would lock SQLite's writers)."""
    with sessions() as db:
        batches = db.scalar(select(func.count()).select_from(Batch)) or 0
        return batches, db.scalar(select(func.count()).select_from(Event)) or 0


def test_a_batch_under_another_organisations_gtin_is_refused_and_nothing_is_written(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    net = setup_chain(api)
    _rival, rival = api.org("另一家进口商", "producer")
    before = counts(session_factory)
    reply = api.client.post(
        "/api/v1/batches", headers=api.auth(rival), json={"gtin": net["gtin"], "lot": "BR2026B", "quantity": 5, **COLD}
    )
    assert (reply.status_code, reply.json()["error"], reply.json()["context"]["field"]) == (403, "NotOwner", "gtin")
    assert counts(session_factory) == before
    mine = api.client.post(
        "/api/v1/batches",
        headers=api.auth(str(net["imp"])),
        json={"gtin": net["gtin"], "lot": "BR2026B", "quantity": 5, **COLD},
    )
    assert mine.status_code == 201, mine.text


def test_a_batch_at_another_organisations_or_an_unknown_location_is_refused_naming_the_field(api: Api) -> None:
    net = setup_chain(api)
    theirs = location(api, str(net["mkt"]))
    body = {"gtin": net["gtin"], "quantity": 5, **COLD}
    owner = api.auth(str(net["imp"]))
    foreign = api.client.post("/api/v1/batches", headers=owner, json={**body, "lot": "L-F", "location_id": theirs})
    assert (foreign.status_code, foreign.json()["error"]) == (403, "NotOwner")
    assert foreign.json()["context"] == {"field": "location_id", "location_id": theirs}
    unknown = api.client.post("/api/v1/batches", headers=owner, json={**body, "lot": "L-U", "location_id": 999_999})
    assert (unknown.status_code, unknown.json()["error"], unknown.json()["context"]["field"]) == (
        404,
        "UnknownLocation",
        "location_id",
    )
    own = location(api, str(net["imp"]))
    assert (
        api.client.post("/api/v1/batches", headers=owner, json={**body, "lot": "L-O", "location_id": own}).status_code
        == 201
    )


def test_a_scan_at_another_organisations_or_an_unknown_location_is_refused(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    net = setup_chain(api)
    theirs = location(api, str(net["mkt"]))
    sell: dict[str, Any] = {"action": "sell", "lines": [{"gtin": net["gtin"], "lot": "BR2026A", "quantity": 1}]}
    before = counts(session_factory)
    owner = str(net["imp"])
    foreign = api.client.post("/api/v1/scans", headers=api.auth(owner), json={**sell, "location_id": theirs})
    assert (foreign.status_code, foreign.json()["error"]) == (403, "NotOwner"), foreign.text
    unknown = api.client.post("/api/v1/scans", headers=api.auth(owner), json={**sell, "location_id": 2**40})
    assert (unknown.status_code, unknown.json()["error"]) == (404, "UnknownLocation"), unknown.text
    assert counts(session_factory) == before
    own = location(api, owner)
    assert (
        api.client.post("/api/v1/scans", headers=api.auth(owner), json={**sell, "location_id": own}).status_code == 201
    )


def test_trace_access_goes_by_organisation_id_not_by_a_shared_display_name(api: Api) -> None:
    net = build_traced_network(api)
    code_of_batch = f"/api/v1/trace/https://trace.example.cn/01/{net['gtin']}/10/BR2026A"
    # Same display name as the shop that held the goods, but another organisation.
    _namesake, token = api.org("联华超市", "retailer")
    refused = api.client.get(code_of_batch, headers=api.auth(token))
    assert (refused.status_code, refused.json()["error"]) == (404, "UnknownCode")
    held = api.client.get(code_of_batch, headers=api.auth(net["shop_token"]))
    assert held.status_code == 200, held.text
    full = [step for step in held.json()["journey"] if "movements" in step]
    assert full
    assert all(
        any("联华超市" in (m["from"], m["to"]) for m in step["movements"]) or step["by"]["name"] == "联华超市"
        for step in full
    )
