"""What the public (no token) is told, and what only the parties to an event and regulators see (issue #12)."""

from __future__ import annotations

from typing import Any

from tests.trace_api.client import Api
from tests.trace_api.network import build_traced_network

JSON = {"Accept": "application/json"}


def item_codes(api: Api, token: str, batch_id: int, count: int) -> list[dict[str, Any]]:
    reply = api.client.post(f"/api/v1/batches/{batch_id}/codes", headers=api.auth(token), json={"count": count})
    assert reply.status_code == 201, reply.text
    codes: list[dict[str, Any]] = api.client.get(f"/api/v1/batches/{batch_id}/codes", headers=api.auth(token)).json()
    return codes


def shipped_items(api: Api) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """Three items shipped by the importer to the market; the shipment's event id."""
    net = build_traced_network(api)
    codes = item_codes(api, net["imp"], net["batch"]["id"], 3)
    reply = api.client.post(
        "/api/v1/scans",
        headers=api.auth(net["imp"]),
        json={"action": "ship", "to_org": net["market"]["uscc"], "codes": [c["digital_link"] for c in codes]},
    )
    assert reply.status_code == 201, reply.text
    return net, codes, reply.json()["results"][0]["event_id"]


def test_the_public_resolver_answer_names_no_counterparty_and_no_other_serial(api: Api) -> None:
    net, codes, _shipped = shipped_items(api)
    mine, *others = codes
    path = mine["signed_link"].removeprefix("https://trace.example.cn")  # as the QR prints it
    view = api.client.get(path, headers=JSON)
    assert view.status_code == 200, view.text
    text = view.text
    for org in (net["importer"], net["market"], net["shop"]):
        assert org["uscc"] not in text
    assert mine["serial"] in text
    assert not [c["serial"] for c in others if c["serial"] in text]
    steps = view.json()["journey"]
    assert steps
    assert all(set(step) >= {"event_id", "region_code", "by", "anchored"} and "movements" not in step for step in steps)


def test_an_events_document_goes_only_to_its_parties_and_regulators(api: Api) -> None:
    net, codes, shipped = shipped_items(api)
    url = f"/api/v1/verify/events/{shipped}"
    public = api.client.get(url)
    assert public.status_code == 200, public.text
    assert public.json()["event"] is None
    assert public.json()["recomputed_hash"] == shipped
    assert net["market"]["uscc"] not in public.text
    assert codes[1]["serial"] not in public.text
    outsider = api.client.get(url, headers=api.auth(net["outsider_token"]))
    assert outsider.json()["event"] is None
    wrong = api.client.get(url, headers={"Authorization": "Bearer ll_not-a-token"})
    assert (wrong.status_code, wrong.json()["error"]) == (401, "NotAuthenticated")
    for token in (net["imp"], net["mkt"], api.regulator_token):
        party = api.client.get(url, headers=api.auth(token))
        assert party.json()["event"]["eventID"] == shipped, token
        assert len(party.json()["event"]["epcList"]) == 3
    page = api.client.get(f"/proof/{shipped.split(';')[1].split('?')[0]}")
    assert page.status_code == 200
    assert net["market"]["uscc"] not in page.text
    assert codes[1]["serial"] not in page.text
