"""Batch services for the API and the pages: registering, listing, presenting, documents."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from typing import Final

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ledger import epcis, errors, terms
from ledger.goods import batch_state, lock_batches
from ledger.identifiers import DigitalLink
from ledger.models import Batch, Code, CodeKind, Document, Organisation, Product, Role
from ledger.recorder import Signer, record_event
from ledger.registry import BatchAttributes, register_batch
from trace_api.batches.schemas import BatchCreate, BatchOut
from trace_api.web.files import check_document
from trace_api.web.lookup import declared_attributes
from trace_api.web.queries import visible_batches

DOCUMENT_KINDS: Final = {
    "customs_declaration",
    "quarantine_certificate",
    "nucleic_acid_report",
    "disinfection_certificate",
    "lot_release_certificate",
    "rapid_test_report",
    "inspection_report",
    "other",
}
# The declared type must match the bytes: a renamed executable is not a PDF.


def register(session: Session, signer: Signer, org: Organisation, body: BatchCreate) -> Batch:
    """A batch at first entry with its flow's declarations; the registrant holds all of it."""
    attrs = BatchAttributes(**body.model_dump(exclude={"gtin", "lot", "quantity", "location_id"}))
    return register_batch(
        session,
        signer,
        org,
        gtin=body.gtin,
        lot=body.lot,
        quantity=body.quantity,
        attrs=attrs,
        location_id=body.location_id,
    )


def newest_batches(session: Session, org: Organisation, *, offset: int = 0, limit: int) -> list[Batch]:
    """The batches the organisation registered or holds (all, for a regulator), newest first."""
    query = select(Batch).where(visible_batches(org)).order_by(Batch.id.desc()).offset(offset).limit(limit)
    return list(session.scalars(query))


def search_batches(
    session: Session, org: Organisation, text: str, *, offset: int, limit: int
) -> tuple[list[Batch], int]:
    """A page of the batches the organisation may see whose lot, GTIN or product name contains ``text`` (any
    batch when it is empty), newest first, and how many match in all."""
    condition = visible_batches(org)
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        named = select(Product.id).where(
            or_(
                Product.gtin.like(pattern, escape="\\"),
                Product.name.ilike(pattern, escape="\\"),
                Product.name_en.ilike(pattern, escape="\\"),
            )
        )
        condition = and_(condition, or_(Batch.lot.ilike(pattern, escape="\\"), Batch.product_id.in_(named)))
    total = session.scalar(select(func.count()).select_from(Batch).where(condition)) or 0
    query = select(Batch).where(condition).order_by(Batch.id.desc()).offset(offset).limit(limit)
    return list(session.scalars(query)), total


def batch_view(session: Session, batch: Batch, public_url: str, *, for_org_id: int | None = None) -> BatchOut:
    product = session.get(Product, batch.product_id)
    registrant = session.get(Organisation, batch.registrant_org_id)
    assert product is not None
    assert registrant is not None
    state = batch_state(session, batch, product, for_org_id or 0)
    if state.open_recall_numbers:
        status = "recalled"
    elif state.held_for_org:
        status = "held"
    elif batch.expiry_date is not None and batch.expiry_date < date.today():
        status = "expired"
    else:
        status = "active"
    return BatchOut(
        id=batch.id,
        gtin=product.gtin,
        lot=batch.lot,
        product_name=product.name,
        category=product.category,
        quantity=batch.quantity,
        unit=product.unit,
        registrant=registrant.name,
        production_date=batch.production_date,
        expiry_date=batch.expiry_date,
        attributes=declared_attributes(batch),
        batch_key=batch.batch_key,
        registration_hash=batch.registration_hash,
        chain_head=batch.chain_head,
        event_count=batch.event_count,
        status=status,
        digital_link=DigitalLink(gtin=product.gtin, lot=batch.lot).uri(public_url),
    )


def documents_of(session: Session, batch: Batch) -> list[Document]:
    return list(session.scalars(select(Document).where(Document.batch_id == batch.id).order_by(Document.id)))


def count_item_codes(session: Session, batch: Batch) -> int:
    query = select(func.count()).select_from(Code).where(Code.batch_id == batch.id, Code.kind == CodeKind.ITEM)
    return session.scalar(query) or 0


def attach_document(
    session: Session,
    signer: Signer,
    org: Organisation,
    batch: Batch,
    *,
    kind: str,
    filename: str,
    content_type: str,
    content: bytes,
    max_bytes: int,
) -> tuple[Document, str]:
    """Store a document with its batch and put its SHA-256 into the batch's event chain, so it is anchored."""
    _check_document(org, batch, kind=kind, content_type=content_type, content=content, max_bytes=max_bytes)
    digest = hashlib.sha256(content).hexdigest()
    product = session.get(Product, batch.product_id)
    assert product is not None
    locked = lock_batches(session, [batch.id])[batch.id]
    when = datetime.now(UTC)
    document_event = epcis.object_event(
        action=epcis.Action.OBSERVE,
        quantity_list=[{"epcClass": terms.lot_class(product.gtin, batch.lot)}],
        biz_step=epcis.BizStep.INSPECTING,
        event_time=when,
        source_list=[terms.owning_party(org.uscc, org.gln)],
        certification_info=[f"ni:///sha-256;{digest}?type={kind}"],
    )
    event = record_event(session, signer, org=org, document=document_event, batches=[locked], event_time=when)
    row = Document(
        batch_id=batch.id,
        uploaded_by_org_id=org.id,
        kind=kind,
        filename=filename[:255],
        content_type=content_type,
        size=len(content),
        sha256=digest,
        content=content,
    )
    session.add(row)
    session.flush()
    return row, event.event_id


def _check_document(
    org: Organisation, batch: Batch, *, kind: str, content_type: str, content: bytes, max_bytes: int
) -> None:
    if batch.registrant_org_id != org.id and not org.has_role(Role.REGULATOR):
        raise errors.RoleRequired("only the batch's registrant or a regulator attaches documents", batch_id=batch.id)
    if kind not in DOCUMENT_KINDS:
        raise errors.InvalidInput(f"unknown document kind {kind!r}", allowed=sorted(DOCUMENT_KINDS))
    check_document(content_type, content, max_bytes)
