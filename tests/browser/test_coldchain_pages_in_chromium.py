"""The cold-chain pages in Chromium: a vaccine maker releases held doses with its evidence through the page's form
(a real file input, multipart), and a phone then shows who released them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import LiveApp

CHINA = timezone(timedelta(hours=8))
VACCINE = {
    "vaccine_approval_no": "国药准字S20260001",
    "lot_release_cert_no": "SJ20261234",
    "manufacturer": "某生物制品有限公司",
    "expiry_date": "2030-01-01",
}


@pytest.fixture
def desk(browser: Browser, live: LiveApp) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", base_url=live.url)
    page = context.new_page()
    yield page
    context.close()


def held_vaccines(live: LiveApp) -> tuple[str, str, str]:
    """A maker's 2-8 °C vaccine shipped to a clinic, 3 h at 12 °C on the way: (maker's token, GTIN, lot)."""
    _maker, maker = live.org("某生物制品有限公司", "producer")
    clinic, clinic_token = live.org("西湖区接种门诊", "vaccinator")
    body = {"name": "流感疫苗", "category": "vaccine", "storage_min_c": 2, "storage_max_c": 8}
    gtin = live.post("/api/v1/products", maker, body)["gtin"]
    live.post("/api/v1/batches", maker, {"gtin": gtin, "lot": "V2026-01", "quantity": 100, **VACCINE})
    shipped = (datetime.now(UTC) - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    line = {"gtin": gtin, "lot": "V2026-01", "quantity": 20}
    ship = {"action": "ship", "to_org": clinic["uscc"], "lines": [line], "event_time": shipped.isoformat()}
    shipment = live.post("/api/v1/scans", maker, ship)["results"][0]["shipment_id"]
    local = shipped.astimezone(CHINA)
    rows = [
        f"{n + 1},{local + timedelta(minutes=5 * n):%Y/%m/%d %H:%M:%S},{12 if 12 <= n < 48 else 5}" for n in range(60)
    ]
    content = "\r\n".join(["设备编号：RC5-2001", "序号,时间,温度(℃)", *rows, ""]).encode("gbk")
    reply = live.http.post(
        f"/api/v1/temperature/files?shipment_id={shipment}",
        files={"file": ("rc5.csv", content, "text/csv")},
        headers={"Authorization": f"Bearer {maker}", "Idempotency-Key": uuid.uuid4().hex},
    )
    assert reply.status_code == 201, reply.text
    live.post("/api/v1/scans", clinic_token, {"action": "receive", "shipment_id": shipment})
    return maker, gtin, "V2026-01"


def test_the_maker_releases_held_doses_with_its_evidence_and_a_phone_shows_who(
    desk: Page, phone: Page, live: LiveApp
) -> None:
    maker, gtin, lot = held_vaccines(live)
    desk.goto("/app/excursions")
    desk.get_by_label("API 令牌").fill(maker)
    desk.get_by_role("button", name="登录").click()
    expect(desk).to_have_url(re.compile(r"/app/excursions$"))
    expect(desk.locator("tr[data-excursion-id]")).to_have_count(1)
    desk.locator("tr[data-excursion-id] a").click()
    expect(desk.locator('[data-field="status"]')).to_have_text("暂停使用，待处置")
    desk.get_by_label("理由").fill("稳定性数据：12℃ 下 3 小时在允许范围内")
    evidence = {"name": "stability.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.7\nstability data\n"}
    desk.get_by_label("证据文件").set_input_files(evidence)  # type: ignore[arg-type]
    desk.get_by_role("button", name="放行").click()
    expect(desk.locator('[data-field="status"]')).to_have_text("已放行")

    phone.goto(f"/01/{gtin}/10/{lot}")
    expect(phone.locator('[data-excursion="released"]')).to_contain_text("经 某生物制品有限公司 评估后放行")
