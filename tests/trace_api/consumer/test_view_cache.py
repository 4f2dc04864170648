"""The consumer's view is answered from the cache only while nothing it shows has changed: a new event on the
batch, a recall opened or closed, an item's own scans each show at the very next lookup (trace_api/web/view_cache.py).
"""

from __future__ import annotations

from typing import Any

from tests.trace_api.client import Api
from tests.trace_api.network import scan, setup_chain, ship_and_receive
from trace_api.consumer.routes import VIEWS

JSON = {"Accept": "application/json"}


def look_up(api: Api, path: str) -> dict[str, Any]:
    reply = api.client.get(path, headers=JSON)
    assert reply.status_code == 200, reply.text
    answer: dict[str, Any] = reply.json()
    return answer


def test_a_new_event_on_the_batch_shows_at_the_next_lookup(api: Api) -> None:
    net = setup_chain(api)
    path = f"/01/{net['gtin']}/10/BR2026A"
    first = look_up(api, path)
    assert look_up(api, path) == first  # answered again, from the cache
    ship_and_receive(api, net, 12)
    after = look_up(api, path)
    assert [s["step"] for s in after["journey"]] == ["commissioning", "shipping", "receiving"]
    assert after["proof"]["event_count"] == first["proof"]["event_count"] + 2
    page = api.client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "text/html" in page.headers["content-type"]


def test_a_recall_opened_and_closed_shows_at_the_next_lookup(api: Api) -> None:
    net = setup_chain(api)
    path = f"/01/{net['gtin']}/10/BR2026A"
    assert look_up(api, path)["status"]["recalled"] is False
    body = {"batches": [{"gtin": net["gtin"], "lot": "BR2026A"}], "recall_class": 1, "reason": "李斯特菌阳性"}
    opened = api.client.post("/api/v1/recalls", json=body, headers=api.auth(api.regulator_token))
    assert opened.status_code == 201, opened.text
    recalled = look_up(api, path)["status"]
    assert (recalled["recalled"], recalled["recalls"]) == (True, [opened.json()["number"]])
    closed = api.client.post(
        f"/api/v1/recalls/{opened.json()['id']}/close",
        json={"reason": "全部召回完毕"},
        headers=api.auth(api.regulator_token),
    )
    assert closed.status_code == 200, closed.text
    assert look_up(api, path)["status"]["recalled"] is False


def test_an_item_shipped_on_its_own_shows_its_journey_at_the_next_lookup_and_others_keep_theirs(api: Api) -> None:
    net = setup_chain(api)
    issued = api.client.post(
        f"/api/v1/batches/{net['batch']['id']}/codes", json={"count": 2}, headers=api.auth(str(net["imp"]))
    )  # type: ignore[index]
    assert issued.status_code in (200, 201, 202), issued.text
    codes = api.client.get(f"/api/v1/batches/{net['batch']['id']}/codes", headers=api.auth(str(net["imp"])))  # type: ignore[index]
    links = [c["signed_link"] for c in codes.json()]
    paths = ["/" + link.split("/", 3)[3] for link in links]  # as the QR prints it, with the issuer's ?s=...
    before = [look_up(api, p)["status"]["item_status"] for p in paths]
    assert before == ["active", "active"]
    ship = scan(api, str(net["imp"]), {"action": "ship", "to_org": net["market"]["uscc"], "codes": [links[0]]})  # type: ignore[index]
    scan(api, str(net["mkt"]), {"action": "receive", "shipment_id": ship["shipment_id"]})
    assert [s["step"] for s in look_up(api, paths[0])["journey"]][-2:] == ["shipping", "receiving"]
    assert "shipping" not in [s["step"] for s in look_up(api, paths[1])["journey"]]
    assert len(VIEWS._views) > 0


def test_a_cached_view_is_answered_only_to_the_signature_it_was_checked_with(api: Api) -> None:
    net = setup_chain(api)
    issued = api.client.post(
        f"/api/v1/batches/{net['batch']['id']}/codes", json={"count": 1}, headers=api.auth(str(net["imp"]))
    )  # type: ignore[index]
    assert issued.status_code in (200, 201, 202), issued.text
    codes = api.client.get(f"/api/v1/batches/{net['batch']['id']}/codes", headers=api.auth(str(net["imp"])))  # type: ignore[index]
    genuine = "/" + codes.json()[0]["signed_link"].split("/", 3)[3]
    look_up(api, genuine)
    look_up(api, genuine)  # now cached
    bare, _, signature = genuine.partition("?s=")
    altered = f"{bare}?s={signature[:-2]}{'A' if signature[-2] != 'A' else 'B'}{signature[-1]}"
    for forged in (bare, altered):
        reply = api.client.get(forged, headers=JSON)
        assert (reply.status_code, reply.json()["error"]) == (404, "CodeNotGenuine"), reply.text
