"""Decoding the project's own label renders — one PNG, SVG-free PDF sheets rasterised with pdftoppm — and photos
that are not quite as clean: each code comes back with the verdict the issuers' key set gives it."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageFilter

from ledger.code_signing import CodeSigner, signed_uri
from ledger.errors import InvalidInput, UnsupportedMediaType
from ledger.identifiers import DigitalLink, new_serials
from ledger.keys import address_of
from scanner import decode
from scanner.decode import decode_bytes, decode_image, decode_pdf
from scanner.reading import verdict
from scanner.verify import OfflineVerifier, ScanReason
from trace_api.labels.render import LabelSpec, caption_lines, label_png, label_sheet_pdf

KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
BASE = "https://trace.example.cn"
VERIFIER = OfflineVerifier({address_of(KEY): "宁波冷链进口有限公司"})


def _codes(count: int) -> list[str]:
    signer = CodeSigner(KEY)
    links = [DigitalLink(gtin="09506000134352", lot="L2026A", serial=s) for s in new_serials(count)]
    return [signed_uri(link, BASE, signer.sign(link)) for link in links]


def _label(uri: str) -> bytes:
    return label_png(uri, caption_lines(uri, expiry=None, name="巴西冷冻牛腱", locale="zh-CN"))


def test_a_printed_label_png_decodes_to_its_signed_code_and_is_genuine() -> None:
    (uri,) = _codes(1)
    (symbol,) = decode_image(_label(uri))
    assert (symbol.text, symbol.symbol, symbol.page) == (uri, "QRCode", 1)
    assert verdict(VERIFIER, symbol.text).reason is ScanReason.GENUINE


def test_a_photo_of_a_label_blurred_rotated_and_as_jpeg_still_decodes() -> None:
    (uri,) = _codes(1)
    label = Image.open(io.BytesIO(_label(uri))).convert("RGB")
    photo = Image.new("RGB", (label.width * 2, label.height * 2), (205, 200, 190))
    photo.paste(label.rotate(17, expand=True, fillcolor=(205, 200, 190)), (label.width // 3, label.height // 4))
    buffer = io.BytesIO()
    photo.filter(ImageFilter.GaussianBlur(1.2)).save(buffer, "JPEG", quality=70)
    assert [s.text for s in decode_image(buffer.getvalue())] == [uri]


def test_a_label_sheet_pdf_decodes_every_code_page_by_page() -> None:
    uris = _codes(26)  # 24 labels a page: two pages
    pdf = label_sheet_pdf([LabelSpec(uri, None, "巴西冷冻牛腱") for uri in uris], title="BR / L2026A")
    symbols = decode_pdf(pdf)
    assert len(symbols) == 26
    assert {s.text for s in symbols if s.page == 1} == set(uris[:24])
    assert {s.text for s in symbols if s.page == 2} == set(uris[24:])
    assert decode_bytes(pdf) == symbols
    assert all(verdict(VERIFIER, s.text).genuine for s in symbols)


def test_a_forged_label_decodes_and_is_flagged() -> None:
    (uri,) = _codes(1)
    forged = uri.replace("/10/L2026A/", "/10/L2026B/")
    (symbol,) = decode_image(_label(forged))
    assert verdict(VERIFIER, symbol.text).reason is ScanReason.UNKNOWN_ISSUER


def test_an_image_without_codes_decodes_to_nothing() -> None:
    buffer = io.BytesIO()
    Image.new("L", (300, 200), 255).save(buffer, "PNG")
    assert decode_bytes(buffer.getvalue()) == []


def test_what_is_not_an_image_is_refused() -> None:
    with pytest.raises(UnsupportedMediaType):
        decode_bytes(b"GIF89a not really")
    with pytest.raises(UnsupportedMediaType):
        decode_bytes(b"hello")


def test_a_decompression_bomb_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decode, "MAX_PIXELS", 10_000)
    buffer = io.BytesIO()
    Image.new("L", (200, 200), 255).save(buffer, "PNG")
    with pytest.raises(InvalidInput, match="pixels"):
        decode_bytes(buffer.getvalue())


def test_a_broken_pdf_is_refused() -> None:
    with pytest.raises(InvalidInput):
        decode_pdf(b"%PDF-1.7 nothing else")
