"""The consumer page over HTTP: both languages, the journey in words, its warnings, the fake-code page, and JSON
for API clients."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from ledger.models import Hold, HoldKind, Recall, RecallStatus, RecallTarget
from tests.trace_api.client import Api
from tests.trace_api.pages import (
    HTML,
    batch_path,
    issue_codes,
    item_path,
    register_beef,
)


def test_the_consumer_page_speaks_chinese_by_default_and_english_when_asked(api: Api) -> None:
    _importer, token = api.org("浙江冷链进口有限公司", "producer")
    batch = register_beef(api, token)

    zh = api.client.get(batch_path(batch), headers=HTML)
    assert zh.status_code == 200
    assert zh.headers["content-type"].startswith("text/html")
    for words in ('lang="zh-CN"', "冷冻牛肉", "进口冷链食品", "原产国", "巴西", "报关单号", "310120261000123456"):
        assert words in zh.text
    assert "批次登记" in zh.text
    assert "浙江冷链进口有限公司" in zh.text
    assert "等待上链" in zh.text  # nothing is anchored in this test: the page must not claim it is

    en = api.client.get(batch_path(batch) + "?lang=en", headers=HTML)
    for words in ('lang="en"', "Frozen beef", "Imported cold-chain food", "Brazil", "Batch registered"):
        assert words in en.text
    assert "冷冻牛肉" not in en.text
    # The switch is remembered: the next scan without ?lang stays in English.
    assert 'lang="en"' in api.client.get(batch_path(batch), headers=HTML).text


def test_a_browser_that_prefers_english_gets_english_without_a_switch(api: Api) -> None:
    _importer, token = api.org("进口商", "producer")
    batch = register_beef(api, token)
    reply = api.client.get(batch_path(batch), headers={**HTML, "Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert 'lang="en"' in reply.text
    assert reply.headers["content-language"] == "en"


def test_an_item_page_shows_its_journey_in_words_with_local_time_and_region(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    importer, token = api.org("进口商", "producer")
    market, market_token = api.org("一级批发市场", "distributor")
    batch = register_beef(api, token)
    location = api.client.post(
        "/api/v1/locations",
        headers=api.auth(market_token),
        json={"name": "冷库 3 号", "kind": "cold_store", "region_code": "330106"},
    )
    assert location.status_code == 201, location.text
    (serial,) = issue_codes(api, session_factory, importer["id"], batch, 1)
    shipped_at = datetime.now(UTC)
    code = f"(01){batch['gtin']}(10){batch['lot']}(21){serial}"
    ship = api.client.post(
        "/api/v1/scans",
        headers=api.auth(token),
        json={"action": "ship", "to_org": market["uscc"], "codes": [code], "event_time": shipped_at.isoformat()},
    )
    assert ship.status_code == 201, ship.text
    receive = api.client.post(
        "/api/v1/scans",
        headers=api.auth(market_token),
        json={
            "action": "receive",
            "shipment_id": ship.json()["results"][0]["shipment_id"],
            "location_id": location.json()["id"],
        },
    )
    assert receive.status_code == 201, receive.text

    page = api.client.get(item_path(session_factory, batch, serial), headers=HTML).text

    steps = re.findall(r'<p class="step-what">([^<]+)', page)
    # Registration and the issue of item codes are two steps with two names, not "赋码/登记" twice.
    assert steps == ["批次登记", "赋码", "发货", "收货"]
    assert shipped_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M") in page
    assert "一级批发市场" in page
    assert "批发/配送" in page
    # The region by its names from the table of divisions, not its code; the warehouse itself stays private.
    assert '<p class="step-where muted">浙江省杭州市西湖区</p>' in page
    assert "330106" not in page
    assert "冷库 3 号" not in page


def test_a_recalled_batch_shows_the_red_recall_banner_first(api: Api, session_factory: sessionmaker[Session]) -> None:
    _importer, token = api.org("进口商", "producer")
    batch = register_beef(api, token)
    with session_factory() as session:
        recall = Recall(
            number="ZJ-2026-0042",
            recall_class=1,
            reason="核酸阳性",
            status=RecallStatus.OPEN,
            opened_at=datetime.now(UTC),
        )
        session.add(recall)
        session.flush()
        session.add(RecallTarget(recall_id=recall.id, batch_id=int(str(batch["id"]))))
        session.commit()

    page = api.client.get(batch_path(batch), headers=HTML).text

    body = page.split("<body>", 1)[1]
    assert body.lstrip().startswith('<div class="alert" role="alert">')
    assert "召回：本批次正在召回中" in body
    assert "ZJ-2026-0042" in body
    assert "本码由本网络签发，记录完整" not in body
    english = api.client.get(batch_path(batch) + "?lang=en", headers=HTML).text
    assert "RECALLED" in english


def test_a_batch_on_hold_or_expired_shows_its_own_red_banner(api: Api, session_factory: sessionmaker[Session]) -> None:
    _importer, token = api.org("进口商", "producer")
    held = register_beef(api, token, lot="HELD-1")
    with session_factory() as session:
        session.add(
            Hold(batch_id=int(str(held["id"])), org_id=None, kind=HoldKind.EXCURSION, reason="-12 °C 超过 2 小时")
        )
        session.commit()
    expired = register_beef(api, token, name="过期牛肉", lot="OLD-1", expiry_date="2020-01-01")

    held_page = api.client.get(batch_path(held), headers=HTML).text
    expired_page = api.client.get(batch_path(expired), headers=HTML).text

    assert '<p class="alert-line" data-warning="held">暂停销售' in held_page
    assert '<p class="alert-line" data-warning="expired">已过期' in expired_page
    assert "召回" not in held_page + expired_page


def test_an_unknown_code_is_a_404_page_warning_of_a_counterfeit(api: Api) -> None:
    _importer, token = api.org("进口商", "producer")
    batch = register_beef(api, token)
    forged = f"/01/{batch['gtin']}/10/{batch['lot']}/21/FORGED123"

    page = api.client.get(forged, headers=HTML)

    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "此码未在本网络签发，可能是假冒产品" in page.text
    assert page.headers["cache-control"] == "no-store"
    bad_check_digit = api.client.get("/01/06970000000018/10/X1", headers=HTML)
    assert bad_check_digit.status_code == 404
    assert "可能是假冒产品" in bad_check_digit.text


def test_api_clients_keep_getting_json_for_codes_good_and_unknown(api: Api) -> None:
    _importer, token = api.org("进口商", "producer")
    batch = register_beef(api, token)
    json_accept = {"Accept": "application/json"}

    good = api.client.get(batch_path(batch), headers=json_accept)
    unknown = api.client.get(batch_path(batch) + "/21/FORGED123", headers=json_accept)
    malformed = api.client.get("/01/06970000000018/10/X1", headers=json_accept)

    assert good.headers["content-type"] == "application/json"
    assert good.json()["product"]["name"] == "冷冻牛肉"
    assert (unknown.status_code, unknown.json()["error"]) == (404, "UnknownCode")
    assert (malformed.status_code, malformed.json()["error"]) == (422, "InvalidGTIN")
    trace = api.client.get("/api/v1/trace/01/06970000000017/10/NOPE", headers=api.auth(token))
    assert trace.headers["content-type"] == "application/json"


def test_what_a_registrant_typed_is_escaped_on_the_consumer_page(api: Api) -> None:
    _importer, token = api.org("进口商", "producer")
    batch = register_beef(api, token, name="<script>alert(1)</script>牛肉")
    page = api.client.get(batch_path(batch), headers=HTML)
    assert "<script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;牛肉" in page.text
    assert "script-src" not in page.headers["content-security-policy"]  # default-src 'none' forbids scripts
    assert "default-src 'none'" in page.headers["content-security-policy"]
