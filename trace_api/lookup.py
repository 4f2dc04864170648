"""What a code tells: the product, batch and item behind it, their status, and their journey for an audience."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import errors
from ledger.goods import batch_state
from ledger.identifiers import DigitalLink
from ledger.journey import Step, batch_journey, item_journey
from ledger.models import Batch, Code, CodeKind, Document, Event, EventBatch, Organisation, Product, Role
from trace_api.batches import ATTRIBUTE_FIELDS


@dataclass
class Found:
    product: Product
    batch: Batch
    code: Code | None


def find(session: Session, link: DigitalLink) -> Found:
    """The rows a Digital Link names; a code never issued here is reported as such (a forgery, or a typo)."""
    if link.gtin is None or link.lot is None:
        raise errors.InvalidDigitalLink("a lotline code names a batch (GTIN + lot) or an item (+ serial)")
    product = session.scalar(select(Product).where(Product.gtin == link.gtin))
    batch = (
        session.scalar(select(Batch).where(Batch.product_id == product.id, Batch.lot == link.lot)) if product else None
    )
    if product is None or batch is None:
        raise errors.UnknownCode(f"{link.element_string()} was never issued on this network", code=link.path)
    code = None
    if link.serial is not None:
        code = session.scalar(
            select(Code).where(Code.batch_id == batch.id, Code.serial == link.serial, Code.kind == CodeKind.ITEM)
        )
        if code is None:
            raise errors.UnknownCode(f"{link.element_string()} was never issued on this network", code=link.path)
    return Found(product, batch, code)


def status_of(session: Session, found: Found) -> dict[str, Any]:
    state = batch_state(session, found.batch, found.product, 0)
    expired = found.batch.expiry_date is not None and found.batch.expiry_date < date.today()
    warnings = []
    if state.open_recall_numbers:
        warnings.append("recalled")
    if state.held_for_org:
        warnings.append("held")
    if expired:
        warnings.append("expired")
    return {
        "recalled": bool(state.open_recall_numbers),
        "recalls": list(state.open_recall_numbers),
        "held": state.held_for_org,
        "expired": expired,
        "item_status": found.code.status.value if found.code else None,
        "warnings": warnings,
    }


def journey(session: Session, found: Found) -> list[Step]:
    return item_journey(session, found.code) if found.code else batch_journey(session, found.batch.id)


def public_view(session: Session, link: DigitalLink, public_url: str) -> dict[str, Any]:
    """The consumer's view of a code: no quantities, prices or counterparties' identifiers."""
    found = find(session, link)
    product, batch = found.product, found.batch
    registrant = session.get(Organisation, batch.registrant_org_id)
    assert registrant is not None
    steps = journey(session, found)
    documents = session.scalars(select(Document).where(Document.batch_id == batch.id).order_by(Document.id)).all()
    anchored = session.scalar(
        select(func.count())
        .select_from(EventBatch)
        .join(Event, Event.seq == EventBatch.event_seq)
        .where(EventBatch.batch_id == batch.id, Event.anchor_id.is_not(None))
    )
    return {
        "code": {
            "kind": link.kind.value,
            "element_string": link.element_string(),
            "uri": link.uri(public_url),
            "issued": True,
        },
        "product": {
            "gtin": product.gtin,
            "name": product.name,
            "name_en": product.name_en,
            "category": product.category.value,
            "storage_min_c": product.storage_min_c,
            "storage_max_c": product.storage_max_c,
        },
        "batch": {
            "lot": batch.lot,
            "registrant": registrant.name,
            "production_date": _iso(batch.production_date),
            "expiry_date": _iso(batch.expiry_date),
            "certificates": {
                name: _iso(value) if isinstance(value, date) else value
                for name in ATTRIBUTE_FIELDS
                if (value := getattr(batch, name)) is not None
            },
            "documents": [{"kind": d.kind, "sha256": d.sha256} for d in documents],
        },
        "status": status_of(session, found),
        "journey": [s.public() for s in steps],
        "proof": {
            "batch_key": batch.batch_key,
            "registration_hash": batch.registration_hash,
            "chain_head": batch.chain_head,
            "event_count": batch.event_count,
            "anchored_events": anchored or 0,
            "verify_url": "/api/v1/verify/events/{event_id}",
        },
    }


def trace_for(session: Session, org: Organisation, link: DigitalLink, public_url: str) -> dict[str, Any]:
    """A holder's or regulator's trace: full detail on the steps the caller took part in, public detail elsewhere."""
    found = find(session, link)
    regulator = org.has_role(Role.REGULATOR)
    steps = journey(session, found)
    involved = [s for s in steps if s.by.id == org.id or any(org.name in (m["from"], m["to"]) for m in s.movements)]
    if not regulator and found.batch.registrant_org_id != org.id and not involved:
        raise errors.UnknownCode(f"{link.element_string()} is not visible to this organisation", code=link.path)
    mine = {s.event_id for s in involved}
    view = public_view(session, link, public_url)
    view["journey"] = [s.full() if regulator or s.event_id in mine else s.public() for s in steps]
    return view


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
