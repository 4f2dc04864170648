"""What happens to an excursion: the holder acknowledges it; it ends by a disposition; a regulator may make it a
recall candidate in one click.

- **release**: the goods are fit after all (the maker's stability data covers the exposure). A regulator or the
  registrant of every batch concerned (the maker's or importer's QA) releases, with a reason and a piece of
  evidence whose SHA-256 goes into a signed event on the batches' chains. Not while the excursion goes on: nobody
  can judge an exposure that has not ended.
- **destroy**: the holder destroys what it has on hand of the goods concerned (a ``destroying`` event, as any
  destruction), which ends its holds.

Either way the excursion's holds are released and the goods move again (what is left of them).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import epcis_events, terms, trade
from ledger.coldchain.errors import ExcursionClosed, ExcursionOngoing, UnknownExcursion
from ledger.coldchain.queries import visible
from ledger.errors import InvalidInput, InvalidTransition, RoleRequired
from ledger.goods import BatchLine, Goods, lock_batches, lock_holding
from ledger.models import (
    Batch,
    Excursion,
    ExcursionGoods,
    ExcursionStatus,
    Hold,
    Organisation,
    Product,
    Role,
    utcnow,
)
from ledger.recorder import Signer, record_event

MAX_REASON = 2000


@dataclass(frozen=True)
class Evidence:
    filename: str
    content_type: str
    content: bytes


def visible_excursion(session: Session, org: Organisation, excursion_id: int) -> Excursion:
    """An excursion the organisation may see (``queries.visible``), locked for a disposition. The same refusal
    whether it is missing or someone else's."""
    excursion = session.scalar(visible(org).where(Excursion.id == excursion_id).with_for_update())
    if excursion is None:
        raise UnknownExcursion(f"no excursion {excursion_id} visible to {org.name}", excursion_id=excursion_id)
    return excursion


def acknowledge(session: Session, org: Organisation, excursion: Excursion) -> None:
    """The holder has seen it (and put the goods aside); saying so twice changes nothing."""
    if excursion.holder_org_id != org.id:
        raise RoleRequired("only the holder of the goods acknowledges an excursion", excursion=excursion.number)
    if excursion.acknowledged_at is None:
        excursion.acknowledged_at, excursion.acknowledged_by_org_id = utcnow(), org.id


def make_candidate(session: Session, org: Organisation, excursion: Excursion) -> None:
    """A regulator puts the goods on the list of recall candidates, beside failed inspections."""
    if not org.has_role(Role.REGULATOR):
        raise RoleRequired("only a regulator makes an excursion a recall candidate", required=["regulator"])
    _require_open(excursion)
    if excursion.candidate_at is None:
        excursion.candidate_at, excursion.candidate_by_org_id = utcnow(), org.id


def release(
    session: Session, signer: Signer, org: Organisation, excursion: Excursion, *, reason: str, evidence: Evidence
) -> None:
    """Release the goods with a reason and evidence (see the module docstring for who may)."""
    _require_open(excursion)
    reason = _require_reason(reason)
    if not evidence.content:
        raise InvalidInput("a release needs evidence: the document that shows the goods are still fit")
    if excursion.ended_at is None:
        raise ExcursionOngoing(
            f"{excursion.number} is still going on: it can be released once readings show it has ended",
            excursion=excursion.number,
        )
    goods = _goods(session, excursion)
    if not may_release(session, org, excursion):
        raise RoleRequired(
            "only a regulator or the registrant of the goods releases them after an excursion",
            required=["regulator"],
            excursion=excursion.number,
        )
    digest = hashlib.sha256(evidence.content).hexdigest()
    when = utcnow()
    batches = lock_batches(session, [batch.id for batch, _, _ in goods])
    document = epcis_events.excursion_release(
        event_time=when,
        lots=[terms.lot_class(product.gtin, batch.lot) for batch, product, _ in goods],
        releaser=terms.owning_party(org.uscc, org.gln),
        evidence_digest=digest,
    )
    event = record_event(session, signer, org=org, document=document, batches=batches.values(), event_time=when)
    excursion.evidence_sha256, excursion.evidence = digest, evidence.content
    excursion.evidence_filename, excursion.evidence_content_type = evidence.filename[:255], evidence.content_type
    _dispose(session, org, excursion, ExcursionStatus.RELEASED, reason, event.seq, when)


def may_release(session: Session, org: Organisation, excursion: Excursion) -> bool:
    """A regulator, or the registrant of every batch concerned (its QA has the stability data)."""
    if org.has_role(Role.REGULATOR):
        return True
    goods = _goods(session, excursion)
    return bool(goods) and all(batch.registrant_org_id == org.id for batch, _, _ in goods)


def destroy(session: Session, signer: Signer, org: Organisation, excursion: Excursion, *, reason: str) -> None:
    """The holder destroys what it has on hand of the goods concerned, up to the quantity the excursion named."""
    _require_open(excursion)
    reason = _require_reason(reason)
    if excursion.holder_org_id != org.id:
        raise RoleRequired("only the holder destroys the goods of an excursion", excursion=excursion.number)
    goods = _goods(session, excursion)
    lock_batches(session, [batch.id for batch, _, _ in goods])  # batches before holdings, as every scan locks
    lines = []
    for batch, product, item in goods:
        holding = lock_holding(session, org.id, batch.id)
        quantity = min(item.quantity, holding.on_hand if holding else 0)
        if quantity > 0:
            lines.append(BatchLine(product.gtin, batch.lot, quantity))
    if not lines:
        raise InvalidTransition(
            f"none of the goods of {excursion.number} is on hand to destroy (a shipment must be received first)",
            excursion=excursion.number,
        )
    event = trade.destroy(session, signer, trade.ScanContext(org=org), Goods(lines=tuple(lines)))
    _dispose(session, org, excursion, ExcursionStatus.DESTROYED, reason, event.seq, event.event_time)


def _dispose(
    session: Session,
    org: Organisation,
    excursion: Excursion,
    status: ExcursionStatus,
    reason: str,
    event_seq: int,
    when: datetime,
) -> None:
    hold_ids = select(ExcursionGoods.hold_id).where(ExcursionGoods.excursion_id == excursion.id)
    for hold in session.scalars(select(Hold).where(Hold.id.in_(hold_ids), Hold.released_at.is_(None))):
        hold.released_at, hold.released_by_org_id = when, org.id
        hold.release_reason = f"{excursion.number} {status.value}: {reason}"
    excursion.status, excursion.disposition_reason, excursion.disposition_event_seq = status, reason, event_seq
    excursion.disposed_at, excursion.disposed_by_org_id = when, org.id


def _goods(session: Session, excursion: Excursion) -> list[tuple[Batch, Product, ExcursionGoods]]:
    rows = session.execute(
        select(Batch, Product, ExcursionGoods)
        .join(Product, Product.id == Batch.product_id)
        .join(ExcursionGoods, ExcursionGoods.batch_id == Batch.id)
        .where(ExcursionGoods.excursion_id == excursion.id)
        .order_by(Batch.id)
    )
    return [(batch, product, item) for batch, product, item in rows]


def _require_open(excursion: Excursion) -> None:
    if excursion.status is not ExcursionStatus.OPEN:
        raise ExcursionClosed(f"{excursion.number} was already {excursion.status.value}", excursion=excursion.number)


def _require_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput(f"a disposition needs a reason of 1 to {MAX_REASON} characters")
    return reason
