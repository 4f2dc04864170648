"""Scans queued offline, sent as one list and answered line by line: one refusal leaves the others recorded, and a
resent scan, in the same list or another, is never recorded twice."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.models import Event
from tests.trace_api.client import Api
from tests.trace_api.network import setup_chain


def _sell(net: dict[str, Any], quantity: int) -> dict[str, Any]:
    return {"action": "sell", "lines": [{"gtin": net["gtin"], "lot": "BR2026A", "quantity": quantity}]}


def _line(scan: dict[str, Any], key: str | None = None) -> dict[str, Any]:
    return {"key": key or uuid.uuid4().hex, "scan": scan}


def _sales(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as s:
        return s.scalar(select(func.count()).select_from(Event).where(Event.biz_step == "retail_selling")) or 0


def test_each_line_is_answered_and_a_refusal_leaves_the_others_recorded(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    net = setup_chain(api)
    lines = [_line(_sell(net, 10)), _line(_sell(net, 500)), _line(_sell(net, 20))]
    reply = api.client.post("/api/v1/scans/lines", json={"scans": lines}, headers=api.auth(net["imp"]))
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    assert (answer["accepted"], answer["refused"]) == (2, 1)
    first, refused, third = answer["lines"]
    assert [line["key"] for line in answer["lines"]] == [line["key"] for line in lines]
    assert (first["outcome"], third["outcome"]) == ("accepted", "accepted")
    assert first["result"]["event_id"].startswith("ni:///sha-256;")
    assert (refused["index"], refused["outcome"], refused["error"]) == (1, "refused", "QuantityExceeded")
    assert refused["context"] == {"batch_id": net["batch"]["id"], "requested": 500, "on_hand": 90}
    assert _sales(session_factory) == 2


def test_a_list_resent_after_a_lost_answer_replays_and_records_nothing_more(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    net = setup_chain(api)
    body = {"scans": [_line(_sell(net, 5)), _line(_sell(net, 7))]}
    headers = api.auth(net["imp"])
    first = api.client.post("/api/v1/scans/lines", json=body, headers=headers)  # the answer is "lost"
    again = api.client.post("/api/v1/scans/lines", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert _sales(session_factory) == 2


def test_scans_resent_in_a_recut_list_replay_their_own_answers(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    """The phone lost the answer, the user scanned more, and the queue went out again as a new list."""
    net = setup_chain(api)
    sent = [_line(_sell(net, 5)), _line(_sell(net, 500))]
    first = api.client.post("/api/v1/scans/lines", json={"scans": sent}, headers=api.auth(net["imp"])).json()
    recut = [*sent, _line(_sell(net, 3))]
    second = api.client.post("/api/v1/scans/lines", json={"scans": recut}, headers=api.auth(net["imp"])).json()
    assert second["lines"][:2] == first["lines"], "both the acceptance and the refusal are replayed"
    assert second["lines"][2]["outcome"] == "accepted"
    assert _sales(session_factory) == 2


def test_a_key_reused_for_another_scan_is_refused_on_its_line(api: Api) -> None:
    net = setup_chain(api)
    api.client.post(
        "/api/v1/scans/lines", json={"scans": [_line(_sell(net, 5), "scan-key-0001")]}, headers=api.auth(net["imp"])
    )
    reply = api.client.post(
        "/api/v1/scans/lines",
        json={"scans": [_line(_sell(net, 6), "scan-key-0001"), _line(_sell(net, 1))]},
        headers=api.auth(net["imp"]),
    )
    reused, fresh = reply.json()["lines"]
    assert (reused["outcome"], reused["error"]) == ("refused", "IdempotencyKeyReused")
    assert fresh["outcome"] == "accepted"


def test_a_malformed_scan_is_refused_on_its_line_not_with_the_whole_queue(api: Api) -> None:
    net = setup_chain(api)
    future = {**_sell(net, 1), "event_time": "2999-01-01T00:00:00+08:00"}
    reply = api.client.post(
        "/api/v1/scans/lines",
        json={"scans": [_line(future), _line({"action": "fly"}), _line(_sell(net, 1))]},
        headers=api.auth(net["imp"]),
    )
    assert reply.status_code == 200, reply.text
    late, unknown, good = reply.json()["lines"]
    assert (late["error"], unknown["error"], good["outcome"]) == ("InvalidRequest", "InvalidRequest", "accepted")
    assert "future" in late["detail"]
    assert unknown["detail"].startswith("action:")


def test_the_same_key_twice_in_one_list_is_refused_whole(api: Api, session_factory: sessionmaker[Session]) -> None:
    net = setup_chain(api)
    lines = [_line(_sell(net, 1), "twice-key-01"), _line(_sell(net, 2), "twice-key-01")]
    reply = api.client.post("/api/v1/scans/lines", json={"scans": lines}, headers=api.auth(net["imp"]))
    assert reply.status_code == 422
    assert _sales(session_factory) == 0


def test_an_all_or_nothing_refusal_names_the_scan_and_code_it_concerns(api: Api) -> None:
    net = setup_chain(api)
    forged = f"(01){net['gtin']}(10)BR2026A(21)NEVERISSUED1"
    body = {"scans": [_sell(net, 1), {"action": "sell", "codes": [forged]}]}
    reply = api.client.post("/api/v1/scans", json=body, headers=api.auth(net["imp"]))
    assert reply.status_code == 404, reply.text
    assert reply.json()["error"] == "UnknownCode"
    assert reply.json()["context"]["scan"] == 1
    assert reply.json()["context"]["code"] == f"/01/{net['gtin']}/10/BR2026A/21/NEVERISSUED1"
