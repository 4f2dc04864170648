"""Undoing a mistaken sale: its own event, by the seller, within ten days, and the pack can be sold again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from ledger.models import Code, Event, Holding
from tests.trace_api.client import Api
from tests.trace_api.trust_network import JSON, coded_network, path_of


def _undo(api: Api, token: str, code: str) -> httpx.Response:
    return api.client.post("/api/v1/sales/undo", json={"codes": [code]}, headers=api.auth(token))


def test_the_seller_undoes_a_mistaken_sale_as_an_event_of_its_own_and_sells_the_pack_again(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    net = coded_network(api)
    undone = _undo(api, net["shop_token"], net["links"][0])
    assert undone.status_code == 201, undone.text
    answer = undone.json()
    view = api.client.get(path_of(net["links"][0]), headers=JSON).json()
    assert view["status"]["item_status"] == "active"
    steps = [s["step"] for s in view["journey"]]
    assert steps[-2:] == ["retail_selling", "stocking"]
    assert answer["voided"] == [view["journey"][-2]["event_id"]]
    with session_factory() as session:
        event = session.scalar(select(Event).where(Event.event_id == answer["event_id"]))
        assert event is not None
        assert (event.biz_step, event.disposition) == ("stocking", "sellable_accessible")
        holding = session.scalar(select(Holding).where(Holding.batch_id == net["batch"]["id"], Holding.consumed != 0))
        assert holding is None  # the sale's count is reversed
    again = api.client.post(
        "/api/v1/scans", json={"action": "sell", "codes": [net["links"][0]]}, headers=api.auth(net["shop_token"])
    )
    assert again.status_code == 201, again.text


def test_only_the_seller_undoes_a_sale_only_once_and_only_within_ten_days(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    net = coded_network(api)
    _other, other_token = api.org("另一家超市", "retailer")
    stranger = _undo(api, other_token, net["links"][0])
    assert (stranger.status_code, stranger.json()["error"]) == (409, "NotHolder")
    unsold = _undo(api, net["shop_token"], net["links"][1])
    assert (unsold.status_code, unsold.json()["error"]) == (409, "InvalidTransition")
    with session_factory() as session:
        session.execute(
            update(Code).where(Code.status == "sold").values(consumed_at=datetime.now(UTC) - timedelta(days=11))
        )
        session.commit()
    late = _undo(api, net["shop_token"], net["links"][0])
    assert (late.status_code, late.json()["error"]) == (409, "InvalidTransition")
    assert "10 days" in late.json()["detail"]
