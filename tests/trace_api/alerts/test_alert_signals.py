"""Each counterfeit and diversion signal raises one alert, deduplicated, signed and queued for anchoring, told to
the brand owner and the regulators, and never to anyone else; the refused scan itself stays a clean refusal."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.alert_signals import LOOKUPS_AFTER_SALE, count_lookup
from ledger.alerts import raise_alert
from ledger.models import Alert, Code, Event, Movement, Organisation, OutboxEntry, WebhookDelivery
from tests.trace_api.client import Api
from tests.trace_api.trust_network import JSON, coded_network, path_of


def _alerts(api: Api, token: str | None = None, **params: str) -> list[dict[str, Any]]:
    reply = api.client.get("/api/v1/alerts", params=params, headers=api.auth(token or api.regulator_token))
    assert reply.status_code == 200, reply.text
    alerts: list[dict[str, Any]] = reply.json()
    return alerts


def _sell(api: Api, token: str, code: str, **extra: Any) -> Any:
    return api.client.post("/api/v1/scans", json={"action": "sell", "codes": [code], **extra}, headers=api.auth(token))


def _movements(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(Movement)) or 0


def test_a_second_sale_is_refused_and_recorded_once_with_the_first_sale(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    net = coded_network(api)
    before = _movements(session_factory)
    refused = _sell(api, net["shop_token"], net["links"][0])
    assert (refused.status_code, refused.json()["error"]) == (409, "AlreadyConsumed")
    assert _movements(session_factory) == before  # the refusal wrote nothing of the trade
    [alert] = _alerts(api)
    assert alert["kind"] == "settled_twice"
    assert (alert["subject"], alert["occurrences"], alert["status"]) == ("联华超市", 1, "open")
    assert alert["detail"]["first"]["by"] == "联华超市"
    assert alert["detail"]["first"]["step"] == "retail_selling"
    assert alert["detail"]["attempt"]["by"] == "联华超市"
    assert (alert["gtin"], alert["lot"]) == (net["gtin"], "BR2026A")

    again = _sell(api, net["shop_token"], net["links"][0])
    assert again.status_code == 409
    [alert] = _alerts(api)
    assert alert["occurrences"] == 2  # deduplicated: the same kind, code and subject

    with session_factory() as session:
        row = session.get(Alert, alert["id"])
        assert row is not None
        event = session.get(Event, row.event_seq)
        assert event is not None
        regulator = session.scalar(select(Organisation).where(Organisation.name == "市场监督管理局"))
        assert regulator is not None
        assert event.signer == regulator.chain_address  # signed by the network's authority
        assert event.disposition == "no_pedigree_match"
        assert session.scalar(select(OutboxEntry.id).where(OutboxEntry.event_seq == event.seq))  # to be anchored
        told = set(session.scalars(select(WebhookDelivery.org_id).where(WebhookDelivery.alert_id == row.id)))
        owner = session.scalar(select(Organisation.id).where(Organisation.name == "进口商"))
        assert told == {owner, regulator.id}


def test_an_alert_is_seen_by_the_brand_owner_and_regulators_only(api: Api) -> None:
    net = coded_network(api)
    _sell(api, net["shop_token"], net["links"][0])
    assert [a["kind"] for a in _alerts(api, net["imp"])] == ["settled_twice"]
    assert _alerts(api, net["mkt"]) == []
    alert_id = _alerts(api)[0]["id"]
    hidden = api.client.get(f"/api/v1/alerts/{alert_id}", headers=api.auth(net["mkt"]))
    assert hidden.status_code == 404


def test_a_sale_by_an_organisation_outside_the_chain_is_an_alert(api: Api) -> None:
    net = coded_network(api)
    _outsider, token = api.org("另一家超市", "retailer")
    refused = _sell(api, token, net["links"][1])
    assert (refused.status_code, refused.json()["error"]) == (409, "NotHolder")
    [alert] = _alerts(api, kind="outside_chain")
    assert (alert["subject"], alert["detail"]["holder"], alert["detail"]["status"]) == (
        "另一家超市",
        "联华超市",
        "active",
    )


def test_goods_sold_by_quantity_by_an_organisation_that_never_held_the_batch_is_an_alert(api: Api) -> None:
    net = coded_network(api)
    _outsider, token = api.org("另一家超市", "retailer")
    body = {"action": "sell", "lines": [{"gtin": net["gtin"], "lot": "BR2026A", "quantity": 3}]}
    refused = api.client.post("/api/v1/scans", json=body, headers=api.auth(token))
    assert refused.status_code == 409
    [alert] = _alerts(api, kind="outside_chain")
    assert (alert["batch_id"], alert["detail"]["requested"]) == (net["batch"]["id"], 3)


def test_a_forged_code_scanned_or_reported_by_a_station_is_an_alert(api: Api) -> None:
    net = coded_network(api)
    forged = f"https://trace.example.cn/01/{net['gtin']}/10/BR2026A/21/FAKE0001"
    refused = _sell(api, net["shop_token"], forged)
    assert (refused.status_code, refused.json()["error"]) == (404, "UnknownCode")
    [alert] = _alerts(api, net["imp"], kind="forged_code")  # the brand it abuses is told
    assert (alert["detail"]["verdict"], alert["code_id"]) == ("never_issued", None)

    altered = net["links"][2][:-1] + ("A" if net["links"][2][-1] != "A" else "Q")
    body = {"code": altered, "verdict": "invalid_signature"}
    reported = api.client.post("/api/v1/alerts/reports", json=body, headers=api.auth(net["shop_token"]))
    assert reported.status_code == 201, reported.text
    [report] = reported.json()
    assert (report["kind"], report["detail"]["verdict"]) == ("forged_code", "invalid_signature")
    assert report["code_id"] is not None
    nonsense = api.client.post(
        "/api/v1/alerts/reports", json={"code": "hello", "verdict": "never_issued"}, headers=api.auth(net["mkt"])
    )
    assert nonsense.status_code == 422


def test_a_code_looked_up_unusually_often_after_its_sale_is_an_alert(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    net = coded_network(api)
    signer = api.client.app.state.lotline.signer  # type: ignore[attr-defined]
    first = api.client.get(path_of(net["links"][0]), headers=JSON).json()
    assert first["status"]["lookups"]["count"] == 1
    code_id = _code_id(session_factory, net["links"][0])
    start = datetime.now(UTC)
    raised = []
    with session_factory() as session:
        for n in range(LOOKUPS_AFTER_SALE + 2):  # what the worker does with each lookup's message
            signal = count_lookup(session, code_id, start + timedelta(minutes=n))
            if signal is not None:
                raised.append(raise_alert(session, signer, signal).id)
        session.commit()
    assert len(set(raised)) == 1  # one alert, counted again
    [alert] = _alerts(api, kind="frequent_lookups")
    assert (alert["subject"], alert["detail"]["lookups"], alert["occurrences"]) == (None, LOOKUPS_AFTER_SALE + 1, 2)
    assert alert["detail"]["latest"]["lookups"] == LOOKUPS_AFTER_SALE + 2
    view = api.client.get(path_of(net["links"][0]), headers=JSON).json()
    assert view["status"]["lookups"]["count"] == LOOKUPS_AFTER_SALE + 3
    page = api.client.get(path_of(net["links"][0])).text
    assert f'data-lookups="{LOOKUPS_AFTER_SALE + 3}"' in page
    assert "可能是重复使用的码" not in page
    with session_factory() as session:  # an unsold code is not counted
        assert count_lookup(session, _code_id(session_factory, net["links"][1]), start) is None


def test_two_scans_of_a_code_too_far_apart_for_the_time_between_them_are_an_alert(api: Api) -> None:
    net = coded_network(api)
    hangzhou = _location(api, net["shop_token"], "330106")
    sold_at = datetime.now(UTC) - timedelta(hours=1)
    sold = _sell(api, net["shop_token"], net["links"][1], location_id=hangzhou, event_time=sold_at.isoformat())
    assert sold.status_code == 201, sold.text
    _clone_shop, token = api.org("北京某超市", "retailer")
    beijing = _location(api, token, "110101")
    attempt_at = sold_at + timedelta(minutes=20)
    refused = _sell(api, token, net["links"][1], location_id=beijing, event_time=attempt_at.isoformat())
    assert refused.status_code == 409
    kinds = {a["kind"]: a for a in _alerts(api)}
    assert set(kinds) == {"settled_twice", "impossible_travel"}
    travel = kinds["impossible_travel"]
    assert travel["detail"]["km"] > 1000
    assert travel["detail"]["from"]["region_code"] == "330106"
    assert travel["region_code"] == "110101"


def test_refused_lines_of_an_offline_queue_raise_their_alerts_too(api: Api) -> None:
    net = coded_network(api)
    lines = [{"key": uuid.uuid4().hex, "scan": {"action": "sell", "codes": [net["links"][0]]}}]
    reply = api.client.post("/api/v1/scans/lines", json={"scans": lines}, headers=api.auth(net["shop_token"]))
    assert reply.json()["refused"] == 1
    assert [a["kind"] for a in _alerts(api)] == ["settled_twice"]


def test_a_regulator_turns_an_alert_into_an_investigation(api: Api) -> None:
    net = coded_network(api)
    _sell(api, net["shop_token"], net["links"][0])
    alert_id = _alerts(api)[0]["id"]
    owner = api.client.post(f"/api/v1/alerts/{alert_id}/investigation", headers=api.auth(net["imp"]))
    assert (owner.status_code, owner.json()["error"]) == (403, "RoleRequired")
    taken = api.client.post(f"/api/v1/alerts/{alert_id}/investigation", headers=api.auth(api.regulator_token))
    assert taken.status_code == 200, taken.text
    assert taken.json()["status"] == "investigating"
    url = taken.json()["investigation_url"]
    assert url.startswith("/app/investigations?place=")
    assert net["shop"]["uscc"] in url
    assert _alerts(api, status="investigating")[0]["id"] == alert_id


def _location(api: Api, token: str, region_code: str) -> int:
    reply = api.client.post(
        "/api/v1/locations", headers=api.auth(token), json={"name": "门店", "kind": "store", "region_code": region_code}
    )
    assert reply.status_code == 201, reply.text
    location_id: int = reply.json()["id"]
    return location_id


def _code_id(session_factory: sessionmaker[Session], link: str) -> int:
    serial = link.split("?")[0].rsplit("/", 1)[1]
    with session_factory() as session:
        code_id = session.scalar(select(Code.id).where(Code.serial == serial))
    assert code_id is not None
    return code_id
