"""Labels decode back to the exact signed Digital Link, and carry readable Chinese and English captions."""

from __future__ import annotations

import io
import re
import subprocess
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from typing import cast

import pytest
import zxingcpp
from PIL import Image, ImageDraw
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from ledger.code_signing import CodeSigner, signed_uri
from ledger.errors import InvalidInput
from ledger.identifiers import DigitalLink, new_serials
from trace_api.labels.render import (
    FONT_ENV,
    FONT_INSTALL_HINT,
    LabelSpec,
    QrEncoder,
    caption_lines,
    font_path,
    label_png,
    label_sheet_pdf,
    label_svg,
)

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")


BASE = "https://trace.example.cn"


EXPIRY = date(2027, 6, 30)


NAME = "冷冻带鱼（阿根廷）"


def _signed(link: DigitalLink) -> str:
    return signed_uri(link, BASE, CodeSigner(KEY).sign(link))


@pytest.fixture(scope="module")
def uris() -> list[str]:
    return [_signed(DigitalLink(gtin="09506000134352", lot="L2026A", serial=s)) for s in new_serials(30)]


def _decoded(image: Image.Image) -> list[str]:
    return [
        barcode.text
        for barcode in zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))
    ]


def test_caption_lines_read_the_code_in_chinese_and_english(uris: list[str]) -> None:
    serial = uris[0].split("/21/")[1].split("?")[0]
    assert caption_lines(uris[0], expiry=EXPIRY, name=NAME) == [
        NAME,
        "GTIN 09506000134352",
        "批号 L2026A",
        f"序列号 {serial}",
        "有效期 2027-06-30",
    ]
    assert caption_lines(uris[0], locale="en") == ["GTIN 09506000134352", "Lot L2026A", f"Serial {serial}"]
    assert caption_lines(DigitalLink(sscc="106141411234567897"), locale="en") == ["SSCC 106141411234567897"]


def test_an_unsupported_locale_is_refused(uris: list[str]) -> None:
    with pytest.raises(InvalidInput, match="fr"):
        caption_lines(uris[0], locale="fr")
    with pytest.raises(InvalidInput, match="fr"):
        label_sheet_pdf([LabelSpec(uris[0])], title="x", locale="fr")


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_a_png_label_decodes_to_the_exact_signed_uri(uris: list[str], locale: str) -> None:
    for uri in uris[:5]:
        image = Image.open(io.BytesIO(label_png(uri, caption_lines(uri, expiry=EXPIRY, name=NAME, locale=locale))))
        assert image.mode == "1"
        assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)  # PNG stores dots per metre
        assert _decoded(image) == [uri]


def test_a_png_label_widens_for_a_long_caption_instead_of_cutting_it(uris: list[str]) -> None:
    short = Image.open(io.BytesIO(label_png(uris[0], ["GTIN"])))
    long = Image.open(io.BytesIO(label_png(uris[0], ["很长的产品名称" * 4])))
    assert long.size[0] > short.size[0]
    assert _decoded(long) == [uris[0]]


def _rasterise_svg(svg: str, scale: int = 8) -> tuple[Image.Image, list[str]]:
    """Draw the SVG's QR path (``M x,y h n v1 h-n z`` runs) and return it with the caption texts."""
    root = ET.fromstring(svg)
    namespace = {"svg": "http://www.w3.org/2000/svg"}
    width, height = (float(value) for value in root.attrib["viewBox"].split()[2:])
    image = Image.new("L", (int(width * scale), int(height * scale)), 255)
    draw = ImageDraw.Draw(image)
    path = root.find("svg:path", namespace)
    assert path is not None
    for x, y, n in re.findall(r"M([\d.]+),([\d.]+)h(\d+)v1h-\d+z", path.attrib["d"]):
        left, top = float(x) * scale, float(y) * scale
        draw.rectangle((left, top, left + int(n) * scale - 1, top + scale - 1), fill=0)
    texts = [element.text or "" for element in root.iterfind(".//svg:text", namespace)]
    return image, texts


def test_an_svg_label_decodes_to_the_exact_uri_and_keeps_its_caption_as_text(uris: list[str]) -> None:
    lines = caption_lines(uris[0], expiry=EXPIRY, name="鱼 <A&B>")
    image, texts = _rasterise_svg(label_svg(uris[0], lines))
    assert _decoded(image) == [uris[0]]
    assert texts == lines


@pytest.fixture(scope="module")
def sheet(uris: list[str]) -> bytes:
    return label_sheet_pdf([LabelSpec(uri, EXPIRY, NAME) for uri in uris], title="批次 L2026A 标签")


def test_a_pdf_sheet_holds_24_labels_a_page_with_chinese_in_its_text_layer(sheet: bytes, uris: list[str]) -> None:
    reader = PdfReader(io.BytesIO(sheet))
    assert len(reader.pages) == 2
    first, second = (page.extract_text() for page in reader.pages)
    assert "批次 L2026A 标签" in first
    assert "第 1/2 页" in first
    assert first.count("批号 L2026A") == 24
    assert second.count("有效期 2027-06-30") == 6
    assert NAME in first
    serial = uris[0].split("/21/")[1].split("?")[0]
    assert f"序列号 {serial}" in first


def test_a_pdf_sheet_embeds_its_chinese_font(sheet: bytes) -> None:
    """Every font that draws text is embedded (ReportLab's unused initial Helvetica aside), so no viewer or
    printer substitutes boxes for the Chinese captions."""
    reader = PdfReader(io.BytesIO(sheet))
    resources = cast(DictionaryObject, reader.pages[0]["/Resources"])
    fonts = [cast(DictionaryObject, font.get_object()) for font in cast(DictionaryObject, resources["/Font"]).values()]
    text_fonts = [font for font in fonts if str(font["/BaseFont"]) != "/Helvetica"]
    assert [str(font["/BaseFont"]) for font in text_fonts] == ["/AAAAAA+WenQuanYiMicroHei-0"]
    assert "/FontFile2" in cast(DictionaryObject, text_fonts[0]["/FontDescriptor"])


def test_every_qr_code_on_a_rasterised_pdf_page_decodes_to_its_uri(
    sheet: bytes, uris: list[str], tmp_path: Path
) -> None:
    (tmp_path / "sheet.pdf").write_bytes(sheet)
    subprocess.run(["pdftoppm", "-r", "300", "-png", "sheet.pdf", "page"], cwd=tmp_path, check=True)
    first = Image.open(tmp_path / "page-1.png")
    second = Image.open(tmp_path / "page-2.png")
    assert sorted(_decoded(first)) == sorted(uris[:24])
    assert sorted(_decoded(second)) == sorted(uris[24:])


def test_the_same_labels_always_give_the_same_pdf_bytes(sheet: bytes, uris: list[str]) -> None:
    assert label_sheet_pdf([LabelSpec(uri, EXPIRY, NAME) for uri in uris], title="批次 L2026A 标签") == sheet


def test_an_empty_sheet_is_refused() -> None:
    with pytest.raises(InvalidInput, match="at least one"):
        label_sheet_pdf([], title="empty")


def test_the_encoder_reuses_one_version_per_payload_length(uris: list[str]) -> None:
    encoder = QrEncoder()
    version = encoder.version_for(uris[0])
    sides = {encoder.modules(uri).size[0] for uri in uris if len(uri) == len(uris[0])}
    assert sides == {17 + 4 * version}


def test_a_denser_payload_of_the_same_length_still_encodes(uris: list[str]) -> None:
    """Non-ASCII text takes more bytes than characters: the remembered version is too small, so it grows."""
    encoder = QrEncoder()
    version = encoder.version_for(uris[0])
    denser = "码" * 60 + uris[0][60:]
    assert len(denser) == len(uris[0])
    symbol = encoder.modules(denser)
    assert symbol.size[0] > 17 + 4 * version
    scaled = Image.new("L", ((symbol.size[0] + 8) * 6,) * 2, 255)
    scaled.paste(symbol.resize((symbol.size[0] * 6,) * 2, Image.Resampling.NEAREST), (24, 24))
    assert _decoded(scaled) == [denser]


def test_a_missing_font_names_the_package_that_provides_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(FONT_ENV, str(tmp_path / "missing.ttc"))
    with pytest.raises(FileNotFoundError, match=re.escape(FONT_INSTALL_HINT)):
        font_path()
    monkeypatch.delenv(FONT_ENV)
    assert font_path().is_file()
