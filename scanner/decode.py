"""Codes read from a photo or a scan of labels, with zxing-cpp (the decoder the phone app runs as WebAssembly).

Images come as bytes (PNG, JPEG, WebP, TIFF, BMP); a PDF of label sheets is rasterised page by page with
``pdftoppm`` (poppler-utils, installed by ``make install``). Only QR codes and (GS1) DataMatrix symbols are
read: the symbols lotline prints and those on vaccine and drug packs.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import zxingcpp
from PIL import Image, UnidentifiedImageError

from ledger.errors import InvalidInput, UnsupportedMediaType

IMAGE_FORMATS: Final = frozenset({"PNG", "JPEG", "WEBP", "TIFF", "BMP", "MPO"})
# A decompression bomb (a tiny file that claims a huge canvas) is refused before it is decoded.
MAX_PIXELS: Final = 40_000_000
PDF_DPI: Final = 200
PDF_MAGIC: Final = b"%PDF-"


@dataclass(frozen=True, slots=True)
class Symbol:
    """One decoded symbol: its text (GS1 element strings in HRI form, ``(01)…``), its format and where it is."""

    text: str
    symbol: str
    page: int
    x: int
    y: int


def _open_image(data: bytes) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as exc:
        raise UnsupportedMediaType("not an image lotline can read (PNG, JPEG, WebP, TIFF or BMP)") from exc
    if image.format not in IMAGE_FORMATS:
        raise UnsupportedMediaType(f"{image.format} images are not read; send PNG or JPEG", format=image.format)
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise InvalidInput(
            f"the image is {width}×{height} pixels; at most {MAX_PIXELS:,} are read", pixels=width * height
        )
    return image.convert("L")


def decode_image(data: bytes, *, page: int = 1) -> list[Symbol]:
    """Every QR code and DataMatrix symbol in one image, top to bottom, left to right."""
    image = _open_image(data)
    found = []
    # Made per call: a formats object held in a module global outlives nanobind at exit and is reported leaked.
    symbols = zxingcpp.barcode_formats_from_str("QRCode,DataMatrix")
    for barcode in zxingcpp.read_barcodes(image, formats=symbols):
        corner = barcode.position.top_left
        found.append(Symbol(barcode.text, barcode.format.name, page, corner.x, corner.y))
    return sorted(found, key=lambda s: (s.page, s.y, s.x))


def decode_pdf(data: bytes) -> list[Symbol]:
    """Every symbol on every page of a PDF (label sheets), rasterised at 200 dpi."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise UnsupportedMediaType("reading PDFs needs pdftoppm (poppler-utils)")
    with tempfile.TemporaryDirectory(prefix="lotline-decode-") as work:
        source = Path(work) / "in.pdf"
        source.write_bytes(data)
        done = subprocess.run(  # noqa: S603 - a fixed program on a file we wrote
            [pdftoppm, "-r", str(PDF_DPI), "-gray", "-png", str(source), str(Path(work) / "page")],
            capture_output=True,
            check=False,
        )
        if done.returncode != 0:
            raise InvalidInput("the PDF could not be read", error=done.stderr.decode(errors="replace")[:300])
        pages = sorted(Path(work).glob("page-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
        return [
            symbol for number, path in enumerate(pages, 1) for symbol in decode_image(path.read_bytes(), page=number)
        ]


def decode_bytes(data: bytes) -> list[Symbol]:
    """An image or a PDF, told apart by their first bytes."""
    return decode_pdf(data) if data.startswith(PDF_MAGIC) else decode_image(data)
