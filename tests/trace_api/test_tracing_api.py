"""Forward and back traces and investigations over HTTP, on a network built with real scans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.trace_api.conftest import Api
from tests.trace_api.test_scans_api import setup_chain


def scan(api: Api, token: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = api.client.post("/api/v1/scans", json=body, headers=api.auth(token))
    assert reply.status_code == 201, reply.text
    result: dict[str, Any] = reply.json()["results"][0]
    return result


@pytest.fixture
def net(api: Api) -> dict[str, Any]:
    return build_traced_network(api)


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


def test_regulator_sees_every_holder_downstream_including_the_transformation_output(
    api: Api, net: dict[str, Any]
) -> None:
    reply = api.client.get(
        "/api/v1/trace/forward",
        params={"gtin": net["gtin"], "lot": "BR2026A"},
        headers=api.auth(api.regulator_token),
    )
    assert reply.status_code == 200, reply.text
    trace = reply.json()
    assert {b["lot"] for b in trace["batches"]} == {"BR2026A", "CUT-1"}
    beef = by_org(trace, "BR2026A")
    assert set(beef) == {"进口商", "一级批发市场", "联华超市"}
    market = beef["一级批发市场"]
    assert (market["received"], market["shipped"], market["transformed"], market["on_hand"]) == (42, 10, 5, 27)
    assert [(s["org"]["name"], s["quantity"]) for s in market["sent_to"]] == [("联华超市", 10)]
    assert [(s["org"]["name"], s["quantity"]) for s in beef["联华超市"]["sent_to"]] == [("一级批发市场", 2)]
    assert beef["联华超市"]["path"] == ["进口商", "一级批发市场", "联华超市"]
    cut = by_org(trace, "CUT-1")
    assert (set(cut), cut["一级批发市场"]["on_hand"]) == ({"一级批发市场"}, 20)
    kinds = sorted(e["kind"] for e in trace["edges"])
    assert kinds.count("receive") == 3
    assert kinds.count("transform_out") == 1
    assert all(e["event_id"].startswith("ni:///sha-256;") for e in trace["edges"])


def test_back_trace_of_a_cut_batch_reaches_the_importer_through_its_input(api: Api, net: dict[str, Any]) -> None:
    reply = api.client.get(
        "/api/v1/trace/back",
        params={"code": f"https://id.gs1.org/01/{net['cuts']['gtin']}/10/CUT-1"},
        headers=api.auth(net["mkt"]),
    )
    assert reply.status_code == 200, reply.text
    trace = reply.json()
    assert set(by_org(trace, "BR2026A")) == {"进口商", "一级批发市场", "联华超市"}
    assert by_org(trace, "CUT-1")["一级批发市场"]["path"] == ["进口商", "一级批发市场"]


def test_an_organisation_that_never_held_the_batch_is_refused(api: Api, net: dict[str, Any]) -> None:
    params = {"gtin": net["gtin"], "lot": "BR2026A"}
    refused = api.client.get("/api/v1/trace/forward", params=params, headers=api.auth(net["outsider_token"]))
    assert refused.status_code == 403
    assert refused.json()["error"] == "RoleRequired"
    allowed = api.client.get("/api/v1/trace/forward", params=params, headers=api.auth(net["shop_token"]))
    assert allowed.status_code == 200


def test_unknown_batch_is_404_and_a_missing_lot_is_422(api: Api, net: dict[str, Any]) -> None:
    headers = api.auth(api.regulator_token)
    unknown = api.client.get("/api/v1/trace/back", params={"gtin": net["gtin"], "lot": "NOPE"}, headers=headers)
    assert (unknown.status_code, unknown.json()["error"]) == (404, "UnknownBatch")
    partial = api.client.get("/api/v1/trace/forward", params={"gtin": net["gtin"]}, headers=headers)
    assert (partial.status_code, partial.json()["error"]) == (422, "InvalidInput")


def test_the_item_journey_route_still_answers_next_to_the_trace_routes(api: Api, net: dict[str, Any]) -> None:
    code = f"https://id.gs1.org/01/{net['gtin']}/10/BR2026A"
    reply = api.client.get(f"/api/v1/trace/{code}", headers=api.auth(api.regulator_token))
    assert reply.status_code == 200, reply.text
    assert "journey" in reply.json()


def test_investigation_at_the_shop_finds_the_batch_its_sources_and_other_holders(api: Api, net: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    body = {
        "org_uscc": net["shop"]["uscc"],
        "since": (now - timedelta(hours=1)).isoformat(),
        "until": (now + timedelta(minutes=1)).isoformat(),
    }
    reply = api.client.post("/api/v1/investigations", json=body, headers=api.auth(api.regulator_token))
    assert reply.status_code == 200, reply.text
    found = reply.json()
    assert [(p["lot"], p["arrived_in_window"]) for p in found["present"]] == [("BR2026A", 10)]
    assert {o["name"] for o in found["other_holders"]} == {"进口商", "一级批发市场"}
    assert {b["lot"] for b in found["spread"]["batches"]} == {"BR2026A", "CUT-1"}
    assert {h["org"]["name"] for h in found["sources"]["holders"]} == {"进口商", "一级批发市场", "联华超市"}


def test_an_investigation_lists_holders_with_goods_on_hand_first_up_to_the_limit_and_counts_all(
    api: Api, net: dict[str, Any]
) -> None:
    now = datetime.now(UTC)
    window = {"since": (now - timedelta(hours=1)).isoformat(), "until": (now + timedelta(minutes=1)).isoformat()}
    place = {"org_uscc": net["shop"]["uscc"], **window}
    headers = api.auth(api.regulator_token)

    full = api.client.post("/api/v1/investigations", json={**place, "edges": True}, headers=headers).json()
    capped = api.client.post("/api/v1/investigations", json={**place, "max_holders": 1}, headers=headers).json()

    for trace in ("sources", "spread"):
        everyone = full[trace]["holders"]
        assert full[trace]["holders_total"] == len(everyone) > 1
        assert full[trace]["edges"] != []
        assert capped[trace]["edges"] == []  # edges only when asked for
        most = max(everyone, key=lambda h: h["on_hand"])["on_hand"]
        [listed] = capped[trace]["holders"]
        assert (listed["on_hand"], capped[trace]["holders_total"]) == (most, len(everyone))
    assert capped["other_holders"] == full["other_holders"]
    too_many = api.client.post("/api/v1/investigations", json={**place, "max_holders": 0}, headers=headers)
    assert too_many.status_code == 422
    assert "max_holders" in too_many.text


def test_investigation_before_anything_arrived_finds_nothing(api: Api, net: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    body = {
        "org_uscc": net["shop"]["uscc"],
        "since": (now - timedelta(days=3)).isoformat(),
        "until": (now - timedelta(days=2)).isoformat(),
    }
    reply = api.client.post("/api/v1/investigations", json=body, headers=api.auth(api.regulator_token))
    assert reply.status_code == 200, reply.text
    assert (reply.json()["present"], reply.json()["other_holders"]) == ([], [])


def test_only_regulators_investigate_and_the_place_must_be_one(api: Api, net: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    window = {"since": (now - timedelta(hours=1)).isoformat(), "until": now.isoformat()}
    body = {"org_uscc": net["shop"]["uscc"], **window}
    refused = api.client.post("/api/v1/investigations", json=body, headers=api.auth(net["mkt"]))
    assert (refused.status_code, refused.json()["error"]) == (403, "RoleRequired")
    both = api.client.post(
        "/api/v1/investigations", json={**body, "location_id": 1}, headers=api.auth(api.regulator_token)
    )
    assert both.status_code == 422
    unknown = api.client.post(
        "/api/v1/investigations", json={"location_id": 999_999, **window}, headers=api.auth(api.regulator_token)
    )
    assert (unknown.status_code, unknown.json()["error"]) == (404, "NotFound")
