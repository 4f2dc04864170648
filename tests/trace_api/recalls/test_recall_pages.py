"""The recall pages over HTTP: opening a recall through the form, its holder graph and progress, a holder's
acknowledgement, closing, the one-click confirmation of a failed inspection, and every refusal leaving the ledger
as it was."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger.models import RecallHolder
from tests.trace_api.client import Api
from tests.trace_api.network import scan
from tests.trace_api.pages import (
    HTML,
    form_secrets,
    open_through_form,
    recall_count,
    refusal,
    sign_in,
)
from trace_api.investigations import pages as investigation_pages
from trace_api.recalls import pages as recall_pages
from trace_api.web.i18n import LOCAL_TZ

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_a_regulator_opens_a_recall_through_the_form_and_sees_every_holder_in_the_graph(
    api: Api, net: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    sign_in(api, api.regulator_token)
    opened = open_through_form(api, f"{net['gtin']} BR2026A")
    assert opened.status_code == 303, opened.text
    page = api.client.get(opened.headers["location"], headers=HTML)
    assert page.status_code == 200
    html = page.text
    assert re.search(r"RC-\d{4}-\d{6}", html)
    assert 'data-field="status">召回中<' in html
    # The graph draws the importer, the market and the shop, and the shop's return to the market dashed.
    ids = {str(o["id"]) for o in (net["importer"], net["market"], net["shop"])}
    assert set(re.findall(r'<g class="holder holder-\w+" data-org-id="(\d+)"', html)) == ids
    assert 'class="flow flow-upstream"' in html
    assert re.search(rf'<g class="holder holder-pending" data-org-id="{net["shop"]["id"]}"', html)
    # Every followed holder is in the table; the cut batch made from the recalled one is recalled too.
    assert "联华超市" in html
    assert "CUT-1" in html
    assert "/app/recalls/" in html
    assert "export.xlsx" in html
    # From that instant the goods cannot move.
    line = {"gtin": net["gtin"], "lot": "BR2026A", "quantity": 1}
    refused = api.client.post(
        "/api/v1/scans",
        json={"action": "ship", "to_org": net["shop"]["uscc"], "lines": [line]},
        headers=api.auth(net["mkt"]),
    )
    assert (refused.status_code, refused.json()["error"]) == (409, "RecalledGoods")
    listed = api.client.get("/app/recalls", headers=HTML)
    assert listed.text.count("data-recall-id=") == 1
    assert recall_count(session_factory) == 1


def test_a_double_submitted_form_opens_one_recall(
    api: Api, net: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    sign_in(api, api.regulator_token)
    form = api.client.get("/app/recalls/new", headers=HTML)
    body = {**form_secrets(form.text), "goods": f"{net['gtin']} BR2026A", "recall_class": "2", "reason": "抽检不合格"}
    first = api.client.post("/app/recalls", data=body, headers=HTML, follow_redirects=False)
    second = api.client.post("/app/recalls", data=body, headers=HTML, follow_redirects=False)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert recall_count(session_factory) == 1


def test_refused_recall_forms_say_why_and_write_nothing(
    api: Api, net: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    sign_in(api, api.regulator_token)
    unreadable = open_through_form(api, f"{net['gtin']} BR2026A\nnot a code at all")
    assert unreadable.status_code == 422
    assert refusal(unreadable.text) == "第 2 行无法识别：not a code at all。"
    assert f"{net['gtin']} BR2026A" in unreadable.text  # what was typed is kept
    unknown = open_through_form(api, f"{net['gtin']} NOSUCHLOT")
    assert (unknown.status_code, refusal(unknown.text)) == (404, "没有这个批次，或它不是您的单位登记的。")
    no_reason = open_through_form(api, f"{net['gtin']} BR2026A", reason="  ")
    assert (no_reason.status_code, refusal(no_reason.text)) == (422, "请填写原因。")
    bad_class = open_through_form(api, f"{net['gtin']} BR2026A", level="4")
    assert bad_class.status_code == 422
    form = api.client.get("/app/recalls/new", headers=HTML)
    forged = {"csrf": "0" * 64, "form_key": form_secrets(form.text)["form_key"], "goods": f"{net['gtin']} BR2026A"}
    assert api.client.post("/app/recalls", data={**forged, "reason": "x"}, headers=HTML).status_code == 403
    assert recall_count(session_factory) == 0


def test_a_retailer_cannot_open_a_recall_and_sees_no_investigation(api: Api, net: dict[str, Any]) -> None:
    sign_in(api, net["shop_token"])
    listed = api.client.get("/app/recalls", headers=HTML)
    assert listed.status_code == 200
    assert "发起召回" not in listed.text
    assert "一键排查" not in listed.text
    refused = open_through_form(api, f"{net['gtin']} BR2026A")
    assert (refused.status_code, refusal(refused.text)) == (403, "您的单位无权执行此操作。")
    investigation = api.client.get("/app/investigations", headers=HTML)
    assert investigation.status_code == 403


def test_a_holder_acknowledges_on_the_page_and_the_regulator_closes_the_recall(
    api: Api, net: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    sign_in(api, api.regulator_token)
    recall_path = open_through_form(api, f"{net['gtin']} BR2026A").headers["location"]
    recall_id = int(recall_path.rsplit("/", 1)[1])

    sign_in(api, net["shop_token"])
    page = api.client.get(recall_path, headers=HTML)
    assert 'action="/app/recalls/' in page.text
    assert "报告处置情况" in page.text
    secrets = form_secrets(page.text)
    ack = {**secrets, "gtin": net["gtin"], "lot": "BR2026A", "quarantined": "9", "returned": "0", "destroyed": "0"}
    too_many = api.client.post(f"{recall_path}/acknowledgements", data=ack, headers=HTML)
    assert (too_many.status_code, refusal(too_many.text)) == (409, "报告的数量超过了召回发起时您持有的数量。")
    with session_factory() as session:
        shop_row = session.scalar(
            select(RecallHolder).where(RecallHolder.recall_id == recall_id, RecallHolder.org_id == net["shop"]["id"])
        )
        assert shop_row is not None
        assert (shop_row.quantity_at_open, shop_row.quarantined, shop_row.acknowledged_at) == (8, 0, None)
    fresh = form_secrets(api.client.get(recall_path, headers=HTML).text)
    done = api.client.post(
        f"{recall_path}/acknowledgements",
        data={**ack, **fresh, "quarantined": "8"},
        headers=HTML,
        follow_redirects=False,
    )
    assert done.status_code == 303
    after = api.client.get(recall_path, headers=HTML).text
    assert "封存 8 · 退回 0 · 销毁 0" in after
    assert "一级批发市场" not in after  # a holder sees its own rows only

    sign_in(api, api.regulator_token)
    page = api.client.get(recall_path, headers=HTML)
    assert re.search(rf'<g class="holder holder-settled" data-org-id="{net["shop"]["id"]}"', page.text)
    close = {**form_secrets(page.text), "reason": "全部封存，处置完毕"}
    closed = api.client.post(f"{recall_path}/close", data=close, headers=HTML, follow_redirects=False)
    assert closed.status_code == 303
    page = api.client.get(recall_path, headers=HTML)
    assert 'data-field="status">已结束<' in page.text
    assert "结束召回" not in page.text  # nothing left to close
    again = api.client.post(f"{recall_path}/close", data={**form_secrets(page.text), "reason": "x"}, headers=HTML)
    assert again.status_code in (403, 409)


def test_a_failed_inspection_is_recalled_in_one_click(
    api: Api, net: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    line = {"gtin": net["gtin"], "lot": "BR2026A", "quantity": 1}
    scan(api, api.regulator_token, {"action": "inspect", "lines": [line], "passed": False, "reason": "氯霉素超标"})
    sign_in(api, api.regulator_token)
    listed = api.client.get("/app/recalls", headers=HTML)
    candidate = re.search(r'action="(/app/recalls/candidates/\d+/confirm)"', listed.text)
    assert candidate, listed.text
    secrets = form_secrets(listed.text[listed.text.index(candidate[1]) :])
    confirmed = api.client.post(
        candidate[1], data={**secrets, "recall_class": "1"}, headers=HTML, follow_redirects=False
    )
    assert confirmed.status_code == 303
    page = api.client.get(confirmed.headers["location"], headers=HTML).text
    assert "氯霉素超标" in page
    assert "一级召回" in page
    assert "一键召回" not in api.client.get("/app/recalls", headers=HTML).text  # the candidate is gone
    assert recall_count(session_factory) == 1


def test_exports_are_downloaded_from_the_page_by_regulators_only(api: Api, net: dict[str, Any]) -> None:
    sign_in(api, api.regulator_token)
    recall_path = open_through_form(api, f"{net['gtin']} BR2026A").headers["location"]
    xlsx = api.client.get(f"{recall_path}/export.xlsx")
    assert (xlsx.status_code, xlsx.headers["content-type"]) == (200, XLSX)
    assert xlsx.content[:2] == b"PK"
    epcis = api.client.get(f"{recall_path}/export.epcis.json")
    assert epcis.status_code == 200
    assert epcis.json()["type"] == "EPCISDocument"
    assert api.client.get(f"{recall_path}/export.pdf").status_code in (404, 422)
    sign_in(api, net["shop_token"])
    assert api.client.get(f"{recall_path}/export.csv").status_code == 403


def test_the_pages_speak_english_on_request_and_both_languages_have_every_word(api: Api) -> None:
    sign_in(api, api.regulator_token)
    page = api.client.get("/app/recalls?lang=en", headers=HTML)
    assert "<h1>Recalls</h1>" in page.text
    assert "Failed inspections awaiting a recall" in page.text
    for pages in (recall_pages.PAGES, investigation_pages.PAGES):
        assert pages.catalogue["zh-CN"].keys() == pages.catalogue["en"].keys()


def test_long_lists_show_those_still_to_act_first_and_count_the_rest(
    api: Api, net: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The caps are in the hundreds; set to one, three holders and two other holders are enough to see them work.
    monkeypatch.setattr(recall_pages, "HOLDERS_SHOWN", 1)
    monkeypatch.setattr(investigation_pages, "ROWS_SHOWN", 1)
    sign_in(api, api.regulator_token)
    recall_path = open_through_form(api, f"{net['gtin']} BR2026A").headers["location"]
    # The market, first by name, accounts for everything it held (the beef and the cuts made from it).
    sign_in(api, net["mkt"])
    secrets = form_secrets(api.client.get(recall_path, headers=HTML).text)
    report = {
        **secrets,
        "gtin": [net["gtin"], net["cuts"]["gtin"]],
        "lot": ["BR2026A", "CUT-1"],
        "quarantined": ["27", "20"],
        "returned": ["0", "0"],
        "destroyed": ["0", "0"],
    }
    assert api.client.post(f"{recall_path}/acknowledgements", data=report, follow_redirects=False).status_code == 303

    sign_in(api, api.regulator_token)
    page = api.client.get(recall_path, headers=HTML).text
    table = page[page.index('class="table holders"') :]
    assert re.findall(r'<tr data-org-id="(\d+)">', table) == [str(net["shop"]["id"])]  # pending before settled
    assert "holder-status-pending" in table.split("</tr>")[1]
    assert 'data-field="holders-hidden"' in page

    now = datetime.now(LOCAL_TZ).replace(tzinfo=None, microsecond=0)
    window = {"since": (now - timedelta(hours=1)).isoformat(), "until": (now + timedelta(minutes=5)).isoformat()}
    found = api.client.get("/app/investigations", params={"place": net["shop"]["uscc"], **window}, headers=HTML)
    spread = found.text[found.text.index('class="table spread"') :]
    assert len(re.findall(r'<tr data-org-id="\d+">', spread)) == 1
    assert 'data-field="spread-hidden"' in found.text


def test_a_holder_that_sold_everything_acknowledges_with_nothing_to_report(
    api: Api, net: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    line = {"gtin": net["gtin"], "lot": "BR2026A", "quantity": 8}
    scan(api, net["shop_token"], {"action": "sell", "lines": [line]})
    sign_in(api, api.regulator_token)
    recall_path = open_through_form(api, f"{net['gtin']} BR2026A").headers["location"]
    sign_in(api, net["shop_token"])
    secrets = form_secrets(api.client.get(recall_path, headers=HTML).text)
    report = {**secrets, "gtin": net["gtin"], "lot": "BR2026A", "quarantined": "", "returned": "", "destroyed": ""}
    done = api.client.post(f"{recall_path}/acknowledgements", data=report, headers=HTML, follow_redirects=False)
    assert done.status_code == 303
    with session_factory() as session:
        row = session.scalar(select(RecallHolder).where(RecallHolder.org_id == net["shop"]["id"]))
        assert row is not None
        assert (row.quantity_at_open, row.consumed_at_open, row.settled) == (0, 8, True)
    empty = {**form_secrets(api.client.get(recall_path, headers=HTML).text)}
    refused = api.client.post(f"{recall_path}/acknowledgements", data=empty, headers=HTML)
    assert (refused.status_code, refusal(refused.text)) == (400, "表单内容不完整，请刷新页面后重试。")
