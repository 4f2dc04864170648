"""Forward and back traces over HTTP, on a network built with real scans."""

from __future__ import annotations

from typing import Any

from tests.trace_api.client import Api
from tests.trace_api.network import by_org


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
