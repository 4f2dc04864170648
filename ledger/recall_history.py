"""Every recall that ever touched a batch or a batch it was made from, open or closed (docs/recall.md).

The consumer's page reads this, not only the open recalls the trade rules read: a consumer who still has a pack
at home must learn of a recall after it closed, and a pack cut from a recalled input batch is as unsafe as the
input. A failed inspection that a recall was confirmed from travels with it, so the page can set it beside the
certificate it contradicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ledger.models import (
    Event,
    Hold,
    Organisation,
    Recall,
    RecallDetail,
    RecallStatus,
    RecallTarget,
    Transformation,
)

# Transformations nest (carcass → cuts → mince); deeper than this is not a food chain but a cycle in bad data.
MAX_INPUT_DEPTH: Final = 8


@dataclass(frozen=True, slots=True)
class FailedInspection:
    """The failed inspection a recall was confirmed from: what it found, who found it, when."""

    reason: str
    by: str
    at: datetime


@dataclass(frozen=True, slots=True)
class RecallFact:
    number: str
    recall_class: int
    reason: str
    status: RecallStatus
    opened_at: datetime | None
    closed_at: datetime | None
    recalled_by: str = ""  # who recalls: the producer that asked, else the regulator that opened it
    via_input: bool = False  # the recall covers a batch this one was made from, not this batch itself
    inspection: FailedInspection | None = None


def source_batches(session: Session, batch_id: int) -> set[int]:
    """The batches ``batch_id`` was made from, at any depth (its transformations' inputs), itself excluded."""
    found: set[int] = set()
    frontier = {batch_id}
    for _ in range(MAX_INPUT_DEPTH):
        inputs = set(
            session.scalars(
                select(Transformation.input_batch_id).where(Transformation.output_batch_id.in_(frontier)).distinct()
            )
        )
        frontier = inputs - found - {batch_id}
        if not frontier:
            break
        found |= frontier
    return found


def recall_history(session: Session, batch_id: int, code_id: int | None = None) -> list[RecallFact]:
    """Recalls of the batch (whole, or of this one code), and of every batch it was made from: newest first."""
    inputs = source_batches(session, batch_id)
    covered = or_(RecallTarget.code_id.is_(None), RecallTarget.code_id == code_id) if code_id else None
    query = (
        select(Recall, RecallTarget.batch_id, RecallDetail.source_hold_id)
        .join(RecallTarget, RecallTarget.recall_id == Recall.id)
        .outerjoin(RecallDetail, RecallDetail.recall_id == Recall.id)
        .where(RecallTarget.batch_id.in_({batch_id, *inputs}), Recall.status != RecallStatus.REQUESTED)
    )
    if covered is not None:
        query = query.where(or_(covered, RecallTarget.batch_id != batch_id))
    else:
        query = query.where(RecallTarget.code_id.is_(None))
    rows = session.execute(query).all()
    recalls: dict[int, tuple[Recall, bool, int | None]] = {}
    for recall, target_batch, hold_id in rows:
        direct = target_batch == batch_id
        seen = recalls.get(recall.id)
        recalls[recall.id] = (recall, bool(seen and seen[1]) or direct, hold_id)
    if not recalls:
        return []
    names = _names(session, [r.requested_by_org_id or r.opened_by_org_id for r, _, _ in recalls.values()])
    inspections = _inspections(session, [hold for _, _, hold in recalls.values() if hold is not None])
    facts = [
        RecallFact(
            number=recall.number,
            recall_class=recall.recall_class,
            reason=recall.reason,
            status=recall.status,
            opened_at=recall.opened_at,
            closed_at=recall.closed_at,
            recalled_by=names.get(recall.requested_by_org_id or recall.opened_by_org_id or 0, ""),
            via_input=not direct,
            inspection=inspections.get(hold_id) if hold_id is not None else None,
        )
        for recall, direct, hold_id in recalls.values()
    ]
    # Open recalls first, then the newest: what the consumer must act on now, then the history.
    facts.sort(key=lambda f: f.opened_at.timestamp() if f.opened_at else 0.0, reverse=True)
    facts.sort(key=lambda f: f.status is not RecallStatus.OPEN)
    return facts


def _names(session: Session, org_ids: list[int | None]) -> dict[int, str]:
    ids = {org_id for org_id in org_ids if org_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids)))
    return {org_id: name for org_id, name in rows}  # noqa: C416 - rows are not pairs to dict() in SQLAlchemy 2.1


def _inspections(session: Session, hold_ids: list[int]) -> dict[int, FailedInspection]:
    if not hold_ids:
        return {}
    rows = session.execute(
        select(Hold.id, Hold.reason, Hold.placed_at, Event.event_time, Organisation.name)
        .outerjoin(Event, Event.seq == Hold.event_seq)
        .outerjoin(Organisation, Organisation.id == Event.org_id)
        .where(Hold.id.in_(hold_ids))
    )
    return {
        hold_id: FailedInspection(reason=reason, by=name or "", at=event_time or placed_at)
        for hold_id, reason, placed_at, event_time, name in rows
    }
