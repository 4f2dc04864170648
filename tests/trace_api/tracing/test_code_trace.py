"""The journey of a code for each organisation: its own steps in full, nothing for a stranger, all for a
regulator."""

from __future__ import annotations

from tests.trace_api.client import Api
from tests.trace_api.network import setup_chain, ship_and_receive


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
