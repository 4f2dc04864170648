"""The consumer's view of a code as JSON: the journey without quantities, and unknown codes refused."""

from __future__ import annotations

from tests.trace_api.client import Api
from tests.trace_api.network import setup_chain, ship_and_receive


def test_the_consumer_json_shows_the_journey_without_quantities(api: Api) -> None:
    net = setup_chain(api)
    ship_and_receive(api, net, 12)
    reply = api.client.get(f"/01/{net['gtin']}/10/BR2026A", headers={"Accept": "application/json"})
    assert reply.status_code == 200, reply.text
    view = reply.json()
    assert [s["step"] for s in view["journey"]] == ["commissioning", "shipping", "receiving"]
    assert view["product"]["name"] == "冷冻牛肉"
    assert view["batch"]["certificates"]["origin_country"] == "BR"
    assert view["status"]["warnings"] == []
    assert "quantity" not in reply.text
    assert "uscc" not in reply.text


def test_a_code_never_issued_is_reported_as_unknown(api: Api) -> None:
    net = setup_chain(api)
    reply = api.client.get(f"/01/{net['gtin']}/10/BR2026A/21/NEVERISSUED1", headers={"Accept": "application/json"})
    assert (reply.status_code, reply.json()["error"]) == (404, "UnknownCode")
    reply = api.client.get(f"/01/{net['gtin']}/10/NOSUCHLOT", headers={"Accept": "application/json"})
    assert reply.status_code == 404
