"""Every object endpoint, read and write, called by another organisation, with no token and with a wrong token:
none of them shows or changes the owner's objects (issue #12). On SQLite and PostgreSQL (``db`` marker)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.trace_api.batches.test_documents_api import PDF
from tests.trace_api.client import Api
from tests.trace_api.network import COLD, build_traced_network


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: dict[str, Any] | None = None
    files: bool = False


def object_calls(api: Api, net: dict[str, Any]) -> list[Call]:
    """The owner's (the importer's) objects, by every endpoint that names one."""
    owner = api.auth(net["imp"])
    batch_id = net["batch"]["id"]
    run = api.client.post(f"/api/v1/batches/{batch_id}/codes", json={"count": 2}, headers=owner).json()
    code = api.client.get(f"/api/v1/batches/{batch_id}/codes", headers=owner).json()[0]
    recall = api.client.post(
        "/api/v1/recalls",
        headers=api.auth(api.regulator_token),
        json={"batches": [{"gtin": net["gtin"], "lot": "BR2026A"}], "recall_class": 2, "reason": "检出阳性"},
    )
    assert recall.status_code == 201, recall.text
    recall_id = recall.json()["id"]
    gtin, serial = net["gtin"], code["serial"]
    return [
        Call("GET", f"/api/v1/batches/{batch_id}"),
        Call("GET", f"/api/v1/batches/{batch_id}/documents"),
        Call("POST", f"/api/v1/batches/{batch_id}/documents", files=True),
        Call("GET", f"/api/v1/batches/{batch_id}/codes"),
        Call("POST", f"/api/v1/batches/{batch_id}/codes", json={"count": 1}),
        Call("GET", f"/api/v1/code-runs/{run['id']}"),
        Call("GET", f"/api/v1/batches/{batch_id}/codes/{serial}/label.png"),
        Call("GET", f"/api/v1/batches/{batch_id}/labels.pdf"),
        Call("GET", f"/api/v1/trace/{code['digital_link']}"),
        Call("GET", f"/api/v1/trace/forward?gtin={gtin}&lot=BR2026A"),
        Call("GET", f"/api/v1/trace/back?gtin={gtin}&lot=BR2026A"),
        Call("PUT", f"/api/v1/products/{gtin}/cold-chain-profile", json={"profile": "frozen"}),
        Call("POST", "/api/v1/batches", json={"gtin": gtin, "lot": "TAKEN-1", "quantity": 5, **COLD}),
        Call(
            "POST", "/api/v1/scans", json={"action": "sell", "lines": [{"gtin": gtin, "lot": "BR2026A", "quantity": 1}]}
        ),
        Call("GET", f"/api/v1/recalls/{recall_id}"),
        Call("POST", f"/api/v1/recalls/{recall_id}/close", json={"reason": "关闭"}),
        Call("GET", f"/api/v1/recalls/{recall_id}/export.csv"),
        Call("GET", f"/api/v1/recalls/{recall_id}/export.epcis.json"),
    ]


CALLERS = ("other tenant", "no token", "wrong token")


def headers_of(api: Api, caller: str, stranger_token: str) -> dict[str, str]:
    if caller == "no token":
        return {"Idempotency-Key": "k-none"}
    token = stranger_token if caller == "other tenant" else "ll_not-a-token-of-anyone"
    return api.auth(token)


@pytest.mark.parametrize("caller", CALLERS)
def test_no_object_endpoint_serves_or_changes_another_organisations_objects(api: Api, caller: str) -> None:
    net = build_traced_network(api)
    calls = object_calls(api, net)
    # A producer with a display name equal to the owner's: access goes by organisation id, never by name.
    _stranger, token = api.org("进口商", "producer", "distributor", "retailer")
    before = api.client.get(f"/api/v1/batches/{net['batch']['id']}", headers=api.auth(net["imp"])).json()
    expected = {"other tenant": {403, 404, 409}, "no token": {401}, "wrong token": {401}}[caller]
    for call in calls:
        files = {"file": ("x.pdf", PDF, "application/pdf")} if call.files else None
        reply = api.client.request(
            call.method,
            call.path,
            headers=headers_of(api, caller, token),
            json=call.json,
            files=files,
            data={"kind": "other"} if call.files else None,
        )
        assert reply.status_code in expected, (caller, call, reply.status_code, reply.text[:300])
    after = api.client.get(f"/api/v1/batches/{net['batch']['id']}", headers=api.auth(net["imp"])).json()
    assert after == before
    assert api.client.get("/api/v1/batches", headers=api.auth(token)).json() == []
