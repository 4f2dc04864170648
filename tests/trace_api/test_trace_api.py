"""The journey of a code over HTTP: the consumer's redacted view, and each organisation's own view."""

from __future__ import annotations

from tests.trace_api.conftest import Api
from tests.trace_api.test_scans_api import setup_chain


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


def test_a_holder_sees_its_own_steps_in_full_and_a_stranger_sees_nothing(api: Api) -> None:
    net = setup_chain(api)
    ship_and_receive(api, net, 7)
    code = f"(01){net['gtin']}(10)BR2026A"
    mine = api.client.get(f"/api/v1/trace/{code}", headers=api.auth(str(net["mkt"])))
    assert mine.status_code == 200, mine.text
    receiving = next(s for s in mine.json()["journey"] if s["step"] == "receiving")
    assert receiving["movements"][0]["quantity"] == 7
    _other, token = api.org("无关超市", "retailer")
    assert api.client.get(f"/api/v1/trace/{code}", headers=api.auth(token)).status_code == 404
    regulator = api.client.get(f"/api/v1/trace/{code}", headers=api.auth(api.regulator_token))
    assert all("movements" in s for s in regulator.json()["journey"])
