"""Opening a recall: what it covers, who must act, the chain job and the messages, in one transaction.

Called by ``recall.service`` when a regulator opens a recall or approves a producer's request; the decisions
(targets, followed holders) are written down in that module's docstring.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ledger.goods import lock_batches
from ledger.models import (
    Batch,
    ChainJob,
    ChainJobStatus,
    Organisation,
    Recall,
    RecallDetail,
    RecallHolder,
    RecallStatus,
    RecallTarget,
    utcnow,
)
from recall import notify, repository
from recall.memory import without_gc_pauses
from recall.trace import BatchId, CodeId, OrgId, Position, Trace
from recall.walk import forward


class _Followed(NamedTuple):
    """A position the recall follows: what was there when it opened, and what had been sold or administered."""

    org_id: OrgId
    batch_id: BatchId
    held: int
    consumed: int


@without_gc_pauses
def activate(session: Session, recall: Recall, regulator: Organisation, public_url: str) -> None:
    """Open: targets from the forward walk, holders, webhooks and the chain job, all in this transaction."""
    targets = repository.targets_of(session, recall.id)
    named_batches = [batch_id for batch_id, code_id in targets if code_id is None]
    codes = {code_id: batch_id for batch_id, code_id in targets if code_id is not None}
    # Lock what is recalled before walking: a scan in flight either commits first (and the walk sees it) or
    # waits for this transaction and then reads the open recall.
    lock_batches(session, [*named_batches, *codes.values()])
    trace = forward(session, batch_ids=named_batches, code_ids=list(codes))
    coded_only = set(codes.values()) - set(named_batches)
    whole = sorted(set(trace.batches) - coded_only)
    lock_batches(session, trace.batches)
    for batch_id in sorted(set(whole) - set(named_batches)):
        session.add(RecallTarget(recall_id=recall.id, batch_id=batch_id))
    followed = _follow(session, recall, trace, whole, codes)

    now = utcnow()
    recall.status, recall.opened_at, recall.opened_by_org_id = RecallStatus.OPEN, now, regulator.id
    detail = repository.detail_of(session, recall.id)
    detail.open_job_id = _queue_open_job(session, recall, detail, regulator, trace.batches)
    names = repository.batch_names(session, trace.batches)
    base = public_url.rstrip("/")
    summary = {
        "recall": recall_summary(recall, detail, now),
        "batches": [{"gtin": n.gtin, "lot": n.lot, "product": n.product} for n in names.values()],
        "codes_recalled": len(codes),
        "acknowledge_url": f"{base}/api/v1/recalls/{recall.id}/acknowledgements",
        "recall_url": f"{base}/api/v1/recalls/{recall.id}",
    }
    _notify_followed(session, recall, summary, followed, names)


def _follow(
    session: Session, recall: Recall, trace: Trace, whole: Collection[BatchId], codes: Mapping[CodeId, BatchId]
) -> list[_Followed]:
    """Write a holder row for every position with recalled goods on hand, on their way or sold: whole batches
    from the walk and the shipments still in transit, single codes wherever they are."""
    held: dict[Position, int] = {}
    consumed: dict[Position, int] = {}
    for position in trace.holders:
        if position.batch_id in whole:
            held[position.org_id, position.batch_id] = position.on_hand
            consumed[position.org_id, position.batch_id] = position.consumed
    for key, quantity in repository.in_transit_to(session, whole).items():
        held[key] = held.get(key, 0) + quantity
    code_held, code_consumed = repository.code_positions(session, codes)
    held.update(code_held)
    consumed.update(code_consumed)
    followed = [
        _Followed(org_id, batch_id, held.get((org_id, batch_id), 0), consumed.get((org_id, batch_id), 0))
        for org_id, batch_id in sorted(set(held) | set(consumed))
        if held.get((org_id, batch_id), 0) > 0 or consumed.get((org_id, batch_id), 0) > 0
    ]
    # One statement for all of them, not an ORM object each: a national recall follows thousands of holders.
    rows = [
        {"recall_id": recall.id, "org_id": f.org_id, "batch_id": f.batch_id, "quantity_at_open": f.held,
         "consumed_at_open": f.consumed, "quarantined": 0, "returned": 0, "destroyed": 0}
        for f in followed
    ]  # fmt: skip
    if rows:
        session.execute(insert(RecallHolder), rows)
    return followed


def _queue_open_job(
    session: Session, recall: Recall, detail: RecallDetail, regulator: Organisation, batch_ids: Collection[BatchId]
) -> int:
    """The chain job that records the recall on chain (``openRecall``, docs/anchoring.md); returns its id."""
    keys = {
        row.id: row.batch_key
        for row in session.execute(select(Batch.id, Batch.batch_key).where(Batch.id.in_(batch_ids)))
    }
    job = ChainJob(
        kind="open_recall",
        payload={
            "recall_id": recall.id,
            "chain_recall_id": detail.chain_recall_id,
            "batch_keys": [keys[b] for b in sorted(keys)],
            "recall_class": recall.recall_class,
            "reason_hash": detail.reason_hash,
            "org_id": regulator.id,
        },
        status=ChainJobStatus.PENDING,
    )
    session.add(job)
    session.flush()
    return job.id


def _notify_followed(
    session: Session,
    recall: Recall,
    summary: dict[str, Any],
    followed: Sequence[_Followed],
    names: Mapping[int, repository.BatchName],
) -> None:
    """One ``recall.opened`` message per followed organisation, naming what it holds, for those with a webhook."""
    by_org: dict[OrgId, list[_Followed]] = defaultdict(list)
    for position in followed:
        by_org[position.org_id].append(position)
    # Which of them have a webhook, found through the holder rows just written.
    holders = select(RecallHolder.org_id).where(RecallHolder.recall_id == recall.id)
    endpoints = set(
        session.scalars(
            select(Organisation.id).where(Organisation.id.in_(holders), Organisation.webhook_url.is_not(None))
        )
    )
    payloads: dict[int, dict[str, Any]] = {}
    for org_id, mine in sorted(by_org.items()):
        holding = [
            {
                "gtin": names[f.batch_id].gtin,
                "lot": names[f.batch_id].lot,
                "quantity_on_hand": f.held,
                "unit": names[f.batch_id].unit,
                "sold_or_administered": f.consumed,
            }
            for f in mine
        ]
        payloads[org_id] = {**summary, "your_holding": holding}
    notify.queue_many(session, recall=recall, event_type="recall.opened", payloads=payloads, endpoints=endpoints)


def recall_summary(recall: Recall, detail: RecallDetail, opened_at: datetime | None) -> dict[str, Any]:
    return {
        "id": recall.id,
        "number": recall.number,
        "class": recall.recall_class,
        "reason": recall.reason,
        "opened_at": opened_at.isoformat() if opened_at else None,
        "chain_recall_id": detail.chain_recall_id,
    }
