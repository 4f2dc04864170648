"""What a regulator hands on: the recall's critical tracking events with FSMA 204 key data elements (CSV, XLSX)
and the EPCIS 2.0 document of every event of the recalled batches.

One row per critical tracking event (CTE) per recalled batch: the batch's birth (first receiving of an import,
initial packing of produce, manufacture of a vaccine, or the transformation that made it), every shipping and
receiving, transformation inputs, and every sale or administration. Rows come from the ledger's ``movements``
(the trade-graph projection of the events), so the quantities are exactly the ones the rules enforced. Every KDE
column is derived from the ledger; none is left blank.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import epcis, epcis_schema
from ledger.models import (
    Batch,
    Category,
    Event,
    EventBatch,
    Location,
    Movement,
    MovementKind,
    Organisation,
    Product,
    Transformation,
)
from recall import repository

COLUMNS: Final = (
    ("cte", "Critical tracking event"),
    ("event_date", "Event date and time"),
    ("tlc", "Traceability lot code"),
    ("product", "Product description"),
    ("quantity", "Quantity"),
    ("unit", "Unit of measure"),
    ("location", "Location description"),
    ("location_id", "Location identifier (GLN / USCC)"),
    ("tlc_source", "Traceability lot code source"),
    ("previous_source", "Immediate previous source (ship from)"),
    ("next_recipient", "Immediate subsequent recipient (ship to)"),
    ("reference_type", "Reference document type"),
    ("reference_number", "Reference document number"),
    ("event_id", "EPCIS event ID"),
)
CTE_KINDS: Final = {
    MovementKind.SHIP: "Shipping",
    MovementKind.RECEIVE: "Receiving",
    MovementKind.TRANSFORM_IN: "Transformation (input lot)",
    MovementKind.TRANSFORM_OUT: "Transformation (new lot)",
    MovementKind.SELL: "Sale to consumer",
    MovementKind.ADMINISTER: "Administration (dose dispensed)",
}
BIRTH: Final = {
    Category.COLD_CHAIN: "Receiving (first receiver of an import)",
    Category.FARM_PRODUCE: "Initial packing",
    Category.VACCINE: "Creation (manufacture)",
}
# Cells a spreadsheet would evaluate as a formula: ledger text comes from many organisations.
_FORMULA_START: Final = ("=", "+", "@", "\t", "\r")


@dataclass
class _Context:
    batches: dict[int, Batch]
    products: dict[int, Product]
    orgs: dict[int, Organisation]
    locations: dict[int, Location]
    lot_codes: dict[int, str]


def export_rows(session: Session, recall_id: int) -> list[dict[str, Any]]:
    """The recall's CTE rows in event order, keyed like ``COLUMNS``; quantities are ints, the rest text."""
    batch_ids = repository.target_batch_ids(session, recall_id)
    rows = session.execute(
        select(Movement, Event)
        .join(Event, Event.seq == Movement.event_seq)
        .where(Movement.batch_id.in_(batch_ids), Movement.kind.in_([MovementKind.COMMISSION, *CTE_KINDS]))
        .order_by(Event.event_time, Event.seq, Movement.id)
    ).all()
    transformations = _transformations(session, {e.seq for m, e in rows if m.kind.value.startswith("transform")})
    ctx = _context(session, batch_ids, [m for m, _ in rows], [e for _, e in rows], transformations)
    return [_row(ctx, movement, event, transformations) for movement, event in rows]


def _transformations(session: Session, seqs: set[int]) -> dict[int, list[Transformation]]:
    by_event: dict[int, list[Transformation]] = defaultdict(list)
    for link in session.scalars(select(Transformation).where(Transformation.event_seq.in_(sorted(seqs)))):
        by_event[link.event_seq].append(link)
    return by_event


def _context(
    session: Session,
    batch_ids: list[int],
    movements: list[Movement],
    events: list[Event],
    transformations: dict[int, list[Transformation]],
) -> _Context:
    linked = {b for links in transformations.values() for t in links for b in (t.input_batch_id, t.output_batch_id)}
    batches = {b.id: b for b in session.scalars(select(Batch).where(Batch.id.in_(sorted(set(batch_ids) | linked))))}
    products = {
        p.id: p
        for p in session.scalars(select(Product).where(Product.id.in_({b.product_id for b in batches.values()})))
    }
    org_ids = {o for m in movements for o in (m.from_org_id, m.to_org_id) if o is not None}
    org_ids |= {e.org_id for e in events} | {b.registrant_org_id for b in batches.values()}
    orgs = {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))}
    location_ids = {e.location_id for e in events if e.location_id is not None}
    locations = {loc.id: loc for loc in session.scalars(select(Location).where(Location.id.in_(location_ids)))}
    lot_codes = {b.id: f"(01){products[b.product_id].gtin}(10){b.lot}" for b in batches.values()}
    return _Context(batches, products, orgs, locations, lot_codes)


def _party(org: Organisation) -> str:
    return f"{org.name} ({'GLN ' + org.gln if org.gln else 'USCC ' + org.uscc})"


def _row(
    ctx: _Context, movement: Movement, event: Event, transformations: dict[int, list[Transformation]]
) -> dict[str, Any]:
    batch = ctx.batches[movement.batch_id]
    product = ctx.products[batch.product_id]
    actor = ctx.orgs[event.org_id]
    location = ctx.locations.get(event.location_id) if event.location_id is not None else None
    place = _party(actor)
    if location is not None:
        place = f"{place}, {location.name}" + (f", {location.address}" if location.address else "")
    place_id = (location.gln if location else None) or actor.gln
    sender = ctx.orgs[movement.from_org_id] if movement.from_org_id is not None else None
    receiver = ctx.orgs[movement.to_org_id] if movement.to_org_id is not None else None
    kind = movement.kind
    previous, following, reference = _flow(ctx, movement, event, batch, product, transformations)
    return {
        "cte": BIRTH[product.category] if kind is MovementKind.COMMISSION else CTE_KINDS[kind],
        "event_date": str(event.document.get("eventTime") or event.event_time.isoformat()),
        "tlc": ctx.lot_codes[batch.id],
        "product": product.name + (f" / {product.name_en}" if product.name_en else ""),
        "quantity": movement.quantity,
        "unit": product.unit,
        "location": place,
        "location_id": f"GLN {place_id}" if place_id else f"USCC {actor.uscc}",
        "tlc_source": _party(ctx.orgs[batch.registrant_org_id]),
        "previous_source": previous or (_party(sender) if sender else place),
        "next_recipient": following or (_party(receiver) if receiver else place),
        "reference_type": reference[0],
        "reference_number": reference[1],
        "event_id": event.event_id,
    }


def _flow(
    ctx: _Context,
    movement: Movement,
    event: Event,
    batch: Batch,
    product: Product,
    transformations: dict[int, list[Transformation]],
) -> tuple[str | None, str | None, tuple[str, str]]:
    """(previous source, next recipient, reference document) where they are not simply the two parties."""
    kind = movement.kind
    links = transformations.get(event.seq, [])
    if kind is MovementKind.COMMISSION:
        return _origin(batch, product), None, _birth_document(batch, product, event)
    if kind in (MovementKind.SHIP, MovementKind.RECEIVE):
        return None, None, ("Shipment", f"lotline shipment {movement.shipment_id}")
    if kind is MovementKind.TRANSFORM_IN:
        outputs = sorted({ctx.lot_codes[t.output_batch_id] for t in links if t.input_batch_id == batch.id})
        return None, "New lot " + ", ".join(outputs), ("Transformation event", event.event_id)
    if kind is MovementKind.TRANSFORM_OUT:
        inputs = sorted({ctx.lot_codes[t.input_batch_id] for t in links if t.output_batch_id == batch.id})
        return "Input lots " + ", ".join(inputs), None, ("Transformation event", event.event_id)
    recipient = "Consumer (retail sale)" if kind is MovementKind.SELL else "Vaccine recipient (dose administered)"
    return (
        None,
        recipient,
        ("Point-of-sale record" if kind is MovementKind.SELL else "Vaccination record", event.event_id),
    )


def _origin(batch: Batch, product: Product) -> str:
    """Where a batch came from before the network knew it: what FSMA asks of a first receiver."""
    if product.category is Category.COLD_CHAIN and batch.origin_country:
        return f"Imported from {batch.origin_country}"
    if product.category is Category.FARM_PRODUCE and batch.farm_origin:
        return f"Harvested at {batch.farm_origin}" + (f" on {batch.harvest_date}" if batch.harvest_date else "")
    if batch.manufacturer:
        return f"Manufactured by {batch.manufacturer}"
    return "Produced by the traceability lot code source"


def _birth_document(batch: Batch, product: Product, event: Event) -> tuple[str, str]:
    candidates = {
        Category.COLD_CHAIN: ("Customs declaration", batch.customs_declaration_no),
        Category.FARM_PRODUCE: ("Rapid pesticide test report", batch.rapid_test_no),
        Category.VACCINE: ("Lot release certificate", batch.lot_release_cert_no),
    }
    kind, number = candidates[product.category]
    return (kind, number) if number else ("Commissioning event", event.event_id)


def _cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(rows: Iterable[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte-order mark: without it Excel reads the Chinese names as mojibake."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header for _, header in COLUMNS)
    for row in rows:
        writer.writerow(_cell(row[key]) for key, _ in COLUMNS)
    return ("\ufeff" + out.getvalue()).encode()


def to_xlsx(rows: Iterable[dict[str, Any]], *, title: str) -> bytes:
    """A sheet people sort and filter: bold frozen header, autofilter over every column, readable widths."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]  # Excel's limit on sheet names
    sheet.append([header for _, header in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    widths = [len(header) for _, header in COLUMNS]
    for row in rows:
        values = [_cell(row[key]) for key, _ in COLUMNS]
        sheet.append(values)
        widths = [max(w, len(str(v))) for w, v in zip(widths, values, strict=True)]
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, 60)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def epcis_export(session: Session, recall_id: int) -> dict[str, Any]:
    """Every event of the recalled batches as one EPCIS 2.0 JSON-LD document, checked against GS1's schema."""
    batch_ids = repository.target_batch_ids(session, recall_id)
    seqs = select(EventBatch.event_seq).where(EventBatch.batch_id.in_(batch_ids))
    events = session.scalars(select(Event.document).where(Event.seq.in_(seqs)).order_by(Event.event_time, Event.seq))
    document = epcis.epcis_document(list(events))
    epcis_schema.validate_document(document)
    return document
