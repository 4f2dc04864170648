"""Chromium against the real app: uvicorn serves ``create_app()`` on a free localhost port (in a thread, on the
test database), an embedded chain node anchors the events, and Playwright drives Debian's Chromium.

The browser is ``/usr/bin/chromium`` from apt, never Playwright's own download (``playwright install`` needs a
host this network cannot reach, and Debian patches its Chromium).
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from eth_account import Account
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chain.anchoring import anchor_pending
from chain.anvil import free_port, running_embedded_node
from chain.client import ChainClient
from chain.deploy import ensure_deployed
from ledger.codes import issue_item_codes
from ledger.identifiers import make_uscc
from ledger.keys import KeyVault
from ledger.merkle import keccak256
from ledger.models import Code, Organisation, Role
from ledger.recorder import Signer
from ledger.registry import create_organisation
from ledger.settings import Environment, Settings
from trace_api.app import create_app

SECRET = "browser-test-secret-key-long-enough-0123456789"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
# Every page is tested at both sizes and in both languages: (viewport, locale) as Chromium announces it.
VIEWS = [("phone", "zh-CN"), ("phone", "en"), ("desktop", "zh-CN"), ("desktop", "en")]
OPERATOR_KEY = keccak256(b"lotline browser test operator")
OPERATOR = Account.from_key(OPERATOR_KEY).address
COLD = {
    "customs_declaration_no": "310120261000123456",
    "origin_country": "BR",
    "quarantine_cert_no": "BR-Q-1",
    "nucleic_acid_test_no": "NAT-1",
    "nucleic_acid_result": "negative",
    "disinfection_cert_no": "DIS-1",
    "expiry_date": "2030-01-01",
}


@dataclass
class LiveApp:
    """The app served over real HTTP, with the calls a test needs to build a small trade network."""

    url: str
    http: httpx.Client
    regulator_token: str
    session_factory: sessionmaker[Session]
    signer: Signer
    chain_url: str
    data_dir: Path
    counter: int = field(default=200)

    def post(self, path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
        reply = self.http.post(path, json=body, headers=headers)
        assert reply.status_code == 201, reply.text
        answer: dict[str, Any] = reply.json()
        return answer

    def org(self, name: str, *roles: str) -> tuple[dict[str, Any], str]:
        self.counter += 1
        body = {"name": name, "uscc": make_uscc(f"91330100MA2{self.counter:06d}"), "roles": list(roles)}
        created = self.post("/api/v1/orgs", self.regulator_token, body)
        return created["org"], created["token"]

    def issue_codes(self, org_id: int, batch_id: int, count: int) -> list[str]:
        with self.session_factory() as session:
            org = session.get(Organisation, org_id)
            assert org is not None
            serials = issue_item_codes(session, self.signer, org, batch_id, count)
            session.commit()
        return serials

    def signature(self, batch_id: int, serial: str) -> str:
        """The signature an item's label carries (``?s=``)."""
        with self.session_factory() as session:
            signature = session.scalar(select(Code.signature).where(Code.batch_id == batch_id, Code.serial == serial))
        assert signature is not None
        return signature

    def anchor(self) -> int:
        """Anchor every pending event on the embedded chain, with a contract deployed for this test (as
        ``lotline up`` deploys one); returns how many events were anchored."""
        regulator = self.http.get("/api/v1/orgs/me", headers={"Authorization": f"Bearer {self.regulator_token}"})
        client = ChainClient(self.chain_url)
        record = self.data_dir / "deployment.json"  # where the app looks for the contract, as after `lotline up`
        ensure_deployed(client, OPERATOR_KEY, regulator.json()["chain_address"], OPERATOR, record)
        result = anchor_pending(self.session_factory, client, OPERATOR_KEY, domain=self.signer.domain)
        return result.events if result else 0


@dataclass
class Network:
    """An importer's beef batch with one item code, shipped to a wholesale market and received there."""

    importer: dict[str, Any]
    importer_token: str
    batch: dict[str, Any]
    serial: str
    signature: str
    market_token: str

    @property
    def batch_path(self) -> str:
        return f"/01/{self.batch['gtin']}/10/{self.batch['lot']}"

    @property
    def item_path(self) -> str:
        return f"{self.batch_path}/21/{self.serial}?s={self.signature}"


def build_network(live: LiveApp) -> Network:
    importer, token = live.org("浙江冷链进口有限公司", "producer")
    market, market_token = live.org("杭州一级批发市场", "distributor")
    product = live.post(
        "/api/v1/products",
        token,
        {
            "name": "巴西冷冻牛腱",
            "name_en": "Brazilian frozen beef shank",
            "category": "cold_chain",
            "storage_min_c": -30,
            "storage_max_c": -18,
        },
    )
    batch = live.post("/api/v1/batches", token, {"gtin": product["gtin"], "lot": "BR2026A", "quantity": 100, **COLD})
    (serial,) = live.issue_codes(importer["id"], batch["id"], 1)
    store = live.post(
        "/api/v1/locations", market_token, {"name": "冷库 3 号", "kind": "cold_store", "region_code": "330106"}
    )
    code = f"(01){product['gtin']}(10){batch['lot']}(21){serial}"
    ship = live.post("/api/v1/scans", token, {"action": "ship", "to_org": market["uscc"], "codes": [code]})
    shipment_id = ship["results"][0]["shipment_id"]
    live.post(
        "/api/v1/scans", market_token, {"action": "receive", "shipment_id": shipment_id, "location_id": store["id"]}
    )
    return Network(importer, token, batch, serial, live.signature(batch["id"], serial), market_token)


@pytest.fixture(scope="session")
def chain_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("browser-chain")
    with running_embedded_node(data_dir, block_interval=0.02, balances={OPERATOR: 10**24}) as url:
        yield url


def _serve(app: Any) -> tuple[uvicorn.Server, threading.Thread, str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped before it started serving"
        assert time.monotonic() < deadline, "uvicorn did not start within 30 s"
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{port}"


@pytest.fixture
def live(
    database_url: str, session_factory: sessionmaker[Session], chain_url: str, tmp_path: Path
) -> Iterator[LiveApp]:
    with session_factory() as session:
        _org, token = create_organisation(
            session,
            KeyVault(SECRET),
            name="市场监督管理局",
            uscc=make_uscc("11330100MB0000001"),
            roles=[Role.REGULATOR],
        )
        session.commit()
    settings = Settings(
        environment=Environment.TEST,
        data_dir=tmp_path,
        database_url=database_url,
        secret_key=SECRET,
        public_url="https://trace.example.cn",
        chain_rpc_url=chain_url,
    )
    app = create_app(settings)
    server, thread, url = _serve(app)
    try:
        with httpx.Client(base_url=url, timeout=30) as http:
            yield LiveApp(url, http, token, session_factory, app.state.lotline.signer, chain_url, tmp_path)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


# Playwright's 5 s default for an expectation is a guess about the machine, not about the page: a page that is
# right but slow (two test workers, PostgreSQL and a chain node on two cores) must not fail. Each expectation still
# polls, so a correct page passes as soon as it is right; a wrong one fails after this.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def phone(browser: Browser, live: LiveApp) -> Iterator[Page]:
    """A phone-sized page in a fresh browser profile (no cookies), set to Chinese like most of our users."""
    context = browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="zh-CN", base_url=live.url
    )
    page = context.new_page()
    yield page
    context.close()


@dataclass
class View:
    """A browser at one size, speaking one language: ``words`` picks the expected text for it."""

    page: Page
    size: str
    lang: str
    width: int

    def words(self, zh: str, en: str) -> str:
        return zh if self.lang == "zh-CN" else en

    def sign_in(self, token: str, path: str) -> None:
        self.page.goto(path)
        self.page.get_by_label(self.words("API 令牌", "API token")).fill(token)
        self.page.get_by_role("button", name=self.words("登录", "Sign in")).click()
        expect(self.page).to_have_url(re.compile(re.escape(path) + "$"))

    def fits(self) -> None:
        """Nothing wider than the window: the page never scrolls sideways (a wide table scrolls in its card)."""
        assert self.page.evaluate("document.documentElement.scrollWidth") <= self.width


@pytest.fixture(params=VIEWS, ids=[f"{size}-{lang}" for size, lang in VIEWS])
def view(request: pytest.FixtureRequest, browser: Browser, live: LiveApp) -> Iterator[View]:
    size, lang = request.param
    viewport = PHONE if size == "phone" else DESKTOP
    phone = size == "phone"
    context = browser.new_context(
        viewport=viewport, is_mobile=phone, has_touch=phone, locale=lang, base_url=live.url, accept_downloads=True
    )
    yield View(context.new_page(), size, lang, viewport["width"])
    context.close()


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where screenshots go: the test's directory, or ``LOTLINE_SCREENSHOTS`` (e.g. ``docs``) to refresh the
    README's picture."""
    return Path(os.environ.get("LOTLINE_SCREENSHOTS") or tmp_path)
