"""The pages as a phone's Chromium shows them: the consumer page of a real, anchored item; the language switch;
a recall's red banner; an importer signing in and registering a batch through the form."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session, sessionmaker

from ledger.models import Recall, RecallStatus, RecallTarget
from tests.browser.conftest import COLD, PHONE, LiveApp, build_network

RED = "rgb(196, 22, 28)"


def test_a_phone_shows_an_items_journey_with_every_step_anchored_on_chain(
    phone: Page, live: LiveApp, screenshots: Path
) -> None:
    net = build_network(live)
    assert live.anchor() == 4  # registration, the item codes, ship, receive

    phone.goto(net.item_path)

    expect(phone.locator("h1")).to_have_text("巴西冷冻牛腱")
    steps = phone.locator(".timeline .step-what")
    expect(steps).to_have_text(["批次登记", "赋码", "发货", "收货"])
    expect(phone.locator(".step-who").nth(3)).to_contain_text("杭州一级批发市场")
    expect(phone.locator(".step-where").first).to_have_text("浙江省杭州市西湖区")
    badges = phone.locator(".badge-chain")
    expect(badges).to_have_count(4)
    expect(badges.first).to_contain_text("已上链存证")
    expect(badges.first).to_contain_text(re.compile(r"区块 #\d+"))
    proof_link = badges.first.locator("a")
    expect(proof_link).to_have_attribute("href", re.compile(r"^/proof/[0-9a-f]{64}$"))
    expect(proof_link).to_contain_text(re.compile(r"^0x[0-9a-f]{4}…[0-9a-f]{4} · 查看证明$"))
    expect(phone.locator(".ok")).to_be_visible()
    # Mobile first: nothing wider than the phone, so nothing scrolls sideways.
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    phone.screenshot(path=screenshots / "consumer-page.png", full_page=True)


def test_the_language_switch_turns_the_page_english_and_the_choice_is_remembered(
    phone: Page, live: LiveApp, screenshots: Path
) -> None:
    net = build_network(live)
    phone.goto(net.item_path)
    expect(phone.locator("html")).to_have_attribute("lang", "zh-CN")

    phone.get_by_role("link", name="English").click()

    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.locator("h1")).to_have_text("Brazilian frozen beef shank")
    expect(phone.locator(".timeline .step-what")).to_have_text(
        ["Batch registered", "Item codes issued", "Shipped", "Received"]
    )
    expect(phone.locator(".badge-pending").first).to_have_text("Anchoring pending")
    phone.screenshot(path=screenshots / "consumer-page-en.png")
    phone.goto(net.batch_path)
    expect(phone.locator(".chip")).to_have_text("Imported cold-chain food")
    phone.get_by_role("link", name="中文").click()
    expect(phone.locator(".chip")).to_have_text("进口冷链食品")


def test_a_recalled_batch_opens_with_a_red_banner_at_the_top(
    phone: Page, live: LiveApp, session_factory: sessionmaker[Session], screenshots: Path
) -> None:
    net = build_network(live)
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
        session.add(RecallTarget(recall_id=recall.id, batch_id=net.batch["id"]))
        session.commit()

    phone.goto(net.item_path)

    banner = phone.get_by_role("alert")
    expect(banner).to_contain_text("召回：本批次正在召回中，请勿食用、使用或销售。")
    expect(banner).to_contain_text("ZJ-2026-0042")
    expect(banner).to_have_css("background-color", RED)
    box = banner.bounding_box()
    assert box is not None
    assert (box["y"], box["width"]) == (0, PHONE["width"])
    expect(phone.locator(".ok")).to_have_count(0)
    phone.screenshot(path=screenshots / "consumer-page-recalled.png")


def test_a_code_never_issued_shows_the_counterfeit_warning(phone: Page, live: LiveApp) -> None:
    net = build_network(live)
    response = phone.goto(f"{net.batch_path}/21/NOTISSUED42")
    assert response is not None
    assert response.status == 404
    expect(phone.get_by_role("alert")).to_have_text("此码未在本网络签发，可能是假冒产品")


def test_an_importer_signs_in_with_a_token_and_registers_a_batch_through_the_form(
    phone: Page, live: LiveApp, screenshots: Path
) -> None:
    net = build_network(live)
    phone.goto("/app/batches")
    expect(phone).to_have_url(re.compile(r"/login\?next=/app/batches$"))

    phone.get_by_label("API 令牌").fill(net.importer_token)
    phone.get_by_role("button", name="登录").click()
    expect(phone).to_have_url(re.compile(r"/app/batches$"))
    expect(phone.locator("tbody tr")).to_have_count(1)

    phone.get_by_role("link", name="登记新批次").click()
    phone.get_by_label("产品").select_option(net.batch["gtin"])
    phone.get_by_label("批号").fill("BR2026B")
    phone.get_by_label("数量", exact=True).fill("40")
    phone.get_by_role("button", name="登记").click()
    refusal = phone.get_by_role("alert")
    expect(refusal).to_contain_text("此类产品登记时必须填写：报关单号、原产国、检疫证明、核酸检测、消毒证明。")
    expect(phone.get_by_label("批号")).to_have_value("BR2026B")  # what was typed is kept
    phone.screenshot(path=screenshots / "importer-form-refused.png")

    for name, value in COLD.items():
        box = phone.locator(f"[name={name}]")
        if name == "nucleic_acid_result":
            box.select_option(value)
        else:
            box.fill(value)
    phone.get_by_role("button", name="登记").click()

    expect(phone).to_have_url(re.compile(r"/app/batches/\d+$"))
    expect(phone.locator("h1")).to_contain_text("BR2026B")
    expect(phone.locator(".facts")).to_contain_text(["310120261000123456"])
    phone.screenshot(path=screenshots / "importer-batch.png", full_page=True)
    phone.get_by_role("link", name="我的批次").click()
    expect(phone.locator("tbody tr")).to_have_count(2)
