"""The recall lifecycle: request, open, notify, acknowledge, close.

Opening is one transaction: the ``recalls`` row with status ``open`` and its ``recall_targets`` (which the trade
rules read, so from its commit on nobody ships, sells or administers the goods), the holders to follow, the
webhooks that tell them, and the chain job that anchors the recall on chain with the regulator's own key.

Decisions, so they are written once:

- **Targets** are the named batches (or item codes, cases and pallets expanded to their items) and every batch
  the forward walk reaches through transformations: a recalled carcass batch recalls the cuts made from it.
  Outputs are recalled whole even when the recall named single codes, since their units cannot be told apart.
- **Holders** are followed per (organisation, batch): everything on hand at opening plus everything on its way
  to it (in transit, not yet received), which it must account for. Organisations that sold or administered
  units are followed too, with nothing to account for, because they must reach their customers (consumer
  outreach); organisations that only passed goods on are not: the walk reaches their customers directly.
- **Acknowledgements** report running totals (quarantined, returned, destroyed) per batch; a report replaces the
  previous one and may not exceed what the holder had at opening.
- **Closing** is automatic once every followed holder has acknowledged and accounted for every unit it had at
  opening; otherwise a regulator closes with a reason. On chain the closing regulator's key signs, and for an
  automatic close the key of the regulator who opened it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.errors import (
    AlreadyExists,
    InvalidInput,
    InvalidQuantity,
    InvalidTransition,
    NotFound,
    QuantityExceeded,
    RoleRequired,
    UnknownBatch,
)
from ledger.goods import Goods, find_batch_id, resolve
from ledger.identifiers import DigitalLink
from ledger.merkle import keccak256
from ledger.models import (
    Batch,
    ChainJob,
    ChainJobStatus,
    Hold,
    HoldKind,
    Organisation,
    Recall,
    RecallDetail,
    RecallHolder,
    RecallStatus,
    RecallTarget,
    Role,
    utcnow,
)
from recall import notify, repository
from recall.opening import activate, recall_summary

RECALL_CLASSES: Final = (1, 2, 3)
_CANDIDATE_REASONS: Final = {
    HoldKind.INSPECTION: "抽检不合格 / failed sampling inspection",
    HoldKind.EXCURSION: "冷链温度异常 / cold-chain excursion",
}  # FDA scale, as the contract: 1 is the most serious
MAX_REASON: Final = 2000


@dataclass(frozen=True)
class BatchRef:
    gtin: str
    lot: str


@dataclass(frozen=True)
class Report:
    """One holder's running totals for one batch of a recall."""

    gtin: str
    lot: str
    quarantined: int
    returned: int
    destroyed: int


def open_recall(
    session: Session,
    org: Organisation,
    *,
    batches: Sequence[BatchRef] = (),
    codes: Sequence[DigitalLink] = (),
    recall_class: int,
    reason: str,
    public_url: str,
    source_hold_id: int | None = None,
) -> Recall:
    """A regulator opens a recall at once; a producer's recall of its own goods waits for a regulator."""
    if not org.has_role(Role.REGULATOR) and not org.has_role(Role.PRODUCER):
        raise RoleRequired("only a regulator opens, or a producer requests, a recall", required=["regulator"])
    reason = _require_reason(reason)
    if recall_class not in RECALL_CLASSES:
        raise InvalidInput("recall_class is 1, 2 or 3 (1 the most serious)", recall_class=recall_class)
    if not batches and not codes:
        raise InvalidInput("a recall names at least one batch or code")
    batch_ids, code_ids = _resolve_targets(session, org, batches, codes)
    regulator = org.has_role(Role.REGULATOR)
    recall = Recall(
        number=f"pending-{uuid.uuid4().hex[:24]}",
        recall_class=recall_class,
        reason=reason,
        status=RecallStatus.REQUESTED,
        requested_by_org_id=None if regulator else org.id,
    )
    session.add(recall)
    session.flush()
    # The number comes from the row id: unique without a counter that concurrent openings would race for.
    recall.number = f"RC-{utcnow().year}-{recall.id:06d}"
    session.add(
        RecallDetail(
            recall_id=recall.id,
            chain_recall_id="0x" + keccak256(f"lotline/recall/{recall.number}/{uuid.uuid4()}".encode()).hex(),
            reason_hash="0x" + keccak256(reason.encode()).hex(),
            source_hold_id=source_hold_id,
        )
    )
    # Requested recalls keep what they name in recall_targets without blocking anything (the rules only read
    # targets of open recalls); opening recomputes the full set from the walk.
    session.add_all(RecallTarget(recall_id=recall.id, batch_id=b) for b in batch_ids)
    session.add_all(RecallTarget(recall_id=recall.id, batch_id=b, code_id=c) for c, b in code_ids.items())
    session.flush()
    if regulator:
        activate(session, recall, org, public_url)
    return recall


def approve(session: Session, org: Organisation, recall_id: int, *, public_url: str) -> Recall:
    """A regulator opens a recall a producer requested."""
    _require_regulator(org, "approves a recall")
    recall = _lock_recall(session, recall_id)
    if recall.status is not RecallStatus.REQUESTED:
        raise InvalidTransition(f"recall {recall.number} is {recall.status.value}, not requested", recall=recall.number)
    activate(session, recall, org, public_url)
    return recall


def acknowledge(session: Session, org: Organisation, recall_id: int, reports: Sequence[Report]) -> Recall:
    """A holder reports what it did with its units; the recall closes itself once every unit is accounted for."""
    if not reports:
        raise InvalidInput("an acknowledgement reports at least one batch")
    recall = _lock_recall(session, recall_id)
    rows = {
        row.batch_id: row
        for row in session.scalars(
            select(RecallHolder)
            .where(RecallHolder.recall_id == recall.id, RecallHolder.org_id == org.id)
            .with_for_update()
        )
    }
    if not rows:
        raise NotFound(f"no recall {recall_id} concerning this organisation", recall_id=recall_id)
    if recall.status is not RecallStatus.OPEN:
        raise InvalidTransition(f"recall {recall.number} is {recall.status.value}", recall=recall.number)
    updates: list[tuple[RecallHolder, Report]] = []
    for report in reports:
        quantities = (report.quarantined, report.returned, report.destroyed)
        for value in quantities:
            _require_count(value)
        # Another organisation's holding, or goods this one never held, answer the same: not found.
        try:
            row = rows.get(find_batch_id(session, report.gtin, report.lot))
        except UnknownBatch:
            row = None
        if row is None:
            raise NotFound(
                f"recall {recall.number} follows no holding of (01){report.gtin}(10){report.lot} by this organisation",
                recall=recall.number,
            )
        if sum(quantities) > row.quantity_at_open:
            raise QuantityExceeded(
                f"{sum(quantities)} units reported for (01){report.gtin}(10){report.lot}, "
                f"but {row.quantity_at_open} were held when recall {recall.number} opened",
                reported=sum(quantities),
                held=row.quantity_at_open,
            )
        updates.append((row, report))
    if len({row.batch_id for row, _ in updates}) != len(updates):
        raise InvalidInput("each batch is reported once per acknowledgement")
    now = utcnow()
    for row, report in updates:
        row.quarantined, row.returned, row.destroyed = report.quarantined, report.returned, report.destroyed
        row.acknowledged_at, row.acknowledged_by_org_id = now, org.id
    session.flush()
    holders = repository.holders_of(session, recall.id)
    if holders and all(h.settled for h in holders):
        total = sum(h.quantity_at_open for h in holders)
        why = (
            f"all {total} units accounted for: {sum(h.quarantined for h in holders)} quarantined, "
            f"{sum(h.returned for h in holders)} returned, {sum(h.destroyed for h in holders)} destroyed"
        )
        _close(session, recall, None, why)
    return recall


def close(session: Session, org: Organisation, recall_id: int, reason: str) -> Recall:
    """A regulator closes a recall (or turns down a requested one) with a reason."""
    _require_regulator(org, "closes a recall")
    reason = _require_reason(reason)
    recall = _lock_recall(session, recall_id)
    if recall.status is RecallStatus.CLOSED:
        raise InvalidTransition(f"recall {recall.number} is already closed", recall=recall.number)
    _close(session, recall, org, reason)
    return recall


def confirm_candidate(
    session: Session,
    org: Organisation,
    hold_id: int,
    *,
    public_url: str,
    recall_class: int = 2,
    reason: str | None = None,
) -> Recall:
    """Open the recall a candidate calls for (a failed sampling inspection, or an excursion a regulator put
    forward): its batch, every holder, in one call."""
    _require_regulator(org, "confirms a recall candidate")
    if session.scalar(select(RecallDetail.recall_id).where(RecallDetail.source_hold_id == hold_id)) is not None:
        raise AlreadyExists(f"recall candidate {hold_id} is already a recall", hold_id=hold_id)
    hold = session.scalar(select(Hold).where(Hold.id == hold_id, repository.candidate_hold()).with_for_update())
    if hold is None:
        raise NotFound(f"no recall candidate {hold_id}", hold_id=hold_id)
    name = repository.batch_names(session, [hold.batch_id])[hold.batch_id]
    why = (
        "冷链温度异常 / cold-chain excursion"
        if hold.kind is HoldKind.EXCURSION
        else "抽检不合格 / failed sampling inspection"
    )
    return open_recall(
        session,
        org,
        batches=[BatchRef(name.gtin, name.lot)],
        recall_class=recall_class,
        reason=reason or f"{why}: {hold.reason}",
        public_url=public_url,
        source_hold_id=hold.id,
    )


def get_recall(session: Session, org: Organisation, recall_id: int) -> Recall:
    recall = repository.visible_recall(session, org, recall_id)
    if recall is None:
        # The same answer for a recall that does not exist and one that does not concern the caller.
        raise NotFound(f"no recall {recall_id} concerning this organisation", recall_id=recall_id)
    return recall


def _resolve_targets(
    session: Session, org: Organisation, batches: Sequence[BatchRef], codes: Sequence[DigitalLink]
) -> tuple[list[int], dict[int, int]]:
    """Batch ids and {item code id: batch id}; a producer may only name goods it registered."""
    batch_ids = sorted({find_batch_id(session, ref.gtin, ref.lot) for ref in batches})
    items = repository.item_codes_under(session, resolve(session, Goods(codes=tuple(codes))).top_codes)
    code_ids = {c.id: c.batch_id for c in items if c.batch_id is not None}
    if codes and not code_ids:
        raise InvalidInput("the codes named contain no item")
    if not org.has_role(Role.REGULATOR):
        named = set(batch_ids) | set(code_ids.values())
        own = set(session.scalars(select(Batch.id).where(Batch.id.in_(named), Batch.registrant_org_id == org.id)))
        if foreign := sorted(named - own):
            # Not "forbidden": whether another producer's batch exists is not the caller's to learn.
            raise UnknownBatch(f"no batch {foreign[0]} registered by this organisation", batch_id=foreign[0])
    return batch_ids, code_ids


def _close(session: Session, recall: Recall, by: Organisation | None, reason: str) -> None:
    was_open = recall.status is RecallStatus.OPEN
    now = utcnow()
    recall.status, recall.closed_at, recall.close_reason = RecallStatus.CLOSED, now, reason
    detail = repository.detail_of(session, recall.id)
    detail.closed_by_org_id = by.id if by is not None else None
    if not was_open:
        return  # a request turned down: nothing was anchored or announced
    signer_id = by.id if by is not None else recall.opened_by_org_id
    job = ChainJob(
        kind="close_recall",
        payload={
            "recall_id": recall.id,
            "chain_recall_id": detail.chain_recall_id,
            "reason_hash": "0x" + keccak256(reason.encode()).hex(),
            "org_id": signer_id,
        },
        status=ChainJobStatus.PENDING,
    )
    session.add(job)
    session.flush()
    detail.close_job_id = job.id
    summary = {"recall": {**recall_summary(recall, detail, recall.opened_at), "close_reason": reason}}
    for org_id in sorted({h.org_id for h in repository.holders_of(session, recall.id)}):
        org = session.get(Organisation, org_id)
        assert org is not None
        notify.queue(session, recall=recall, org=org, event_type="recall.closed", payload=summary)


def _lock_recall(session: Session, recall_id: int) -> Recall:
    recall = session.scalar(select(Recall).where(Recall.id == recall_id).with_for_update())
    if recall is None:
        raise NotFound(f"no recall {recall_id}", recall_id=recall_id)
    return recall


def _require_regulator(org: Organisation, what: str) -> None:
    if not org.has_role(Role.REGULATOR):
        raise RoleRequired(f"only a regulator {what}", required=[Role.REGULATOR.value])


def _require_count(value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidQuantity(f"reported quantities are whole numbers, 0 or more; got {value!r}", value=repr(value))


def _require_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise InvalidInput(f"a reason is 1 to {MAX_REASON} characters")
    return reason
