"""A recall as its readers see it: the summary (goods, progress, chain state), the detail (holders and webhook
deliveries) and the sampling-inspection candidates, shared by the JSON API and the pages so both show the same
figures."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy.orm import Session

from ledger.models import ChainJob, Organisation, Recall, Role
from recall import repository
from trace_api.recalls.schemas import (
    CandidateOut,
    ChainState,
    DeliveryOut,
    HolderOut,
    Progress,
    RecallDetailOut,
    RecalledBatch,
    RecallOut,
)


def recall_summary(session: Session, recall: Recall) -> RecallOut:
    session.flush()
    names = repository.batch_names(session, repository.target_batch_ids(session, recall.id))
    progress = repository.progress_of(session, recall.id)
    detail = repository.detail_of(session, recall.id)
    jobs = {
        job.id: job
        for job in (session.get(ChainJob, i) for i in (detail.open_job_id, detail.close_job_id) if i is not None)
        if job is not None
    }
    open_job, close_job = jobs.get(detail.open_job_id or 0), jobs.get(detail.close_job_id or 0)
    return RecallOut(
        id=recall.id,
        number=recall.number,
        recall_class=recall.recall_class,
        reason=recall.reason,
        status=recall.status.value,
        requested_by_org_id=recall.requested_by_org_id,
        opened_by_org_id=recall.opened_by_org_id,
        opened_at=recall.opened_at,
        closed_at=recall.closed_at,
        close_reason=recall.close_reason,
        batches=[RecalledBatch(batch_id=n.batch_id, gtin=n.gtin, lot=n.lot, product=n.product) for n in names.values()],
        codes_recalled=len(repository.target_code_ids(session, recall.id)),
        progress=Progress(**asdict(progress)),
        chain=ChainState(
            chain_recall_id=detail.chain_recall_id,
            open_job=open_job.status.value if open_job else None,
            open_tx_hash=open_job.tx_hash if open_job else None,
            close_job=close_job.status.value if close_job else None,
            close_tx_hash=close_job.tx_hash if close_job else None,
        ),
    )


def recall_detail(session: Session, org: Organisation, recall: Recall) -> RecallDetailOut:
    everyone = org.has_role(Role.REGULATOR)
    holders = repository.holders_of(session, recall.id, org_id=None if everyone else org.id)
    deliveries = repository.deliveries_of(session, recall.id, org_id=None if everyone else org.id)
    names = repository.batch_names(session, {h.batch_id for h in holders})
    org_names = repository.holder_names(session, recall.id)
    return RecallDetailOut(
        **recall_summary(session, recall).model_dump(),
        holders=[
            HolderOut(
                org_id=h.org_id,
                org_name=org_names.get(h.org_id, ""),
                gtin=names[h.batch_id].gtin,
                lot=names[h.batch_id].lot,
                quantity_at_open=h.quantity_at_open,
                consumed_at_open=h.consumed_at_open,
                quarantined=h.quarantined,
                returned=h.returned,
                destroyed=h.destroyed,
                accounted=h.accounted,
                acknowledged_at=h.acknowledged_at,
                settled=h.settled,
            )
            for h in holders
        ],
        deliveries=[
            DeliveryOut(
                delivery_id=d.delivery_id,
                org_id=d.org_id,
                event_type=d.event_type,
                status=d.status.value,
                attempts=d.attempts,
                url=d.url,
                last_status_code=d.last_status_code,
                last_error=d.last_error,
                next_attempt_at=d.next_attempt_at,
                delivered_at=d.delivered_at,
            )
            for d in deliveries
        ],
    )


def candidates(session: Session) -> list[CandidateOut]:
    """Failed sampling inspections (抽检不合格), and cold-chain excursions a regulator put forward, not yet turned
    into a recall."""
    return [
        CandidateOut(
            hold_id=c.hold_id,
            batch=RecalledBatch(batch_id=c.batch.batch_id, gtin=c.batch.gtin, lot=c.batch.lot, product=c.batch.product),
            reason=c.reason,
            placed_at=c.placed_at,
            inspected_by=c.inspected_by,
            event_id=c.event_id,
            kind=c.kind.value,
        )
        for c in repository.recall_candidates(session)
    ]
