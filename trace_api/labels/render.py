"""Printable labels for issued codes: one PNG or SVG per code, and A4 PDF sheets of 24 labels.

Each label is the signed Digital Link as a QR code (ISO/IEC 18004, level M) with the human-readable GTIN, lot,
serial and expiry under or beside it, in Chinese or English.

Choices, and why:

* **QR encoder: zxing-cpp, not qrcode.** A signed link is ~160 characters (QR version 8-9). With the version
  and the mask fixed (automatic mask selection is the usual cost), pure-Python ``qrcode`` still needs ≈5 ms per
  symbol here, nearly all in its Reed-Solomon step; zxing-cpp's C++ encoder needs ≈0.2 ms, which is what makes
  ≥600 labels/s on two cores reachable. zxing-cpp is already the scanner's decoder, so no new dependency.
  ``bench/bench_labels.py`` measures both.
* **Version chosen once per payload length**: the first payload of a given length is encoded with automatic
  version selection; every later one reuses that version. A sheet uses the largest version among its labels so
  all its QR codes have the same size.
* **Font: WenQuanYi Micro Hei** from Debian (``apt-get install -y fonts-wqy-microhei``), a TrueType font with
  the GB 2312 and Big5 repertoires that both Pillow and ReportLab can use. The PDF embeds the glyphs it uses
  (ReportLab subsets TrueType fonts), so sheets print the same on any viewer or printer; ReportLab's built-in
  ``STSong-Light`` would not be embedded and renders as boxes where no Adobe Asian font pack is installed.
  Noto CJK would also do for Pillow, but it ships CFF outlines, which ReportLab cannot embed.
  ``LOTLINE_LABEL_FONT`` points at another TrueType/TTC file.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Final, cast
from xml.sax.saxutils import escape

import zxingcpp
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from ledger.code_signing import split_signed
from ledger.errors import InvalidInput
from ledger.identifiers import DigitalLink
from trace_api.web.i18n import catalogue

if TYPE_CHECKING:
    from typing_extensions import Buffer

FONT_ENV: Final = "LOTLINE_LABEL_FONT"
DEBIAN_FONT: Final = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
FONT_INSTALL_HINT: Final = "apt-get install -y fonts-wqy-microhei"
QUIET_ZONE: Final = 4  # modules of white around a QR code, as ISO/IEC 18004 requires
EC_LEVEL: Final = "M"  # 15 % of the symbol may be damaged: the GS1 Digital Link QR default
DATA_MASK: Final = 2  # any mask decodes; fixing one skips the evaluation of all eight
PNG_DPI: Final = 300
_PDF_FONT: Final = "LotlineCJK"
_CAPTIONS: Final = catalogue(Path(__file__).parent / "words.toml")


def font_path() -> Path:
    """The CJK TrueType font for captions, or a clear error naming the package that provides it."""
    configured = os.environ.get(FONT_ENV)
    path = Path(configured) if configured else DEBIAN_FONT
    if not path.is_file():
        source = f"{FONT_ENV}={configured}" if configured else f"Debian's default path {DEBIAN_FONT}"
        raise FileNotFoundError(f"label font not found at {source}; install it with: {FONT_INSTALL_HINT}")
    return path


@lru_cache(maxsize=8)
def _pil_font(size: int) -> ImageFont.FreeTypeFont:
    # Basic layout, not raqm: CJK and Latin need no shaping, and raqm is ten times slower to measure a line.
    return ImageFont.truetype(str(font_path()), size, index=0, layout_engine=ImageFont.Layout.BASIC)


@lru_cache(maxsize=1)
def _pdf_font() -> str:
    pdfmetrics.registerFont(TTFont(_PDF_FONT, str(font_path()), subfontIndex=0))
    return _PDF_FONT


class QrEncoder:
    """QR symbols at a fixed mask and a version remembered per payload length (see the module docstring)."""

    __slots__ = ("_versions",)

    def __init__(self) -> None:
        self._versions: dict[int, int] = {}

    def version_for(self, payload: str) -> int:
        version = self._versions.get(len(payload))
        if version is None:
            side = self._encode(payload, version=None).size[0]
            version = self._versions[len(payload)] = (side - 17) // 4
        return version

    def modules(self, payload: str, version: int | None = None) -> Image.Image:
        """The symbol as a grayscale image, one pixel per module (0 dark, 255 light), without quiet zone."""
        chosen = version or self.version_for(payload)
        try:
            return self._encode(payload, version=chosen)
        except ValueError:  # same length but denser data than the first payload (e.g. non-ASCII): let it grow
            return self._encode(payload, version=None)

    @staticmethod
    def _encode(payload: str, *, version: int | None) -> Image.Image:
        options: dict[str, object] = {"ec_level": EC_LEVEL}
        if version is not None:
            options |= {"version": version, "data_mask": DATA_MASK}
        symbol = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.QRCode, **options)
        bitmap = symbol.to_image(scale=1, add_quiet_zones=False)
        height, width = bitmap.shape
        # zxingcpp.Image exports the buffer protocol, which its type stub does not declare.
        pixels = bytes(cast("Buffer", bitmap))
        return Image.frombuffer("L", (width, height), pixels, "raw", "L", 0, 1)


_ENCODER: Final = QrEncoder()


def caption_lines(
    code: str | DigitalLink, *, expiry: date | None = None, name: str | None = None, locale: str = "zh-CN"
) -> list[str]:
    """The human-readable lines of a label, read from the code itself so they always match the QR content."""
    words = _CAPTIONS.get(locale)
    if words is None:
        raise InvalidInput(f"labels are printed in {', '.join(_CAPTIONS)}, not {locale!r}", locale=locale)
    link = split_signed(code)[0] if isinstance(code, str) else code
    lines = [name] if name else []
    if link.sscc is not None:
        lines.append(f"{words['caption.sscc']} {link.sscc}")
    else:
        lines.append(f"{words['caption.gtin']} {link.gtin}")
    if link.lot is not None:
        lines.append(f"{words['caption.lot']} {link.lot}")
    if link.serial is not None:
        lines.append(f"{words['caption.serial']} {link.serial}")
    if expiry is not None:
        lines.append(f"{words['caption.expiry']} {expiry.isoformat()}")
    return lines


@lru_cache(maxsize=512)
def _caption_strip(line: str, size: int) -> Image.Image:
    """One caption line rendered on its own, black on white and not anti-aliased.

    Cached: in a run of labels only the serial line changes, so the GTIN, lot and expiry lines are drawn once.
    """
    font = _pil_font(size)
    left, _, right, _ = font.getbbox(line)
    strip = Image.new("L", (max(math.ceil(right - left), 1), size * 5 // 4), 255)
    draw = ImageDraw.Draw(strip)
    draw.fontmode = "1"  # thresholded glyphs: a 1-bit label keeps crisp strokes instead of dithered edges
    draw.text((-left, 0), line, fill=0, font=font)
    return strip


def label_png(uri: str, caption_lines: Sequence[str], *, scale: int = 6) -> bytes:
    """One label as a 300 dpi black-and-white PNG: the QR code (``scale`` pixels per module) over its caption.

    Bilevel, like the thermal and laser printers labels go to: a quarter of a grayscale PNG's size, and the
    fastest to encode.
    """
    symbol = _ENCODER.modules(uri)
    quiet = QUIET_ZONE * scale
    qr_side = symbol.size[0] * scale + 2 * quiet
    line_height = 5 * scale
    strips = [_caption_strip(line, 4 * scale) for line in caption_lines]
    width = max(qr_side, *(strip.size[0] + 2 * quiet for strip in strips))
    label = Image.new("L", (width, qr_side + line_height * len(strips) + quiet // 2), 255)
    label.paste(
        symbol.resize((symbol.size[0] * scale,) * 2, Image.Resampling.NEAREST), ((width - qr_side) // 2 + quiet, quiet)
    )
    for row, strip in enumerate(strips):
        label.paste(strip, ((width - strip.size[0]) // 2, qr_side + row * line_height))
    out = io.BytesIO()
    label.convert("1", dither=Image.Dither.NONE).save(out, "PNG", compress_level=1, dpi=(PNG_DPI, PNG_DPI))
    return out.getvalue()


def _dark_runs(symbol: Image.Image) -> list[tuple[int, int, int]]:
    """(row, first column, length) of each horizontal run of dark modules: one rectangle per run, not per module."""
    side = symbol.size[0]
    data = symbol.tobytes()
    runs: list[tuple[int, int, int]] = []
    for y in range(side):
        row = data[y * side : (y + 1) * side]
        x = 0
        while x < side:
            if row[x] == 0:
                start = x
                while x < side and row[x] == 0:
                    x += 1
                runs.append((y, start, x - start))
            else:
                x += 1
    return runs


def label_svg(uri: str, caption_lines: Sequence[str], *, module_mm: float = 0.5) -> str:
    """One label as SVG in millimetres: the QR code as a single path, the caption as real text."""
    symbol = _ENCODER.modules(uri)
    side = symbol.size[0] + 2 * QUIET_ZONE
    font_size, line_height = 4.0, 5.0  # in modules, the PNG's proportions
    font = _pil_font(100)
    text_modules = max((font.getlength(line) / 100 * font_size for line in caption_lines), default=0.0)
    width = max(float(side), text_modules + 2 * QUIET_ZONE)
    height = side + line_height * len(caption_lines) + QUIET_ZONE / 2
    offset = (width - side) / 2 + QUIET_ZONE
    path = "".join(f"M{offset + x:g},{QUIET_ZONE + y}h{n}v1h-{n}z" for y, x, n in _dark_runs(symbol))
    texts = "".join(
        f'<text x="{width / 2:g}" y="{side + row * line_height + font_size:g}">{escape(line)}</text>'
        for row, line in enumerate(caption_lines)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width * module_mm:g}mm" height="{height * module_mm:g}mm" '
        f'viewBox="0 0 {width:g} {height:g}" shape-rendering="crispEdges">'
        f'<rect width="100%" height="100%" fill="#fff"/><path fill="#000" d="{path}"/>'
        f'<g font-family="WenQuanYi Micro Hei, Noto Sans CJK SC, Microsoft YaHei, sans-serif" '
        f'font-size="{font_size:g}" text-anchor="middle" fill="#000">{texts}</g></svg>'
    )


@dataclass(frozen=True, slots=True)
class LabelSpec:
    """One label on a sheet: the signed Digital Link, and what the code itself does not carry."""

    uri: str
    expiry: date | None = None
    name: str | None = None


@dataclass(frozen=True)
class SheetLayout:
    """A4 portrait, 3 × 8 labels of 63.3 × 33.1 mm inside 10 mm margins, under a 12 mm title band."""

    columns: int = 3
    rows: int = 8
    margin: float = 10 * mm
    header: float = 12 * mm
    padding: float = 1.5 * mm
    font_size: float = 7.0
    min_font_size: float = 4.5

    @property
    def per_page(self) -> int:
        return self.columns * self.rows

    @property
    def cell(self) -> tuple[float, float]:
        page_width, page_height = A4
        return (
            (page_width - 2 * self.margin) / self.columns,
            (page_height - 2 * self.margin - self.header) / self.rows,
        )


def label_sheet_pdf(
    labels: Sequence[LabelSpec], *, title: str, locale: str = "zh-CN", layout: SheetLayout | None = None
) -> bytes:
    """A4 label sheets: ``layout.per_page`` labels a page, each a vector QR code with its caption beside it."""
    layout = layout or SheetLayout()
    words = _CAPTIONS.get(locale)
    if words is None:
        raise InvalidInput(f"labels are printed in {', '.join(_CAPTIONS)}, not {locale!r}", locale=locale)
    if not labels:
        raise InvalidInput("a label sheet needs at least one label")
    font = _pdf_font()
    # One version for the whole sheet: the longest payload's, so every QR code on it has the same size.
    version = _ENCODER.version_for(max((label.uri for label in labels), key=len))
    out = io.BytesIO()
    # invariant: no creation date or random document id, so the same labels always give the same bytes.
    canvas = Canvas(out, pagesize=A4, invariant=True, pageCompression=1)
    canvas.setTitle(title)
    canvas.setCreator("lotline")
    pages = -(-len(labels) // layout.per_page)
    for page in range(pages):
        _draw_page_frame(canvas, layout, font, title, words["caption.page"].format(n=page + 1, of=pages))
        chunk = labels[page * layout.per_page : (page + 1) * layout.per_page]
        for index, spec in enumerate(chunk):
            column, row = index % layout.columns, index // layout.columns
            cell_width, cell_height = layout.cell
            x = layout.margin + column * cell_width
            y = A4[1] - layout.margin - layout.header - (row + 1) * cell_height
            _draw_label(canvas, layout, font, spec, locale, version, x, y)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def _draw_page_frame(canvas: Canvas, layout: SheetLayout, font: str, title: str, page_label: str) -> None:
    page_width, page_height = A4
    canvas.setFont(font, 11)
    canvas.drawString(layout.margin, page_height - layout.margin - 6 * mm, title)
    canvas.setFont(font, 8)
    canvas.drawRightString(page_width - layout.margin, page_height - layout.margin - 6 * mm, page_label)
    # Light cut guides around each cell.
    canvas.setStrokeGray(0.8)
    canvas.setLineWidth(0.3)
    canvas.setDash(2, 2)
    cell_width, cell_height = layout.cell
    top = page_height - layout.margin - layout.header
    for column in range(layout.columns + 1):
        x = layout.margin + column * cell_width
        canvas.line(x, top, x, top - layout.rows * cell_height)
    for row in range(layout.rows + 1):
        canvas.line(layout.margin, top - row * cell_height, page_width - layout.margin, top - row * cell_height)
    canvas.setDash()


def _draw_label(
    canvas: Canvas, layout: SheetLayout, font: str, spec: LabelSpec, locale: str, version: int, x: float, y: float
) -> None:
    cell_width, cell_height = layout.cell
    symbol = _ENCODER.modules(spec.uri, version)
    qr_side = cell_height - 2 * layout.padding
    module = qr_side / (symbol.size[0] + 2 * QUIET_ZONE)
    left, top = x + layout.padding + QUIET_ZONE * module, y + layout.padding + qr_side - QUIET_ZONE * module
    path = canvas.beginPath()
    for row, column, length in _dark_runs(symbol):
        path.rect(left + column * module, top - (row + 1) * module, length * module, module)
    canvas.setFillGray(0)
    canvas.drawPath(path, stroke=0, fill=1)
    lines = caption_lines(spec.uri, expiry=spec.expiry, name=spec.name, locale=locale)
    text_x = x + layout.padding + qr_side + 1 * mm
    text_width = x + cell_width - layout.padding - text_x
    line_height = layout.font_size * 1.3
    baseline = y + cell_height / 2 + line_height * (len(lines) / 2) - layout.font_size
    for index, line in enumerate(lines):
        # Shrink a long line (a 20-character lot) to fit the cell rather than run into the next label.
        size = layout.font_size
        while size > layout.min_font_size and pdfmetrics.stringWidth(line, font, size) > text_width:
            size -= 0.25
        canvas.setFont(font, size)
        canvas.drawString(text_x, baseline - index * line_height, line)
