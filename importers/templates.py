"""The bulk-registration templates: one per flow, each column with its Chinese and English header.

A template is what an importer downloads, fills in Excel or their ERP export, and uploads. Headers are matched
loosely (Chinese label, English label or field name, any column order, ``*`` required markers and full-width
brackets ignored), because the sheets come from customs brokers' and farms' own systems, not only from us.
The columns a flow requires are the ledger's own (``REQUIRED_BY_CATEGORY``) plus GTIN, lot and quantity, so a
sheet that passes here is never refused by ``register_batch`` for a missing declaration.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from ledger.models import Category
from ledger.registry import REQUIRED_BY_CATEGORY

# The data sheet of an XLSX template; an uploaded workbook is read from the sheet of this name when it has one.
DATA_SHEET: Final = "批次 batches"
GUIDE_SHEET: Final = "说明 guide"


class Kind(StrEnum):
    """How a cell is read: each kind has one parser in ``importers.bulk.cells``."""

    GTIN = "gtin"
    LOT = "lot"
    QUANTITY = "quantity"
    DATE = "date"
    COUNTRY = "country"
    TEXT = "text"
    CHOICE = "choice"


@dataclass(frozen=True)
class Column:
    key: str  # the ledger field it fills (``BatchAttributes`` / ``register_batch`` argument)
    zh: str
    en: str
    kind: Kind
    example: str
    note: str  # one line for the guide sheet, Chinese first
    max_length: int | None = None
    aliases: tuple[str, ...] = ()  # other headers seen in customs and farm sheets
    # For CHOICE: every accepted spelling (normalised) → the value the ledger stores.
    choices: Mapping[str, str] = field(default_factory=dict)

    def header(self, *, required: bool) -> str:
        """The header a template writes: ``*报关单号 (customs_declaration_no)``; the star marks a required column."""
        return f"{'*' if required else ''}{self.zh} ({self.key})"


@dataclass(frozen=True)
class Template:
    flow: Category
    title: str
    columns: tuple[Column, ...]
    required: frozenset[str]

    def headers(self) -> list[str]:
        return [c.header(required=c.key in self.required) for c in self.columns]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


GTIN = Column("gtin", "商品条码", "GTIN", Kind.GTIN, "06970001000016", "GTIN-8/12/13/14，校验位须正确；商品须已登记")
LOT = Column(
    "lot", "批号", "Lot", Kind.LOT, "BR2026A01", "GS1 AI 10：最多20个字符，不含空格和汉字", 20, ("批次号", "生产批号")
)
QUANTITY = Column("quantity", "数量", "Quantity", Kind.QUANTITY, "1200", "正整数，单位同商品登记的计量单位")
PRODUCTION_DATE = Column(
    "production_date", "生产日期", "Production date", Kind.DATE, "2026-09-01", "YYYY-MM-DD，不得晚于今天"
)
EXPIRY_DATE = Column(
    "expiry_date", "有效期至", "Expiry date", Kind.DATE, "2028-08-31", "YYYY-MM-DD，须晚于生产日期",
    aliases=("保质期至", "失效日期", "有效期"),
)  # fmt: skip
COLD_CHAIN_COLUMNS = (
    GTIN,
    LOT,
    QUANTITY,
    Column(
        "customs_declaration_no", "报关单号", "Customs declaration No.", Kind.TEXT, "310120261000123456",
        "海关报关单编号（18位），请按文本填写", 40, ("报关单编号",),
    ),
    Column(
        "origin_country", "原产国", "Origin country", Kind.COUNTRY, "BR", "ISO 3166-1 两位字母代码，如 BR（巴西）",
        2, ("原产国(地区)", "原产国/地区", "原产地"),
    ),
    Column(
        "quarantine_cert_no", "检疫证明编号", "Quarantine certificate No.", Kind.TEXT, "310100226000123",
        "入境货物检验检疫证明编号", 60, ("入境货物检验检疫证明编号", "检验检疫证明编号"),
    ),
    Column(
        "nucleic_acid_test_no", "核酸检测报告编号", "Nucleic acid test report No.", Kind.TEXT, "NAT-20260915-07",
        "核酸检测报告编号", 60, ("核酸检测编号",),
    ),
    Column(
        "nucleic_acid_result", "核酸检测结果", "Nucleic acid test result", Kind.CHOICE, "阴性",
        "阴性 / 阳性（negative / positive）", 20,
        choices={"阴性": "negative", "negative": "negative", "阳性": "positive", "positive": "positive"},
    ),
    Column(
        "disinfection_cert_no", "消毒证明编号", "Disinfection certificate No.", Kind.TEXT, "XD-3101-5566",
        "预防性消毒证明编号", 60, ("消毒证明",),
    ),
    PRODUCTION_DATE,
    EXPIRY_DATE,
)  # fmt: skip
FARM_PRODUCE_COLUMNS = (
    GTIN,
    LOT,
    QUANTITY,
    Column("farm_origin", "产地", "Farm of origin", Kind.TEXT, "嘉兴市南湖区某蔬菜基地", "基地或产地名称", 200,
           ("产地/基地", "基地", "种植基地")),
    Column("harvest_date", "采收日期", "Harvest date", Kind.DATE, "2026-10-20", "YYYY-MM-DD，不得晚于今天",
           aliases=("采摘日期",)),
    Column(
        "rapid_test_result", "农残快检结果", "Pesticide rapid test result", Kind.CHOICE, "合格",
        "合格 / 不合格（pass / fail）", 20,
        ("快检结果",), {"合格": "pass", "pass": "pass", "不合格": "fail", "fail": "fail"},
    ),
    Column("rapid_test_no", "快检单号", "Rapid test No.", Kind.TEXT, "KJ-20261020-15", "农残快检记录编号", 60,
           ("快检编号",)),
    EXPIRY_DATE,
)  # fmt: skip
VACCINE_COLUMNS = (
    GTIN,
    LOT,
    QUANTITY,
    Column("vaccine_approval_no", "批准文号", "Approval No.", Kind.TEXT, "国药准字S20260001", "药品批准文号", 60),
    Column("lot_release_cert_no", "批签发证明编号", "Lot release certificate No.", Kind.TEXT, "SJ20261234",
           "生物制品批签发证明编号", 60, ("批签发编号",)),
    Column("manufacturer", "生产企业", "Manufacturer", Kind.TEXT, "某生物制品有限公司", "上市许可持有人或生产企业",
           200, ("生产厂家",)),
    PRODUCTION_DATE,
    EXPIRY_DATE,
)  # fmt: skip

_ALWAYS_REQUIRED: Final = frozenset({"gtin", "lot", "quantity"})
TEMPLATES: Final[dict[Category, Template]] = {
    flow: Template(flow, title, columns, _ALWAYS_REQUIRED | frozenset(REQUIRED_BY_CATEGORY[flow]))
    for flow, title, columns in (
        (Category.COLD_CHAIN, "进口冷链食品批次登记 Cold-chain import batches", COLD_CHAIN_COLUMNS),
        (Category.FARM_PRODUCE, "农产品批次登记 Farm produce batches", FARM_PRODUCE_COLUMNS),
        (Category.VACCINE, "疫苗批次登记 Vaccine batches", VACCINE_COLUMNS),
    )
}

_IGNORED_IN_HEADERS = re.compile(r"[\s_\-*:.]+")


def normalize_header(text: str) -> str:
    """Compare headers as people mean them: NFKC folds full-width brackets and letters, case and spacing vanish."""
    return _IGNORED_IN_HEADERS.sub("", unicodedata.normalize("NFKC", text).casefold())


def _alias_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for template in TEMPLATES.values():
        for column in template.columns:
            for alias in (column.key, column.zh, column.en, *column.aliases):
                table[normalize_header(alias)] = column.key
    return table


_ALIASES: Final = _alias_table()


def match_header(text: str) -> str | None:
    """The field a header names, or None. ``报关单号 (customs_declaration_no)`` and ``原产国/地区`` both match:
    a header that is not an alias as a whole is tried part by part (before and inside brackets, around '/')."""
    whole = normalize_header(text)
    if not whole:
        return None
    if whole in _ALIASES:
        return _ALIASES[whole]
    for part in re.split(r"[()/|]", whole):
        if part in _ALIASES:
            return _ALIASES[part]
    return None


def template_csv(flow: Category) -> bytes:
    """The header row as UTF-8 with a BOM: without the BOM, Chinese Excel opens UTF-8 CSV as GBK and garbles it."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(TEMPLATES[flow].headers())
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx(flow: Category) -> bytes:
    """A workbook with an empty data sheet (header row, text-formatted columns) and a guide sheet with examples."""
    template = TEMPLATES[flow]
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new Workbook always has one sheet
    sheet.title = DATA_SHEET
    sheet.append(template.headers())
    sheet.freeze_panes = "A2"
    red, bold = Font(bold=True, color="C00000"), Font(bold=True)
    for index, column in enumerate(template.columns, start=1):
        letter = get_column_letter(index)
        sheet[f"{letter}1"].font = red if column.key in template.required else bold
        sheet.column_dimensions[letter].width = min(36, max(14, len(column.header(required=True)) * 1.1))
        if column.kind not in (Kind.QUANTITY, Kind.DATE):
            # Text format for codes: typed as numbers, Excel drops leading zeros and rounds past 15 digits.
            sheet.column_dimensions[letter].number_format = "@"
    guide = book.create_sheet(GUIDE_SHEET)
    guide.append([template.title])
    guide["A1"].font = Font(bold=True, size=13)
    guide.append(["列 Column", "必填 Required", "格式 Format", "示例 Example", "说明 Notes"])
    for cell in guide[2]:
        cell.font, cell.fill = bold, PatternFill("solid", fgColor="DDEBF7")
    for column in template.columns:
        required = "是 yes" if column.key in template.required else "否 no"
        guide.append([column.header(required=False), required, column.kind.value, column.example, column.note])
    guide.append([])
    guide.append(["在「批次 batches」表第2行起每行填写一个批次；表头可用中文或英文，列的顺序不限。"])
    guide.append(["One batch per row from row 2 of the batches sheet; Chinese or English headers, any column order."])
    for letter, width in zip("ABCDE", (34, 14, 12, 24, 48), strict=True):
        guide.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
