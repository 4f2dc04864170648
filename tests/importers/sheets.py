"""Sheets for the bulk-import tests: an importer with one product per flow, valid rows, CSV and XLSX writers."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date, timedelta

from openpyxl import Workbook
from sqlalchemy.orm import Session

from importers.templates import TEMPLATES
from ledger.identifiers import make_gtin, make_uscc
from ledger.models import Category, Organisation, Role
from ledger.recorder import Signer
from ledger.registry import create_organisation, create_product
from tests.ledger.network import make_signer

PREFIX = "6970002"
GTINS = {
    Category.COLD_CHAIN: make_gtin(PREFIX, 1),
    Category.FARM_PRODUCE: make_gtin(PREFIX, 2),
    Category.VACCINE: make_gtin(PREFIX, 3),
}
TODAY = date.today()
PAST = (TODAY - timedelta(days=30)).isoformat()
LATER = (TODAY + timedelta(days=700)).isoformat()

Row = dict[str, str]


def importer(
    db: Session, *, n: int = 1, roles: Sequence[Role] = (Role.PRODUCER,), products: bool = True
) -> tuple[Organisation, Signer]:
    """An importer; the first one also registers the product of each flow (``GTINS``)."""
    signer = make_signer()
    org, _token = create_organisation(
        db, signer.vault, name=f"进口商{n}", uscc=make_uscc(f"91330100MA3{n:06d}"), roles=list(roles)
    )
    if products:
        for flow, gtin in GTINS.items():
            create_product(db, org, name=f"{flow.value} product", category=flow, company_prefix=PREFIX, gtin=gtin)
    db.flush()
    return org, signer


def valid_row(flow: Category, lot: str, quantity: int = 100) -> Row:
    base = {"gtin": GTINS[flow], "lot": lot, "quantity": str(quantity)}
    if flow is Category.COLD_CHAIN:
        return base | {
            "customs_declaration_no": "310120261000123456",
            "origin_country": "BR",
            "quarantine_cert_no": "310100226000123",
            "nucleic_acid_test_no": f"NAT-{lot}",
            "nucleic_acid_result": "阴性",
            "disinfection_cert_no": "XD-3101-5566",
            "production_date": PAST,
            "expiry_date": LATER,
        }
    if flow is Category.FARM_PRODUCE:
        return base | {"farm_origin": "嘉兴市南湖区蔬菜基地", "harvest_date": PAST, "rapid_test_result": "合格"}
    return base | {
        "vaccine_approval_no": "国药准字S20260001",
        "lot_release_cert_no": f"SJ-{lot}",
        "manufacturer": "某生物制品有限公司",
        "production_date": PAST,
        "expiry_date": LATER,
    }


def headers(flow: Category, style: str = "template") -> dict[str, str]:
    """Field → header text: as the template writes it, Chinese only, or English only."""
    columns = TEMPLATES[flow].columns
    required = TEMPLATES[flow].required
    if style == "zh":
        return {c.key: c.zh for c in columns}
    if style == "en":
        return {c.key: c.en for c in columns}
    return {c.key: c.header(required=c.key in required) for c in columns}


def grid(rows: Sequence[Row], header: dict[str, str], *, order: Sequence[str] | None = None) -> list[list[object]]:
    """A header line and one line per row, as lists a test may still edit (type a cell, insert a blank line)."""
    keys = list(order or header)
    lines: list[list[object]] = [[header[k] for k in keys]]
    lines += [[row.get(k, "") for k in keys] for row in rows]
    return lines


def csv_bytes(cells: Sequence[Sequence[object]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(cells)
    return out.getvalue().encode(encoding)


def xlsx_bytes(cells: Sequence[Sequence[object]], *, title: str | None = None, sheet: str = "Sheet1") -> bytes:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.title = sheet
    if title:
        ws.append([title])
    for line in cells:
        ws.append(list(line))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
