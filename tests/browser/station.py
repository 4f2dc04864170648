"""A small trade network for the station's browser tests, and a fake camera video made from a printed label."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.code_signing import signed_uri
from ledger.identifiers import DigitalLink
from ledger.models import Code, Event
from tests.browser.conftest import COLD, LiveApp

VIDEO_SIZE = (640, 480)


@dataclass
class Stall:
    """A market stall holding ``codes`` (signed Digital Links, as printed on the labels) of one beef batch."""

    token: str
    uscc: str
    gtin: str
    lot: str
    serials: list[str]
    codes: list[str]


def build_stall(live: LiveApp, holding: int) -> Stall:
    importer, importer_token = live.org("浙江冷链进口有限公司", "producer")
    stall, stall_token = live.org("城东农贸市场 12 号摊", "retailer")
    product = live.post(
        "/api/v1/products",
        importer_token,
        {"name": "巴西冷冻牛腱", "category": "cold_chain", "storage_min_c": -30, "storage_max_c": -18},
    )
    batch = live.post(
        "/api/v1/batches", importer_token, {"gtin": product["gtin"], "lot": "BR2026S", "quantity": 200, **COLD}
    )
    serials = live.issue_codes(importer["id"], batch["id"], holding)
    codes = signed_codes(live, product["gtin"], batch["lot"], serials)
    ship = live.post("/api/v1/scans", importer_token, {"action": "ship", "to_org": stall["uscc"], "codes": codes})
    live.post("/api/v1/scans", stall_token, {"action": "receive", "shipment_id": ship["results"][0]["shipment_id"]})
    return Stall(stall_token, stall["uscc"], product["gtin"], batch["lot"], serials, codes)


def signed_codes(live: LiveApp, gtin: str, lot: str, serials: list[str]) -> list[str]:
    with live.session_factory() as session:
        signatures = dict(session.execute(select(Code.serial, Code.signature).where(Code.serial.in_(serials))).all())
    return [
        signed_uri(DigitalLink(gtin=gtin, lot=lot, serial=s), "https://trace.example.cn", signatures[s])
        for s in serials
    ]


def sales(live: LiveApp) -> int:
    return sales_in(live.session_factory)


def sales_in(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(Event).where(Event.biz_step == "retail_selling")) or 0


def sold_serials(live: LiveApp) -> list[str]:
    with live.session_factory() as session:
        rows = session.scalars(select(Code.serial).where(Code.status == "sold").order_by(Code.serial))
        return [serial for serial in rows if serial is not None]


def sign_in(page: Page, token: str) -> None:
    page.goto("/scan")
    page.fill("#token", token)
    page.click("#signin-button")
    expect(page.locator("#station")).to_be_visible()
    page.wait_for_selector("body[data-ready=true][data-keyset=ready]", state="attached")


def wedge(page: Page, text: str) -> None:
    """What a keyboard-wedge scanner does: type the code quickly, then Enter."""
    page.locator("#code").focus()
    page.keyboard.insert_text(text)
    page.keyboard.press("Enter")


def y4m_from_png(png: bytes, path: Path, frames: int = 10) -> Path:
    """A Y4M video (YUV 4:2:0) of the label centred on a white frame: Chromium's fake camera plays it in a loop."""
    label = Image.open(io.BytesIO(png)).convert("RGB")
    frame = Image.new("RGB", VIDEO_SIZE, "white")
    label.thumbnail((VIDEO_SIZE[0] - 40, VIDEO_SIZE[1] - 40))
    frame.paste(label, ((VIDEO_SIZE[0] - label.width) // 2, (VIDEO_SIZE[1] - label.height) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (VIDEO_SIZE[0] // 2, VIDEO_SIZE[1] // 2)
    planes = y.tobytes() + cb.resize(half, Image.Resampling.BILINEAR).tobytes() + cr.resize(half).tobytes()
    header = f"YUV4MPEG2 W{VIDEO_SIZE[0]} H{VIDEO_SIZE[1]} F10:1 Ip A1:1 C420jpeg\n".encode()
    path.write_bytes(header + b"".join(b"FRAME\n" + planes for _ in range(frames)))
    return path
