"""The server-rendered pages over HTTP: the consumer page in both languages, its warnings, the fake-code page,
and the importer's sign-in, batch list and registration form."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.codes import issue_item_codes
from ledger.models import Batch, Hold, HoldKind, Organisation, Recall, RecallStatus, RecallTarget
from tests.trace_api.conftest import Api
from trace_api.pages import catalogue
from trace_api.pages.i18n import from_accept_language

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
COLD = {
    "customs_declaration_no": "310120261000123456",
    "origin_country": "BR",
    "quarantine_cert_no": "BR-Q-1",
    "nucleic_acid_test_no": "NAT-1",
    "nucleic_acid_result": "negative",
    "disinfection_cert_no": "DIS-1",
    "expiry_date": "2030-01-01",
}


def register_beef(
    api: Api, importer_token: str, *, name: str = "冷冻牛肉", lot: str = "BR2026A", expiry_date: str = "2030-01-01"
) -> dict[str, object]:
    product = api.client.post(
        "/api/v1/products",
        headers=api.auth(importer_token),
        json={"name": name, "name_en": "Frozen beef", "category": "cold_chain", "storage_max_c": -18},
    )
    assert product.status_code == 201, product.text
    batch = api.client.post(
        "/api/v1/batches",
        headers=api.auth(importer_token),
        json={"gtin": product.json()["gtin"], "lot": lot, "quantity": 100, **COLD, "expiry_date": expiry_date},
    )
    assert batch.status_code == 201, batch.text
    body: dict[str, object] = batch.json()
    return body


def batch_path(batch: dict[str, object]) -> str:
    return f"/01/{batch['gtin']}/10/{batch['lot']}"


def issue_codes(
    api: Api, session_factory: sessionmaker[Session], org_id: object, batch: dict[str, object], count: int
) -> list[str]:
    """Item codes issued by the batch's registrant with the app's own signer (code runs have no page)."""
    app: FastAPI = api.client.app  # type: ignore[assignment]
    with session_factory() as session:
        org = session.get(Organisation, org_id)
        assert org is not None
        serials = issue_item_codes(session, app.state.lotline.signer, org, int(str(batch["id"])), count)
        session.commit()
    return serials


def sign_in(api: Api, token: str) -> None:
    reply = api.client.post("/login", data={"token": token}, follow_redirects=False)
    assert reply.status_code == 303, reply.text


def form_secrets(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(csrf|form_key)" value="([^"]+)"', html))


def test_the_consumer_page_speaks_chinese_by_default_and_english_when_asked(api: Api) -> None:
    _importer, token = api.org("浙江冷链进口有限公司", "producer")
    batch = register_beef(api, token)

    zh = api.client.get(batch_path(batch), headers=HTML)
    assert zh.status_code == 200
    assert zh.headers["content-type"].startswith("text/html")
    for words in ('lang="zh-CN"', "冷冻牛肉", "进口冷链食品", "原产国", "巴西", "报关单号", "310120261000123456"):
        assert words in zh.text
    assert "赋码/登记" in zh.text
    assert "浙江冷链进口有限公司" in zh.text
    assert "等待上链" in zh.text  # nothing is anchored in this test: the page must not claim it is

    en = api.client.get(batch_path(batch) + "?lang=en", headers=HTML)
    for words in ('lang="en"', "Frozen beef", "Imported cold-chain food", "Brazil", "Registered and coded"):
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


def test_accept_language_picks_the_best_ranked_supported_language() -> None:
    assert from_accept_language("en-US,en;q=0.9,zh-CN;q=0.8") == "en"
    assert from_accept_language("fr-FR, de;q=0.9, zh-Hans-CN;q=0.5, en;q=0.4") == "zh-CN"
    assert from_accept_language("en;q=0, zh;q=0.1") == "zh-CN"
    assert from_accept_language("fr, de") is None


def test_both_languages_have_words_for_every_key() -> None:
    assert set(catalogue.ZH) == set(catalogue.EN)


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

    page = api.client.get(f"{batch_path(batch)}/21/{serial}", headers=HTML).text

    steps = re.findall(r'<p class="step-what">([^<]+)', page)
    assert steps == ["赋码/登记", "赋码/登记", "发货", "收货"]
    assert shipped_at.astimezone(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M") in page
    assert "一级批发市场" in page
    assert "批发/配送" in page
    assert "浙江省 · 330106" in page
    assert "冷库 3 号" not in page  # the consumer sees the province, not the warehouse


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


def test_importer_pages_send_visitors_without_a_session_to_sign_in(api: Api) -> None:
    for path in ("/app/batches", "/app/batches/new", "/app/batches/1"):
        reply = api.client.get(path, headers=HTML, follow_redirects=False)
        assert reply.status_code == 303
        assert reply.headers["location"] == f"/login?next={path}"
    refused = api.client.post("/login", data={"token": "ll_not-a-token"}, follow_redirects=False)
    assert refused.status_code == 401
    assert "令牌无效、已吊销或已过期" in refused.text
    api.client.cookies.set("lotline_session", "ll_stale")
    stale = api.client.get("/app/batches", follow_redirects=False)
    assert stale.status_code == 303
    assert 'lotline_session=""' in stale.headers["set-cookie"]


def test_signing_in_sets_an_httponly_lax_cookie_and_signing_out_clears_it(api: Api) -> None:
    _importer, token = api.org("进口商", "producer")
    reply = api.client.post("/login", data={"token": token, "next": "/app/batches/new"}, follow_redirects=False)
    assert reply.status_code == 303
    assert reply.headers["location"] == "/app/batches/new"
    cookie = reply.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    offsite = api.client.post("/login", data={"token": token, "next": "//evil.example/"}, follow_redirects=False)
    assert offsite.headers["location"] == "/app/batches"
    out = api.client.post("/logout", follow_redirects=False)
    assert out.headers["location"] == "/login"
    assert api.client.get("/app/batches", follow_redirects=False).status_code == 303


def test_an_organisation_sees_only_its_own_batches(api: Api) -> None:
    _mine, my_token = api.org("进口商甲", "producer")
    _theirs, their_token = api.org("进口商乙", "producer")
    mine = register_beef(api, my_token, name="甲的牛肉", lot="A-1")
    theirs = register_beef(api, their_token, name="乙的虾仁", lot="B-1")
    sign_in(api, my_token)

    listing = api.client.get("/app/batches", headers=HTML)

    assert listing.status_code == 200
    assert "甲的牛肉" in listing.text
    assert "乙的虾仁" not in listing.text
    assert "正常" in listing.text
    detail = api.client.get(f"/app/batches/{mine['id']}", headers=HTML)
    assert detail.status_code == 200
    assert f"/api/v1/batches/{mine['id']}/labels.pdf" not in detail.text  # no codes issued yet, nothing to print
    assert "尚未签发单品码" in detail.text
    assert "报关单号" in detail.text
    other = api.client.get(f"/app/batches/{theirs['id']}", headers=HTML)
    assert other.status_code == 404
    assert "没有这个批次，或您无权查看" in other.text
    assert "乙的虾仁" not in other.text


def test_the_batch_page_links_the_label_sheet_and_each_codes_label(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    importer, token = api.org("进口商", "producer")
    batch = register_beef(api, token)
    serials = issue_codes(api, session_factory, importer["id"], batch, 3)
    sign_in(api, token)

    page = api.client.get(f"/app/batches/{batch['id']}?lang=en", headers=HTML).text

    assert f'href="/api/v1/batches/{batch["id"]}/labels.pdf"' in page
    for serial in serials:
        assert f'href="/api/v1/batches/{batch["id"]}/codes/{serial}/label.png"' in page
    assert "3 in all" in page


def test_the_registration_form_registers_a_batch_once_even_when_submitted_twice(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    _importer, token = api.org("进口商", "producer")
    gtin = register_beef(api, token)["gtin"]
    sign_in(api, token)
    form_page = api.client.get("/app/batches/new", headers=HTML)
    assert form_page.status_code == 200
    assert "报关单号" in form_page.text
    form = {**form_secrets(form_page.text), "gtin": gtin, "lot": "BR2026B", "quantity": "40", **COLD}

    first = api.client.post("/app/batches", data=form, follow_redirects=False)
    again = api.client.post("/app/batches", data=form, follow_redirects=False)

    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Batch).where(Batch.lot == "BR2026B")) == 1
    detail = api.client.get(first.headers["location"], headers=HTML)
    assert "BR2026B" in detail.text
    assert "阴性" in detail.text
    api_view = api.client.get(f"/api/v1/batches/{first.headers['location'].rsplit('/', 1)[1]}", headers=api.auth(token))
    assert api_view.json()["quantity"] == 40


def test_the_registration_form_refuses_bad_input_in_the_pages_language_and_writes_nothing(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    _importer, token = api.org("进口商", "producer")
    _retailer, retailer_token = api.org("超市", "retailer")
    gtin = register_beef(api, token)["gtin"]
    sign_in(api, token)
    secrets = form_secrets(api.client.get("/app/batches/new", headers=HTML).text)

    def submit(**fields: str) -> tuple[int, str]:
        reply = api.client.post("/app/batches", data={**secrets, "gtin": gtin, "quantity": "10", **fields})
        found = re.search(r'data-field="refusal">([^<]+)<', reply.text)
        return reply.status_code, found.group(1) if found else ""

    assert submit(lot="NEW-1") == (422, "此类产品登记时必须填写：报关单号、原产国、检疫证明、核酸检测、消毒证明。")
    assert submit(lot="BR2026A", **COLD) == (409, "该产品的这个批号已经登记过。")
    assert submit(lot="NEW-2", **{**COLD, "quantity": "-3"}) == (422, "数量必须是正整数。")
    assert submit(lot="NEW-3", **{**COLD, "production_date": "2031-01-01"}) == (422, "生产日期和采收日期不能晚于今天。")
    assert submit(lot="NEW-4", **{**COLD, "csrf": "forged"}) == (403, "表单已过期，请刷新页面后重试。")
    api.client.get("/app/batches/new?lang=en")
    assert submit(lot="NEW-5", **{**COLD, "origin_country": "Brazil"}) == (422, "Country of origin: invalid value.")
    sign_in(api, retailer_token)
    retailer_secrets = form_secrets(api.client.get("/app/batches/new", headers=HTML).text)
    secrets.update(retailer_secrets)
    assert submit(lot="NEW-6", **COLD) == (403, "Only a producer or importer may register batches.")
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 1
