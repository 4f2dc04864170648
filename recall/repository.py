"""Named queries of the recall lifecycle: one small function per question the services and routes ask."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from ledger.models import (
    Batch,
    Code,
    CodeStatus,
    Event,
    Excursion,
    ExcursionGoods,
    ExcursionStatus,
    Hold,
    HoldKind,
    Organisation,
    Product,
    Recall,
    RecallDetail,
    RecallHolder,
    RecallTarget,
    Role,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    WebhookDelivery,
)
from recall.aggregation import items_ever_inside
from recall.trace import BatchId, CodeId, OrgId, Position


@dataclass(frozen=True)
class BatchName:
    batch_id: int
    gtin: str
    lot: str
    product: str
    unit: str


@dataclass(frozen=True)
class Candidate:
    """A failed sampling inspection, or a cold-chain excursion a regulator put forward, not yet turned into a
    recall: one click away from one."""

    hold_id: int
    batch: BatchName
    reason: str
    placed_at: datetime
    inspected_by: str | None  # who inspected, or who recorded the temperatures
    event_id: str | None
    kind: HoldKind = HoldKind.INSPECTION


def batch_names(session: Session, batch_ids: Collection[int]) -> dict[int, BatchName]:
    rows = session.execute(
        select(Batch.id, Product.gtin, Batch.lot, Product.name, Product.unit)
        .join(Product, Product.id == Batch.product_id)
        .where(Batch.id.in_(sorted(batch_ids)))
    )
    return {row[0]: BatchName(*row) for row in rows}


def in_transit_to(session: Session, batch_ids: Collection[int]) -> dict[Position, int]:
    """Units of these batches shipped but not yet received, by receiver: they must be accounted for too."""
    rows = session.execute(
        select(
            Shipment.to_org_id,
            ShipmentLine.batch_id,
            func.sum(ShipmentLine.quantity - ShipmentLine.received_quantity),
        )
        .join(Shipment, Shipment.id == ShipmentLine.shipment_id)
        .where(ShipmentLine.batch_id.in_(sorted(batch_ids)), Shipment.status != ShipmentStatus.RECEIVED)
        .group_by(Shipment.to_org_id, ShipmentLine.batch_id)
    )
    return {(OrgId(org_id), BatchId(batch_id)): int(qty) for org_id, batch_id, qty in rows if qty}


def code_positions(session: Session, code_ids: Collection[int]) -> tuple[dict[Position, int], dict[Position, int]]:
    """Where recalled item codes are: (held or on their way, by holder) and (sold or administered, by seller)."""
    held: dict[Position, int] = defaultdict(int)
    consumed: dict[Position, int] = defaultdict(int)
    rows = session.execute(
        select(Code.batch_id, Code.status, Code.holder_org_id, Shipment.to_org_id)
        .outerjoin(Shipment, Shipment.id == Code.shipment_id)
        .where(Code.id.in_(sorted(code_ids)))
    )
    for batch_id, status, holder, receiver in rows:
        if batch_id is None:
            continue
        if status is CodeStatus.ACTIVE and holder is not None:
            held[OrgId(holder), BatchId(batch_id)] += 1
        elif status is CodeStatus.IN_TRANSIT and receiver is not None:
            held[OrgId(receiver), BatchId(batch_id)] += 1
        elif status in (CodeStatus.SOLD, CodeStatus.ADMINISTERED) and holder is not None:
            consumed[OrgId(holder), BatchId(batch_id)] += 1
    return dict(held), dict(consumed)


def item_codes_under(session: Session, codes: Sequence[Code]) -> list[Code]:
    """The item codes a list of scanned codes stands for: items as they are; for cases and pallets, every item they
    held at some time (an unpacked case still stands for what it carried)."""
    items = {c.id: c for c in codes if c.sscc is None}
    containers = [c for c in codes if c.sscc is not None]
    if containers:
        items.update((c.id, c) for c in items_ever_inside(session, containers))
    return list(items.values())


def holders_of(session: Session, recall_id: int, *, org_id: int | None = None) -> list[RecallHolder]:
    query = select(RecallHolder).where(RecallHolder.recall_id == recall_id)
    if org_id is not None:
        query = query.where(RecallHolder.org_id == org_id)
    return list(session.scalars(query.order_by(RecallHolder.org_id, RecallHolder.batch_id)))


@dataclass(frozen=True)
class Progress:
    holders: int
    acknowledged: int
    settled: int
    units_at_open: int
    quarantined: int
    returned: int
    destroyed: int


def progress_of(session: Session, recall_id: int) -> Progress:
    """A recall's progress summed in the database: the list page shows it for every recall, each of which may
    follow thousands of holders."""
    h = RecallHolder
    accounted = h.quarantined + h.returned + h.destroyed
    settled = case((and_(h.acknowledged_at.is_not(None), accounted >= h.quantity_at_open), 1), else_=0)
    row = session.execute(
        select(
            func.count(),
            func.count(h.acknowledged_at),
            func.coalesce(func.sum(settled), 0),
            func.coalesce(func.sum(h.quantity_at_open), 0),
            func.coalesce(func.sum(h.quarantined), 0),
            func.coalesce(func.sum(h.returned), 0),
            func.coalesce(func.sum(h.destroyed), 0),
        ).where(h.recall_id == recall_id)
    ).one()
    return Progress(*(int(value) for value in row))


def holder_names(session: Session, recall_id: int) -> dict[int, str]:
    """The names of the organisations a recall follows, in one query (a national recall has thousands)."""
    rows = session.execute(
        select(Organisation.id, Organisation.name).where(
            Organisation.id.in_(select(RecallHolder.org_id).where(RecallHolder.recall_id == recall_id))
        )
    )
    return dict(rows.all())


def target_batch_ids(session: Session, recall_id: int) -> list[int]:
    return list(
        session.scalars(
            select(RecallTarget.batch_id).where(RecallTarget.recall_id == recall_id).distinct().order_by("batch_id")
        )
    )


def targets_of(session: Session, recall_id: int) -> list[tuple[BatchId, CodeId | None]]:
    """(batch id, code id or None) of every target: whole batches, and single items with their batch."""
    rows = session.execute(
        select(RecallTarget.batch_id, RecallTarget.code_id)
        .where(RecallTarget.recall_id == recall_id)
        .order_by(RecallTarget.batch_id, RecallTarget.code_id)
    )
    return [(BatchId(batch_id), CodeId(code_id) if code_id is not None else None) for batch_id, code_id in rows]


def target_code_ids(session: Session, recall_id: int) -> list[int]:
    return list(
        session.scalars(
            select(RecallTarget.code_id)
            .where(RecallTarget.recall_id == recall_id, RecallTarget.code_id.is_not(None))
            .order_by(RecallTarget.code_id)
        )
    )


def deliveries_of(session: Session, recall_id: int, *, org_id: int | None = None) -> list[WebhookDelivery]:
    query = select(WebhookDelivery).where(WebhookDelivery.recall_id == recall_id)
    if org_id is not None:
        query = query.where(WebhookDelivery.org_id == org_id)
    return list(session.scalars(query.order_by(WebhookDelivery.id)))


def _concerns(org: Organisation) -> Select[Recall]:
    """Recalls an organisation may see: all for a regulator; otherwise those it holds goods in or asked for."""
    query = select(Recall)
    if org.has_role(Role.REGULATOR):
        return query
    holder = exists().where(RecallHolder.recall_id == Recall.id, RecallHolder.org_id == org.id)
    return query.where(or_(holder, Recall.requested_by_org_id == org.id))


def visible_recalls(session: Session, org: Organisation, *, limit: int, offset: int) -> list[Recall]:
    query = _concerns(org).order_by(Recall.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(query))


def visible_recall(session: Session, org: Organisation, recall_id: int) -> Recall | None:
    return session.scalar(_concerns(org).where(Recall.id == recall_id))


def detail_of(session: Session, recall_id: int) -> RecallDetail:
    detail = session.get(RecallDetail, recall_id)
    assert detail is not None, "every recall is created with its detail row"
    return detail


def recall_candidates(session: Session) -> list[Candidate]:
    """Unreleased holds no recall was confirmed from yet, newest first: failed inspections, and the goods of
    open excursions a regulator made recall candidates."""
    rows = session.execute(
        select(Hold, Organisation.name, Event.event_id)
        .outerjoin(Event, Event.seq == Hold.event_seq)
        .outerjoin(Organisation, Organisation.id == Event.org_id)
        .where(candidate_hold())
        .order_by(Hold.id.desc())
    ).all()
    names = batch_names(session, {hold.batch_id for hold, _, _ in rows})
    return [
        Candidate(hold.id, names[hold.batch_id], hold.reason, hold.placed_at, recorder, event_id, hold.kind)
        for hold, recorder, event_id in rows
    ]


def candidate_hold() -> ColumnElement[bool]:
    """A hold that is a recall candidate (see :func:`recall_candidates`)."""
    confirmed = exists().where(RecallDetail.source_hold_id == Hold.id)
    put_forward = exists().where(
        ExcursionGoods.hold_id == Hold.id,
        Excursion.id == ExcursionGoods.excursion_id,
        Excursion.candidate_at.is_not(None),
        Excursion.status == ExcursionStatus.OPEN,
    )
    kinds = or_(Hold.kind == HoldKind.INSPECTION, and_(Hold.kind == HoldKind.EXCURSION, put_forward))
    return and_(Hold.released_at.is_(None), ~confirmed, kinds)
