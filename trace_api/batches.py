"""Batch services for the API: who may see a batch, how it is presented, documents and code runs."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from ledger import epcis, errors, terms
from ledger.goods import batch_state, lock_batches
from ledger.identifiers import DigitalLink
from ledger.models import Batch, Document, Holding, Organisation, Product, Role
from ledger.recorder import Signer, record_event
from trace_api.schemas.goods import BatchOut

ATTRIBUTE_FIELDS = (
    "customs_declaration_no",
    "origin_country",
    "quarantine_cert_no",
    "nucleic_acid_test_no",
    "nucleic_acid_result",
    "disinfection_cert_no",
    "farm_origin",
    "harvest_date",
    "rapid_test_result",
    "rapid_test_no",
    "vaccine_approval_no",
    "lot_release_cert_no",
    "manufacturer",
)
DOCUMENT_TYPES = {"application/pdf", "image/png", "image/jpeg"}
DOCUMENT_KINDS = {
    "customs_declaration",
    "quarantine_certificate",
    "nucleic_acid_report",
    "disinfection_certificate",
    "lot_release_certificate",
    "rapid_test_report",
    "inspection_report",
    "other",
}


def visible_batches(org: Organisation):  # type: ignore[no-untyped-def]
    """The SQL condition for batches an organisation may see: its own, any it holds or held, or all (regulator)."""
    if org.has_role(Role.REGULATOR):
        return Batch.id.is_not(None)
    held = exists().where(Holding.batch_id == Batch.id, Holding.org_id == org.id)
    return or_(Batch.registrant_org_id == org.id, held)


def get_visible_batch(session: Session, org: Organisation, batch_id: int) -> Batch:
    batch = session.scalar(select(Batch).where(Batch.id == batch_id, visible_batches(org)))
    if batch is None:
        # The same answer whether it does not exist or belongs to someone else: ids reveal nothing.
        raise errors.UnknownBatch(f"no batch {batch_id} visible to this organisation", batch_id=batch_id)
    return batch


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
    attributes = {
        name: (value.isoformat() if isinstance(value, date) else str(value))
        for name in ATTRIBUTE_FIELDS
        if (value := getattr(batch, name)) is not None
    }
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
        attributes=attributes,
        batch_key=batch.batch_key,
        registration_hash=batch.registration_hash,
        chain_head=batch.chain_head,
        event_count=batch.event_count,
        status=status,
        digital_link=DigitalLink(gtin=product.gtin, lot=batch.lot).uri(public_url),
    )


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
    if batch.registrant_org_id != org.id and not org.has_role(Role.REGULATOR):
        raise errors.RoleRequired("only the batch's registrant or a regulator attaches documents", batch_id=batch.id)
    if kind not in DOCUMENT_KINDS:
        raise errors.InvalidInput(f"unknown document kind {kind!r}", allowed=sorted(DOCUMENT_KINDS))
    if content_type not in DOCUMENT_TYPES:
        raise errors.UnsupportedMediaType(
            f"documents must be PDF, PNG or JPEG, not {content_type!r}", allowed=sorted(DOCUMENT_TYPES)
        )
    if len(content) > max_bytes:
        raise errors.PayloadTooLarge(f"document is {len(content)} bytes; the limit is {max_bytes}", limit=max_bytes)
    if not content:
        raise errors.InvalidInput("document is empty")
    _check_magic(content, content_type)
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


def _check_magic(content: bytes, content_type: str) -> None:
    """The declared type must match the bytes: a renamed executable is not a PDF."""
    signatures = {
        "application/pdf": (b"%PDF-",),
        "image/png": (b"\x89PNG\r\n\x1a\n",),
        "image/jpeg": (b"\xff\xd8\xff",),
    }
    if not content.startswith(signatures[content_type]):
        raise errors.UnsupportedMediaType(f"the file's content is not {content_type}", content_type=content_type)
