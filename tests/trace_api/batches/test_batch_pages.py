"""The importer's pages over HTTP: signing in first, the batch list, one batch, and the registration form."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.models import Batch
from tests.trace_api.client import Api
from tests.trace_api.pages import (
    COLD,
    HTML,
    form_secrets,
    issue_codes,
    register_beef,
    sign_in,
)


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

    # The page links its own download routes, which take the session cookie; the JSON API never does (CSRF).
    sheet = f"/app/batches/{batch['id']}/labels.pdf"
    assert f'href="{sheet}"' in page
    for serial in serials:
        assert f'href="/app/batches/{batch["id"]}/codes/{serial}/label.png"' in page
    assert "3 in all" in page
    pdf = api.client.get(sheet)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    png = api.client.get(f"/app/batches/{batch['id']}/codes/{serials[0]}/label.png")
    assert png.status_code == 200
    assert png.content.startswith(b"\x89PNG")
    assert api.client.get(f"/api/v1/batches/{batch['id']}/labels.pdf").status_code == 401


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


def test_a_search_finds_only_batches_the_organisation_may_see(api: Api) -> None:
    _a, a_token = api.org("甲进口商", "producer")
    _b, b_token = api.org("乙进口商", "producer")
    register_beef(api, a_token, name="甲的牛肉", lot="SAME-1")
    register_beef(api, b_token, name="乙的牛肉", lot="SAME-2")
    sign_in(api, a_token)
    found = api.client.get("/app/batches", params={"q": "same"}, headers=HTML).text
    assert "SAME-1" in found
    assert "SAME-2" not in found
    assert "第 1–1 个，共 1 个批次" in found
    assert "乙的牛肉" not in api.client.get("/app/batches", params={"q": "乙"}, headers=HTML).text
    assert "没有与“_”匹配的批次。" in api.client.get("/app/batches", params={"q": "_"}, headers=HTML).text
    assert api.client.get("/app/batches", params={"page": 0}).status_code == 422


def test_the_registration_form_shows_one_flow_and_marks_what_the_ledger_requires(api: Api) -> None:
    _importer, token = api.org("进口商", "producer")
    register_beef(api, token)
    sign_in(api, token)
    vaccine = api.client.get("/app/batches/new", params={"category": "vaccine"}, headers=HTML).text
    assert 'data-flow="vaccine"' in vaccine
    assert 'name="customs_declaration_no"' not in vaccine
    assert re.findall(r'name="(\w+)"[^>]*aria-required="true"', vaccine) == [
        "vaccine_approval_no",
        "lot_release_cert_no",
        "manufacturer",
        "expiry_date",
    ]
    assert "贵单位还没有“疫苗”类的产品。" in vaccine
    default = api.client.get("/app/batches/new", params={"category": "nonsense"}, headers=HTML).text
    assert 'data-flow="cold_chain"' in default  # the flow of the organisation's product
