"""The scanning station at /scan in Debian's Chromium: a fake camera playing a printed label, a wedge scanner
typing, fifty scans made offline and sent when the page is reopened, forged codes, refusals, a lost answer."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, LiveApp
from tests.browser.station import Stall, build_stall, sales, sign_in, sold_serials, wedge, y4m_from_png
from trace_api.labels.render import caption_lines, label_png


def _context(browser: Browser, live: LiveApp, **options: object) -> BrowserContext:
    return browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        base_url=live.url,
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
def stall(live: LiveApp) -> Stall:
    return build_stall(live, holding=52)


@pytest.fixture
def context(browser: Browser, live: LiveApp) -> Iterator[BrowserContext]:
    context = _context(browser, live)
    yield context
    context.close()


def test_a_wedge_scanner_types_codes_into_the_list_grouped_by_batch(
    context: BrowserContext, live: LiveApp, stall: Stall
) -> None:
    page = context.new_page()
    sign_in(page, stall.token)
    page.select_option("#action", "sell")
    page.locator("#code").focus()
    page.keyboard.type(stall.codes[0])  # key by key, as a wedge scanner does
    page.keyboard.press("Enter")
    # A GS1 DataMatrix as the scanner sends it: symbology identifier, FNC1 as GS, then Enter.
    page.keyboard.type(f"]d201{stall.gtin}10{stall.lot}\x1d21{stall.serials[1]}")
    page.keyboard.press("Enter")
    group = page.locator(f"li.group[data-batch='{stall.gtin} / {stall.lot}']")
    expect(group.locator(".count")).to_have_attribute("data-count", "2")
    expect(group.locator("li.code[data-verdict=genuine]")).to_have_count(1)
    expect(group.locator("li.code[data-verdict=missing_signature]")).to_have_count(1)
    wedge(page, stall.codes[0])
    expect(page.locator("#flash")).to_contain_text("已扫过")
    page.click("#submit")
    expect(page.locator("li.sent[data-state=accepted]")).to_have_count(2)
    assert sold_serials(live) == sorted(stall.serials[:2])
    page.click("#lang")  # English, and it stays English on the next visit
    expect(page.locator("li.sent[data-state=accepted] .badge").first).to_have_text("recorded")
    page.reload()
    expect(page.locator("header strong")).to_have_text("lotline station")


def test_fifty_scans_made_offline_reach_the_ledger_once_when_the_page_is_reopened(
    context: BrowserContext, live: LiveApp, stall: Stall
) -> None:
    page = context.new_page()
    sign_in(page, stall.token)
    page.wait_for_function("navigator.serviceWorker.controller !== null")
    context.set_offline(True)
    page.reload()  # no network: the service worker serves the app
    expect(page.locator("#network")).to_have_attribute("data-state", "offline")
    page.select_option("#action", "sell")
    for code in stall.codes[:50]:
        wedge(page, code)
    expect(page.locator("li.code[data-verdict=genuine]")).to_have_count(50)
    page.click("#submit")
    expect(page.locator("#pending")).to_contain_text("50")
    expect(page.locator("li.sent[data-state=pending]")).to_have_count(50)
    page.close()
    assert sales(live) == 0

    context.set_offline(False)
    reopened = context.new_page()
    reopened.goto("/scan")
    expect(reopened.locator("li.sent[data-state=accepted]")).to_have_count(50)
    expect(reopened.locator("#pending")).to_be_hidden()
    assert sales(live) == 50
    assert sold_serials(live) == sorted(stall.serials[:50])


def test_a_forged_code_is_flagged_while_offline_and_kept_out_of_the_list(
    context: BrowserContext, live: LiveApp, stall: Stall
) -> None:
    page = context.new_page()
    sign_in(page, stall.token)
    context.set_offline(True)
    serial = stall.serials[0]
    altered = stall.codes[0].replace(f"/21/{serial}", f"/21/{serial[:-1]}{'B' if serial[-1] != 'B' else 'C'}")
    wedge(page, altered)
    forged = page.locator("li.code[data-verdict=unknown_issuer]")
    expect(forged).to_have_count(1)
    expect(forged).to_contain_text("伪造")
    expect(page.locator("#flash")).to_contain_text("疑似伪造")
    expect(page.locator("li.group .count")).to_have_attribute("data-count", "0")
    page.select_option("#action", "sell")
    wedge(page, stall.codes[1])
    page.click("#submit")
    sent = page.locator("li.sent")
    expect(sent).to_have_count(1)  # the forged code was not submitted
    expect(sent).to_have_attribute("data-state", "pending")
    context.set_offline(False)  # the online event sends the queue
    expect(sent).to_have_attribute("data-state", "accepted")
    assert sold_serials(live) == [stall.serials[1]]


def test_a_refused_scan_shows_its_reason_on_its_line(context: BrowserContext, live: LiveApp, stall: Stall) -> None:
    live.post("/api/v1/scans", stall.token, {"action": "sell", "codes": [stall.codes[1]]})
    page = context.new_page()
    sign_in(page, stall.token)
    page.select_option("#action", "sell")
    wedge(page, stall.codes[0])
    wedge(page, stall.codes[1])
    page.click("#submit")
    refused = page.locator("li.sent[data-state=refused]")
    expect(refused).to_have_count(1)
    expect(refused.locator(f"li.code[data-path$='/21/{stall.serials[1]}'] .refusal")).to_contain_text("已售出")
    expect(page.locator("li.sent[data-state=accepted]")).to_have_count(1)
    assert sales(live) == 2


def test_a_sync_whose_answer_is_lost_is_resent_and_recorded_once(browser: Browser, live: LiveApp, stall: Stall) -> None:
    """The server records the scans but the answer never arrives (the connection drops): the queue keeps them
    pending, the next sync resends the same keys, and the server replays instead of recording again."""
    # Playwright sees the page's requests only when no service worker stands in between.
    context = _context(browser, live, service_workers="block")
    page = context.new_page()
    sign_in(page, stall.token)
    page.select_option("#action", "sell")
    lost: list[str] = []

    def drop_the_answer(route: Route) -> None:
        route.fetch()  # the server receives the list and records it
        lost.append(route.request.headers["idempotency-key"])
        route.abort("connectionreset")

    page.route("**/api/v1/scans/lines", drop_the_answer)
    for code in stall.codes[:3]:
        wedge(page, code)
    with page.expect_event("requestfailed", lambda request: request.url.endswith("/api/v1/scans/lines")):
        page.click("#submit")
    expect(page.locator("li.sent[data-state=pending]")).to_have_count(3)
    assert len(lost) == 1
    assert sales(live) == 3, "the server recorded the scans whose answer was lost"

    page.unroute("**/api/v1/scans/lines")
    page.reload()  # the app syncs when it opens
    expect(page.locator("li.sent[data-state=accepted]")).to_have_count(3)
    assert sales(live) == 3
    context.close()


@pytest.fixture
def camera_page(browser: Browser, live: LiveApp, stall: Stall, tmp_path: Path) -> Iterator[Page]:
    """Chromium whose camera films a label the project printed (the label PNG of one of the stall's codes)."""
    uri = stall.codes[0]
    png = label_png(uri, caption_lines(uri, expiry=None, name="巴西冷冻牛腱", locale="zh-CN"))
    video = y4m_from_png(png, tmp_path / f"label-{uuid.uuid4().hex[:6]}.y4m")
    args = [
        *CHROMIUM_ARGS,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    # A second Chromium, from the same Playwright: the camera's file is fixed when the browser starts.
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, args=args)
    try:
        yield _context(chromium, live, permissions=["camera"]).new_page()
    finally:
        chromium.close()


def test_the_camera_scans_a_printed_label_into_the_list(camera_page: Page, live: LiveApp, stall: Stall) -> None:
    page = camera_page
    sign_in(page, stall.token)
    page.select_option("#action", "sell")
    page.click("#camera-button")
    line = page.locator(f"li.code[data-path$='/21/{stall.serials[0]}']")
    expect(line).to_have_attribute("data-verdict", "genuine", timeout=30_000)
    assert page.evaluate("document.body.dataset.camera") == "zxing-wasm"  # headless Chromium has no BarcodeDetector
    expect(page.locator("li.code")).to_have_count(1)  # the label stays in view: read once, not once a frame
    page.click("#camera-button")
    page.click("#submit")
    expect(page.locator("li.sent[data-state=accepted]")).to_have_count(1)
    assert sold_serials(live) == [stall.serials[0]]


def test_the_phone_view_of_a_market_stall(
    context: BrowserContext, live: LiveApp, stall: Stall, screenshots: Path
) -> None:
    """The README's picture: a stall selling, one code refused on its line, a forged label flagged."""
    live.post("/api/v1/scans", stall.token, {"action": "sell", "codes": [stall.codes[2]]})
    page = context.new_page()
    sign_in(page, stall.token)
    page.select_option("#action", "sell")
    for code in stall.codes[:3]:
        wedge(page, code)
    page.click("#submit")
    expect(page.locator("li.sent[data-state=refused]")).to_have_count(1)
    for code in stall.codes[3:6]:
        wedge(page, code)
    wedge(page, stall.codes[6].replace(f"/21/{stall.serials[6]}", f"/21/{stall.serials[7]}"))
    expect(page.locator("li.code[data-verdict=unknown_issuer]")).to_have_count(1)
    page.locator("#code").blur()
    path = screenshots / "station-phone.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
