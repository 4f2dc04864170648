"""The consumer's journey and the proof page it links, and the regulator's holder and path tables and holder graph,
in Chromium at a phone's and a desktop's size, in Chinese and English."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from eth_utils import keccak
from playwright.sync_api import Page, expect

from tests.browser.conftest import COLD, LiveApp, View, build_network

LONG_NAMES = (
    "浙江省杭州市西湖区文三路农贸市场冷链水产经营部",
    "Hangzhou Xihu District Wensan Road Cold Chain Seafood Wholesale",
)


def test_the_journey_names_each_step_once_and_regions_by_name(view: View, live: LiveApp, screenshots: Path) -> None:
    net = build_network(live)
    live.anchor()
    page = view.page

    page.goto(net.item_path)

    expect(page.locator(".timeline .step-what")).to_have_text(
        [
            view.words("批次登记", "Batch registered"),
            view.words("赋码", "Item codes issued"),
            view.words("发货", "Shipped"),
            view.words("收货", "Received"),
        ]
    )
    expect(page.locator(".step-where")).to_have_text([view.words("浙江省杭州市西湖区", "杭州市西湖区, Zhejiang")])
    assert "330106" not in page.locator("main").inner_text()
    view.fits()
    page.screenshot(path=screenshots / f"consumer-{view.size}-{view.lang}.png", full_page=True)


def test_the_proof_page_shows_the_merkle_path_the_block_and_how_to_check_it(
    view: View, live: LiveApp, screenshots: Path
) -> None:
    net = build_network(live)
    live.anchor()
    page = view.page
    page.goto(net.item_path)

    page.locator(".badge-chain a").first.click()

    expect(page).to_have_url(re.compile(r"/proof/[0-9a-f]{64}$"))
    expect(page.locator("[data-field=status]")).to_have_text(
        view.words(
            "已核验：区块链上的合约确认这条记录自上链以来没有被改动。",
            "Verified: the contract on chain confirms this record has not changed since it was anchored.",
        )
    )
    expect(page.locator("[data-field=what]")).to_have_text(view.words("批次登记", "Batch registered"))
    digest = page.locator("[data-field=digest]").inner_text()
    assert page.url.endswith(digest.removeprefix("0x"))
    # The path, checked here with another Keccak than the server's: the leaf, then each sibling, smaller first.
    node = keccak(keccak(bytes.fromhex(digest[2:])))
    assert page.locator("[data-field=leaf]").inner_text() == "0x" + node.hex()
    for sibling in page.locator(".merkle-path .sibling").all_inner_texts():
        other = bytes.fromhex(sibling[2:])
        node = keccak(min(node, other) + max(node, other))
    root = page.locator("[data-field=root]").inner_text()
    assert "0x" + node.hex() == root
    contract = (live.data_dir / "deployment.json").read_text()
    address = page.locator("[data-field=contract]").inner_text()
    assert address.lower() in contract.lower()
    expect(page.locator("[data-field=block]")).to_have_text(re.compile(r"^\d+$"))
    expect(page.locator("[data-field=command]")).to_contain_text(f"cast call {address} ")
    expect(page.locator("[data-field=command]")).to_contain_text(root)
    # What anyone may see: no event document, so no organisation's identifiers and no serial.
    html = page.content()
    assert net.importer["uscc"] not in html
    assert net.serial not in html
    view.fits()
    page.screenshot(path=screenshots / f"proof-{view.size}-{view.lang}.png", full_page=True)

    raw = page.get_by_role("link", name=view.words("原始证明数据 (JSON)", "Raw proof (JSON)"))
    expect(raw).to_have_attribute("href", f"/api/v1/verify/events/{digest[2:]}")


def long_named_trade(live: LiveApp) -> dict[str, Any]:
    """An importer with a long Chinese name ships to a market with a long English one, which ships to a stall."""
    importer, imp = live.org(LONG_NAMES[0], "producer")
    market, mkt = live.org(LONG_NAMES[1], "distributor")
    stall, stl = live.org("农贸市场 12 号摊位", "retailer")
    product = live.post("/api/v1/products", imp, {"name": "冷冻带鱼", "category": "cold_chain"})
    line = {"gtin": product["gtin"], "lot": "NB2026L"}
    live.post("/api/v1/batches", imp, {**line, "quantity": 100, **COLD})
    for sender, receiver, token, quantity in ((imp, market, mkt, 30), (mkt, stall, stl, 10)):
        body = {"action": "ship", "to_org": receiver["uscc"], "lines": [{**line, "quantity": quantity}]}
        shipment = live.post("/api/v1/scans", sender, body)["results"][0]["shipment_id"]
        live.post("/api/v1/scans", token, {"action": "receive", "shipment_id": shipment})
    recall = live.post(
        "/api/v1/recalls", live.regulator_token, {"batches": [line], "recall_class": 1, "reason": "核酸检测阳性"}
    )
    return {"recall": recall, "stall": stall, "importer": importer}


def columns_are_readable(page: Page, table: str) -> None:
    """No column squeezed to a character's width: every cell at least three characters wide, and the first
    column (whose row it is) wide enough for a name to read in a few lines."""
    widths = page.locator(f"{table} td, {table} th").evaluate_all("cells => cells.map(c => c.offsetWidth)")
    assert min(widths) >= 40, widths
    names = page.locator(f"{table} tbody td:first-child").evaluate_all("cells => cells.map(c => c.offsetWidth)")
    assert min(names) >= 100, names


def graph_names_are_whole(page: Page) -> None:
    for holder in page.locator("g.holder").all():
        name = (holder.locator("title").text_content() or "").split(" · ")[0]
        text = "".join(holder.locator("tspan").evaluate_all("spans => spans.map(s => s.textContent)"))
        assert text.replace(" ", "") == name.replace(" ", ""), (text, name)  # a Latin line break eats its space
        fits = holder.evaluate(
            "g => g.querySelector('text').getBBox().width <= g.querySelector('rect').getBBox().width - 8"
        )
        assert fits, name


def test_the_recall_holders_table_and_graph_read_whole_on_every_screen(
    view: View, live: LiveApp, screenshots: Path
) -> None:
    net = long_named_trade(live)
    page = view.page
    view.sign_in(live.regulator_token, f"/app/recalls/{net['recall']['id']}")

    expect(page.locator("table.holders tbody tr")).to_have_count(3)
    page.screenshot(path=screenshots / f"recall-{view.size}-{view.lang}.png", full_page=True)
    columns_are_readable(page, "table.holders")
    expect(page.locator("g.holder")).to_have_count(3)
    graph_names_are_whole(page)
    view.fits()


def test_the_investigation_path_tables_read_whole_on_every_screen(view: View, live: LiveApp, screenshots: Path) -> None:
    net = long_named_trade(live)
    page = view.page
    view.sign_in(live.regulator_token, "/app/investigations")
    page.get_by_label(view.words("地点", "Place")).fill(net["stall"]["uscc"])
    page.get_by_role("button", name=view.words("排查", "Investigate")).click()

    expect(page.locator("table.sources tbody tr")).to_have_count(2)
    expect(page.locator("table.sources")).to_contain_text(LONG_NAMES[0])
    page.screenshot(path=screenshots / f"investigation-{view.size}-{view.lang}.png", full_page=True)
    for table in ("table.present", "table.sources", "table.spread"):
        columns_are_readable(page, table)
    path = page.locator("table.sources tbody tr td:last-child").first
    assert path.evaluate("c => c.offsetWidth") >= 120  # the path column holds "A → B → C" in a few lines
    graph_names_are_whole(page)
    view.fits()
