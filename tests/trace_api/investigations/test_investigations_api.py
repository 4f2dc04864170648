"""One-click investigations over HTTP, on a network built with real scans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.trace_api.client import Api


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


def test_a_batch_already_under_recall_is_marked_with_its_recall(api: Api, net: dict[str, Any]) -> None:
    now = datetime.now(UTC)
    body = {
        "org_uscc": net["shop"]["uscc"],
        "since": (now - timedelta(hours=1)).isoformat(),
        "until": (now + timedelta(minutes=1)).isoformat(),
    }
    headers = api.auth(api.regulator_token)
    before = api.client.post("/api/v1/investigations", json=body, headers=headers).json()
    assert [p["open_recall"] for p in before["present"]] == [None]
    recall = {"batches": [{"gtin": net["gtin"], "lot": "BR2026A"}], "recall_class": 1, "reason": "阳性"}
    opened = api.client.post("/api/v1/recalls", json=recall, headers=api.auth(api.regulator_token))
    assert opened.status_code == 201, opened.text
    after = api.client.post("/api/v1/investigations", json=body, headers=headers).json()
    [marked] = after["present"]
    assert marked["open_recall"] == {"id": opened.json()["id"], "number": opened.json()["number"], "status": "open"}
