"""The front door in Chromium, at a phone's and a desktop's size, in Chinese and English: the landing page and its
lookup box, and the API docs (Swagger UI, ReDoc) rendering with every request off this machine blocked."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import ConsoleMessage, Page, Route, expect

from tests.browser.conftest import LiveApp, View, build_network

LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def block_the_network(page: Page) -> list[str]:
    """Abort every request that would leave this machine; returns the list of what was tried."""
    tried: list[str] = []

    def guard(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).scheme in ("http", "https", "ws", "wss") and urlsplit(url).hostname not in LOCAL_HOSTS:
            tried.append(url)
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route("**/*", guard)
    return tried


def policy_violations(page: Page) -> list[str]:
    refused: list[str] = []

    def listen(message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", listen)
    return refused


def test_the_landing_page_says_what_the_network_is_and_links_every_door(view: View, screenshots: Path) -> None:
    page = view.page
    response = page.goto("/")
    assert response is not None
    assert response.status == 200

    expect(page.locator("html")).to_have_attribute("lang", view.lang)
    expect(page.locator("h1")).to_have_text(view.words("食品与疫苗追溯网络", "Food and vaccine traceability network"))
    expect(page.locator(".hero")).to_contain_text(view.words("写入区块链", "written to a blockchain"))
    station = page.get_by_role("link", name=view.words("扫码工作站", "Scanning station"))
    expect(station).to_have_attribute("href", "/scan")
    sign_in = page.locator("main").get_by_role("link", name=view.words("企业登录", "Organisation sign-in"))
    expect(sign_in).to_have_attribute("href", "/login")
    expect(page.get_by_role("link", name=view.words("API 文档", "API docs"))).to_have_attribute("href", "/docs")
    expect(page.get_by_role("link", name="ReDoc")).to_have_attribute("href", "/redoc")
    expect(page.get_by_label(view.words("追溯码", "Code"), exact=True)).to_be_visible()
    expect(page.locator("[data-field=chain-id]")).to_have_text("20260")
    view.fits()
    page.screenshot(path=screenshots / f"landing-{view.size}-{view.lang}.png", full_page=True)


def test_a_code_typed_on_the_landing_page_opens_its_consumer_page(view: View, live: LiveApp) -> None:
    net = build_network(live)
    page = view.page
    page.goto("/")
    box = page.get_by_label(view.words("追溯码", "Code"), exact=True)
    submit = page.get_by_role("button", name=view.words("查询", "Look up"))

    # Typed by hand, the code lacks the signature its QR carries: refused like a forged code, and told why.
    box.fill(f"(01){net.batch['gtin']}(10){net.batch['lot']}(21){net.serial}")
    submit.click()
    expect(page.locator("[data-signature=missing]")).to_be_visible()

    page.goto("/")
    box.fill(f"https://trace.example.cn{net.item_path}")
    submit.click()
    expect(page).to_have_url(re.compile(re.escape(net.item_path) + "$"))
    expect(page.locator("h1")).to_have_text(view.words("巴西冷冻牛腱", "Brazilian frozen beef shank"))

    page.goto("/")
    box.fill("(01)12345678901234(10)X")
    submit.click()
    expect(page.get_by_role("alert")).to_have_text(
        view.words("无法识别这个码，请检查后重试。", "This is not a code we can read; check it and try again.")
    )
    expect(box).to_have_value("(01)12345678901234(10)X")  # what was typed stays, to be corrected
    box.fill(net.batch["gtin"])
    submit.click()
    expect(page.get_by_role("alert")).to_contain_text(view.words("没有批号", "no lot"))
    view.fits()


def test_swagger_ui_renders_from_our_own_assets_with_the_network_blocked(view: View, screenshots: Path) -> None:
    page = view.page
    tried = block_the_network(page)
    refused = policy_violations(page)

    page.goto("/docs")

    expect(page.locator("h1").first).to_have_text(view.words("API 文档", "API docs"))
    operations = page.locator(".swagger-ui .opblock")
    expect(operations.first).to_be_visible(timeout=20_000)
    assert operations.count() > 40
    expect(page.locator(".swagger-ui")).to_contain_text("/api/v1/scans")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("lotline")
    # Opening an operation and its schema works offline too (the schema came from /openapi.json, here).
    page.locator(".opblock-summary-path", has_text="/api/v1/products").first.click()
    expect(page.locator(".opblock-body").first).to_be_visible()
    assert tried == []
    assert refused == []
    view.fits()
    page.screenshot(path=screenshots / f"docs-{view.size}-{view.lang}.png")


def test_redoc_renders_from_our_own_assets_with_the_network_blocked(view: View, screenshots: Path) -> None:
    page = view.page
    tried = block_the_network(page)
    refused = policy_violations(page)

    page.goto("/redoc")

    expect(page.locator("#redoc h1")).to_contain_text("lotline", timeout=20_000)
    expect(page.locator("#redoc")).to_contain_text("/api/v1/scans")
    expect(page.get_by_role("link", name="Swagger UI")).to_have_attribute("href", "/docs")
    assert tried == []
    # ReDoc's sidebar always asks for its maker's logo from their CDN; the page's policy stops it before any
    # request is made (and ReDoc then drops the image). Nothing else is refused.
    assert [re.search(r"'(https?://[^']+)'", text)[1] for text in refused] == [
        "https://cdn.redoc.ly/redoc/logo-mini.svg"
    ]
    page.screenshot(path=screenshots / f"redoc-{view.size}-{view.lang}.png")
