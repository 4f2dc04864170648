"""A small network with item codes that travel importer → market → shop and are sold: the consumer-trust tests'
starting point (recall history, signatures, alerts)."""

from __future__ import annotations

from typing import Any

from tests.trace_api.client import Api
from tests.trace_api.network import scan, setup_chain

JSON = {"Accept": "application/json"}


def issue_codes(api: Api, token: str, batch_id: int, count: int) -> list[dict[str, Any]]:
    run = api.client.post(f"/api/v1/batches/{batch_id}/codes", json={"count": count}, headers=api.auth(token))
    assert run.status_code in (201, 202), run.text
    listed = api.client.get(f"/api/v1/batches/{batch_id}/codes", headers=api.auth(token))
    assert listed.status_code == 200, listed.text
    codes: list[dict[str, Any]] = listed.json()
    assert len(codes) == count
    return codes


def coded_network(api: Api, count: int = 4, declared: dict[str, str] | None = None) -> dict[str, Any]:
    """``count`` signed item codes of lot BR2026A at the shop (联华超市); the first is sold there."""
    net: dict[str, Any] = setup_chain(api, declared)
    shop, shop_token = api.org("联华超市", "retailer")
    codes = issue_codes(api, net["imp"], net["batch"]["id"], count)
    links = [c["signed_link"] for c in codes]
    shipped = scan(api, net["imp"], {"action": "ship", "to_org": net["market"]["uscc"], "codes": links})
    scan(api, net["mkt"], {"action": "receive", "shipment_id": shipped["shipment_id"]})
    shipped = scan(api, net["mkt"], {"action": "ship", "to_org": shop["uscc"], "codes": links})
    scan(api, shop_token, {"action": "receive", "shipment_id": shipped["shipment_id"]})
    scan(api, shop_token, {"action": "sell", "codes": [links[0]]})
    net.update(shop=shop, shop_token=shop_token, codes=codes, links=links)
    return net


def path_of(link: str) -> str:
    """The resolver path and query of a code's link, for the test client."""
    return link.removeprefix("https://trace.example.cn")


def open_recall(api: Api, lot: str, gtin: str, reason: str = "单增李斯特菌阳性") -> dict[str, Any]:
    body = {"batches": [{"gtin": gtin, "lot": lot}], "recall_class": 1, "reason": reason}
    reply = api.client.post("/api/v1/recalls", json=body, headers=api.auth(api.regulator_token))
    assert reply.status_code == 201, reply.text
    recall: dict[str, Any] = reply.json()
    return recall


def close_recall(api: Api, recall_id: int) -> None:
    reply = api.client.post(
        f"/api/v1/recalls/{recall_id}/close", json={"reason": "全部召回完毕"}, headers=api.auth(api.regulator_token)
    )
    assert reply.status_code == 200, reply.text
