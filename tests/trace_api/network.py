"""Helpers that build a small trade network over the API with real scans."""

from __future__ import annotations

from typing import Any

from tests.trace_api.client import Api

COLD = {
    "customs_declaration_no": "310120261000123456",
    "origin_country": "BR",
    "quarantine_cert_no": "BR-Q-1",
    "nucleic_acid_test_no": "NAT-1",
    "disinfection_cert_no": "DIS-1",
    "expiry_date": "2030-01-01",
}


def setup_chain(api: Api, declared: dict[str, str] | None = None) -> dict[str, object]:
    importer, imp_token = api.org("进口商", "producer")
    market, mkt_token = api.org("一级批发市场", "distributor")
    product = api.client.post(
        "/api/v1/products",
        headers=api.auth(imp_token),
        json={"name": "冷冻牛肉", "category": "cold_chain", "storage_max_c": -18},
    )
    assert product.status_code == 201, product.text
    gtin = product.json()["gtin"]
    batch = api.client.post(
        "/api/v1/batches",
        headers=api.auth(imp_token),
        json={"gtin": gtin, "lot": "BR2026A", "quantity": 100, **COLD, **(declared or {})},
    )
    assert batch.status_code == 201, batch.text
    return {
        "importer": importer,
        "imp": imp_token,
        "market": market,
        "mkt": mkt_token,
        "gtin": gtin,
        "batch": batch.json(),
    }


def scan(api: Api, token: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = api.client.post("/api/v1/scans", json=body, headers=api.auth(token))
    assert reply.status_code == 201, reply.text
    result: dict[str, Any] = reply.json()["results"][0]
    return result


def build_traced_network(api: Api) -> dict[str, Any]:
    """importer → market (40) → shop (10) → market (2, returned upstream); the market cuts 5 into a new batch."""
    net: dict[str, Any] = setup_chain(api)
    shop, shop_token = api.org("联华超市", "retailer")
    outsider, outsider_token = api.org("另一家超市", "retailer")
    line = {"gtin": net["gtin"], "lot": "BR2026A"}
    shipped = scan(
        api, net["imp"], {"action": "ship", "to_org": net["market"]["uscc"], "lines": [{**line, "quantity": 40}]}
    )
    scan(api, net["mkt"], {"action": "receive", "shipment_id": shipped["shipment_id"]})
    shipped = scan(api, net["mkt"], {"action": "ship", "to_org": shop["uscc"], "lines": [{**line, "quantity": 10}]})
    scan(api, shop_token, {"action": "receive", "shipment_id": shipped["shipment_id"]})
    returned = scan(
        api, shop_token, {"action": "ship", "to_org": net["market"]["uscc"], "lines": [{**line, "quantity": 2}]}
    )
    scan(api, net["mkt"], {"action": "receive", "shipment_id": returned["shipment_id"]})
    cuts = api.client.post(
        "/api/v1/products",
        headers=api.auth(net["imp"]),
        json={"name": "牛肉切块", "category": "cold_chain", "storage_max_c": -18},
    )
    assert cuts.status_code == 201, cuts.text
    output = {"gtin": cuts.json()["gtin"], "lot": "CUT-1", "quantity": 20}
    scan(api, net["mkt"], {"action": "transform", "lines": [{**line, "quantity": 5}], "output": output})
    net.update(shop=shop, shop_token=shop_token, outsider=outsider, outsider_token=outsider_token, cuts=output)
    return net


def by_org(trace: dict[str, Any], lot: str) -> dict[str, dict[str, Any]]:
    return {h["org"]["name"]: h for h in trace["holders"] if h["lot"] == lot}


def ship_and_receive(api: Api, net: dict[str, object], quantity: int) -> None:
    line = {"gtin": net["gtin"], "lot": "BR2026A", "quantity": quantity}
    ship = api.client.post(
        "/api/v1/scans",
        headers=api.auth(str(net["imp"])),
        json={"action": "ship", "to_org": net["market"]["uscc"], "lines": [line]},
    )  # type: ignore[index]
    assert ship.status_code == 201, ship.text
    shipment = ship.json()["results"][0]["shipment_id"]
    got = api.client.post(
        "/api/v1/scans", headers=api.auth(str(net["mkt"])), json={"action": "receive", "shipment_id": shipment}
    )
    assert got.status_code == 201, got.text
