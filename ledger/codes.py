"""Issuing item codes (一品一码): random serials under a batch, commissioned by EPCIS events.

Serials come from a CSPRNG, so a counterfeiter cannot guess the next valid code from a genuine one. A batch never
has more item codes than units, and codes are only issued by the batch's registrant, who holds them at first.
Large runs are split into commissioning events of ``EVENT_CHUNK`` codes so no single event document grows without
bound.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from ledger import epcis, terms
from ledger.errors import NotHolder, QuantityExceeded, UnknownBatch
from ledger.goods import lock_batches
from ledger.identifiers import new_serials
from ledger.models import Code, CodeKind, CodeStatus, Organisation, Product
from ledger.recorder import Signer, record_event
from ledger.rules import require_quantity

EVENT_CHUNK = 10_000


def issue_item_codes(
    session: Session,
    signer: Signer,
    org: Organisation,
    batch_id: int,
    count: int,
    *,
    run: int | None = None,
    location_id: int | None = None,
    event_time: datetime | None = None,
) -> list[str]:
    """Issue ``count`` new item serials for a batch; returns the serials in issue order."""
    count = require_quantity(count, what="number of codes")
    batch = lock_batches(session, [batch_id]).get(batch_id)
    if batch is None:
        raise UnknownBatch(f"no batch {batch_id}", batch_id=batch_id)
    if batch.registrant_org_id != org.id:
        raise NotHolder("only the batch's registrant issues its item codes", batch_id=batch_id)
    product = session.get(Product, batch.product_id)
    assert product is not None
    issued = (
        session.scalar(
            select(func.count()).select_from(Code).where(Code.batch_id == batch_id, Code.kind == CodeKind.ITEM)
        )
        or 0
    )
    if issued + count > batch.quantity:
        raise QuantityExceeded(
            f"batch has {batch.quantity} units and {issued} codes already; {count} more would exceed it",
            batch_id=batch_id,
            requested=count,
            available=batch.quantity - issued,
        )
    # 12 symbols from a 30-letter alphabet: ~5e17 serials per batch, so a clash is practically impossible; the
    # unique (batch_id, serial) constraint still refuses one, rolling the whole run back rather than mis-issuing.
    serials = new_serials(count)
    when = event_time or datetime.now(UTC)
    for start in range(0, count, EVENT_CHUNK):
        chunk = serials[start : start + EVENT_CHUNK]
        document = epcis.object_event(
            action=epcis.Action.ADD,
            epc_list=[terms.item_epc(product.gtin, s) for s in chunk],
            biz_step=epcis.BizStep.COMMISSIONING,
            disposition=epcis.Disposition.ACTIVE,
            event_time=when,
            read_point=terms.location_uri(location_id) if location_id else None,
            source_list=[terms.owning_party(org.uscc, org.gln)],
        )
        record_event(
            session, signer, org=org, document=document, batches=[batch], event_time=when, location_id=location_id
        )
    session.execute(
        insert(Code),
        [
            {
                "kind": CodeKind.ITEM,
                "batch_id": batch_id,
                "serial": s,
                "status": CodeStatus.ACTIVE,
                "holder_org_id": org.id,
                "issued_by_org_id": org.id,
                "issue_run": run,
                "created_at": when,
            }
            for s in serials
        ],
    )
    return serials
