"""The regulator's pages in Chromium: a recall opened through the form and followed to its close (holder graph,
progress bars, a holder's report from a phone), and a one-click investigation at a market, where a batch already under
recall is shown with its recall instead of a second "发起召回"."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import COLD, DESKTOP, LiveApp, View


@pytest.fixture
def desk(browser: Browser, live: LiveApp) -> Iterator[Page]:
    """A regulator's desktop browser, set to Chinese."""
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", base_url=live.url)
    page = context.new_page()
    yield page
    context.close()


def trade(live: LiveApp) -> dict[str, Any]:
    """An importer's batch of 100 shipped as 30 to a wholesale market and 20 to a supermarket; the market sends
    10 on to a stall, and the stall returns 2 to the market."""
    _importer, imp = live.org("宁波冷链进口有限公司", "producer")
    market, mkt = live.org("杭州水产批发市场", "distributor")
    shop, shp = live.org("联华超市（文三路店）", "retailer")
    stall, stl = live.org("农贸市场 12 号摊位", "retailer")
    product = live.post("/api/v1/products", imp, {"name": "冷冻带鱼", "category": "cold_chain", "storage_max_c": -18})
    batch = live.post("/api/v1/batches", imp, {"gtin": product["gtin"], "lot": "NB2026X", "quantity": 100, **COLD})
    line = {"gtin": product["gtin"], "lot": "NB2026X"}

    def move(sender: str, receiver_token: str, to: dict[str, Any], quantity: int) -> None:
        shipped = live.post(
            "/api/v1/scans", sender, {"action": "ship", "to_org": to["uscc"], "lines": [{**line, "quantity": quantity}]}
        )
        shipment = shipped["results"][0]["shipment_id"]
        live.post("/api/v1/scans", receiver_token, {"action": "receive", "shipment_id": shipment})

    move(imp, mkt, market, 30)
    move(imp, shp, shop, 20)
    move(mkt, stl, stall, 10)
    move(stl, mkt, market, 2)
    return {"gtin": product["gtin"], "batch": batch, "market": market, "mkt": mkt, "stall": stall, "shop": shop}


def sign_in(page: Page, token: str, path: str) -> None:
    page.goto(path)
    page.get_by_label("API 令牌").fill(token)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


def test_a_regulator_opens_a_recall_and_follows_it_to_its_close(
    desk: Page, phone: Page, live: LiveApp, screenshots: Path
) -> None:
    net = trade(live)
    sign_in(desk, live.regulator_token, "/app/recalls")
    expect(desk.locator("h1")).to_have_text("召回")
    desk.get_by_role("link", name="发起召回").click()
    desk.get_by_label("批次或追溯码（每行一个）").fill(f"{net['gtin']} NB2026X")
    desk.get_by_label("召回级别").select_option("1")
    desk.get_by_label("召回原因").fill("外包装核酸检测阳性")
    desk.get_by_role("button", name="发起召回").click()

    expect(desk).to_have_url(re.compile(r"/app/recalls/\d+$"))
    expect(desk.locator("h1")).to_have_text(re.compile(r"^RC-\d{4}-\d{6}$"))
    expect(desk.locator("[data-field=status]")).to_have_text("召回中")
    graph = desk.get_by_role("img", name=re.compile("流向图"))
    expect(graph).to_be_visible()
    expect(graph.locator("g.holder")).to_have_count(4)
    expect(graph.locator("path.flow-upstream")).to_have_count(1)  # the stall's return to the market
    expect(graph.locator("g.holder-pending")).to_have_count(4)  # everyone still holds goods
    expect(desk.locator("#units-progress")).to_have_attribute("value", "0")
    expect(desk.locator("#units-progress")).to_have_attribute("max", "100")
    expect(desk.get_by_role("link", name="XLSX")).to_be_visible()
    recall_path = desk.url.removeprefix(live.url)
    desk.screenshot(path=screenshots / "regulator-recall.png", full_page=True)

    # The market, on its phone, reports its 22 units quarantined.
    sign_in(phone, net["mkt"], recall_path)
    expect(phone.get_by_role("heading", name="报告处置情况")).to_be_visible()
    phone.get_by_label("封存 NB2026X").fill("23")
    phone.get_by_role("button", name="提交报告").click()
    expect(phone.get_by_role("alert")).to_contain_text("报告的数量超过了召回发起时您持有的数量。")
    phone.get_by_label("封存 NB2026X").fill("22")
    phone.get_by_role("button", name="提交报告").click()
    expect(phone.locator("table.holders")).to_contain_text("封存 22 · 退回 0 · 销毁 0")

    desk.reload()
    expect(desk.locator("#units-progress")).to_have_attribute("value", "22")
    market_box = desk.locator(f"g.holder[data-org-id='{net['market']['id']}']")
    expect(market_box).to_have_class(re.compile(r"\bholder-settled\b"))

    desk.get_by_label("结束原因").fill("其余持有者已线下处置，监管人员现场核实")
    desk.get_by_role("button", name="结束召回").click()
    expect(desk.locator("[data-field=status]")).to_have_text("已结束")
    desk.get_by_role("link", name="召回", exact=True).click()
    expect(desk.locator("tbody tr")).to_have_count(1)
    expect(desk.locator("tbody tr")).to_contain_text("已结束")


def test_one_click_investigation_at_a_market_stall(desk: Page, live: LiveApp, screenshots: Path) -> None:
    net = trade(live)
    sign_in(desk, live.regulator_token, "/app/investigations")
    desk.get_by_label("地点").fill(net["stall"]["uscc"])
    desk.get_by_role("button", name="排查").click()

    expect(desk).to_have_url(re.compile(r"/app/investigations\?place="))
    present = desk.locator("table.present tbody tr")
    expect(present).to_have_count(1)
    expect(present).to_contain_text("NB2026X")
    expect(desk.locator("table.sources")).to_contain_text("宁波冷链进口有限公司")
    expect(desk.locator("#spread-heading")).to_have_text("其他持有者（3 家）")
    graph = desk.get_by_role("img", name=re.compile("流向图"))
    expect(graph.locator("g.holder-here")).to_have_count(1)
    desk.screenshot(path=screenshots / "regulator-investigation.png", full_page=True)

    present.get_by_role("link", name="发起召回").click()
    expect(desk.get_by_label("批次或追溯码（每行一个）")).to_have_value(f"{net['gtin']} NB2026X")


def test_an_investigation_marks_a_batch_already_under_recall(view: View, live: LiveApp) -> None:
    net = trade(live)
    reason = {"recall_class": 1, "reason": "摊位环境样本核酸阳性"}
    recall = live.post(
        "/api/v1/recalls", live.regulator_token, {"batches": [{"gtin": net["gtin"], "lot": "NB2026X"}], **reason}
    )
    view.sign_in(live.regulator_token, "/app/investigations")
    view.page.get_by_label(view.words("地点", "Place")).fill(net["stall"]["uscc"])
    view.page.get_by_role("button", name=view.words("排查", "Investigate")).click()

    row = view.page.locator("table.present tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("[data-field=under-recall]")).to_contain_text(view.words("已在召回中", "Under recall"))
    expect(row.get_by_role("link", name=view.words("发起召回", "Recall"), exact=True)).to_have_count(0)
    row.get_by_role("link", name=recall["number"]).click()
    expect(view.page).to_have_url(re.compile(rf"/app/recalls/{recall['id']}$"))
    expect(view.page.locator("h1")).to_have_text(recall["number"])
