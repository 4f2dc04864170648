"""Consumer trust in Chromium, at a phone's and a desktop's size, in Chinese and English: a sold pack keeps showing
a closed recall with what to do, and a label whose signature was altered gets the red never-issued notice."""

from __future__ import annotations

import uuid
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import LiveApp, Network, View, build_network


def _sold_then_recalled(live: LiveApp) -> tuple[Network, dict[str, object]]:
    """The pack is sold at the market, then its batch is recalled and the recall closed."""
    net = build_network(live)
    live.post("/api/v1/scans", net.market_token, {"action": "sell", "codes": [f"https://x.cn{net.item_path}"]})
    lot = {"gtin": net.batch["gtin"], "lot": net.batch["lot"]}
    body = {"batches": [lot], "recall_class": 1, "reason": "单增李斯特菌阳性 / Listeria positive"}
    recall = live.post("/api/v1/recalls", live.regulator_token, body)
    headers = {"Authorization": f"Bearer {live.regulator_token}", "Idempotency-Key": uuid.uuid4().hex}
    closed = live.http.post(f"/api/v1/recalls/{recall['id']}/close", json={"reason": "已全部召回"}, headers=headers)
    assert closed.status_code == 200, closed.text
    return net, recall


def test_a_sold_pack_keeps_showing_its_closed_recall_and_what_to_do(
    view: View, live: LiveApp, screenshots: Path
) -> None:
    net, recall = _sold_then_recalled(live)
    page = view.page
    page.goto(net.item_path)
    expect(page.locator("[data-warning=recalled_before]")).to_have_text(
        view.words(
            "本批次曾被召回（已结束）。如您家中仍有此商品，请勿食用或使用。",
            "This batch was recalled (the recall is closed). If you still have it at home, do not eat or use it.",
        )
    )
    notice = page.locator(f"[data-recall='{recall['number']}']")
    expect(notice).to_have_attribute("data-status", "closed")
    expect(notice).to_contain_text("单增李斯特菌阳性 / Listeria positive")
    expect(notice.locator("[data-todo]")).to_have_text(
        [
            view.words("立即停止食用", "Stop eating it now"),
            view.words("凭包装退回购买处，可退货退款", "Return it with its pack where you bought it for a refund"),
            view.words("如有疑问或不适，请拨打 12315", "Questions or feeling unwell: call 12315"),
        ]
    )
    expect(page.locator("[data-item=sold]")).to_be_visible()
    expect(page.locator("[data-lookups]")).to_be_visible()
    expect(page.get_by_text(view.words("记录完整", "record is complete"))).to_have_count(0)
    view.fits()
    page.screenshot(path=screenshots / f"consumer-recall-history-{view.size}-{view.lang}.png", full_page=True)


def test_a_label_with_an_altered_signature_gets_the_red_notice(view: View, live: LiveApp) -> None:
    net = build_network(live)
    altered = ("B" if net.signature[0] != "B" else "C") + net.signature[1:]
    page = view.page
    response = page.goto(net.item_path.replace(net.signature, altered))
    assert response is not None
    assert response.status == 404
    expect(page.locator("[data-warning=unknown]")).to_have_text(
        view.words(
            "此码未在本网络签发，可能是假冒产品",
            "This code was never issued on this network: the product may be counterfeit",
        )
    )
    expect(page.locator("[data-signature=invalid]")).to_be_visible()
    expect(page.locator("h1")).not_to_have_text(view.words("巴西冷冻牛腱", "Brazilian frozen beef shank"))
    view.fits()
