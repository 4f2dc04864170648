"""Issuing item codes (一品一码): random serials under a batch, commissioned by EPCIS events.

Serials come from a CSPRNG, so a counterfeiter cannot guess the next valid code from a genuine one. A batch never
has more item codes than units, and codes are only issued by the batch's registrant, who holds them at first.
Large runs are split into commissioning events of ``EVENT_CHUNK`` codes so no single event document grows without
bound.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from ledger import epcis_events, terms
from ledger.code_signing import sign_item_serials
from ledger.errors import NotHolder, QuantityExceeded, UnknownBatch
from ledger.goods import lock_batches
from ledger.identifiers import new_serials
from ledger.models import Batch, Code, CodeKind, CodeRun, CodeStatus, Organisation, Product
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
    batch = _registrants_batch(session, org, batch_id)
    product = session.get(Product, batch.product_id)
    assert product is not None
    issued = _issued(session, batch_id)
    if issued + count > batch.quantity:
        raise QuantityExceeded(
            f"batch has {batch.quantity} units and {issued} codes already; {count} more would exceed it",
            batch_id=batch_id,
            requested=count,
            available=batch.quantity - issued,
        )
    # 12 symbols from a 31-letter alphabet: ~7.9e17 serials per batch, so a clash is practically impossible; the
    # unique (batch_id, serial) constraint still refuses one, rolling the whole run back rather than mis-issuing.
    serials = new_serials(count)
    # Each code carries its issuer's signature (in the QR's Digital Link), so a forged code is caught offline.
    signatures = sign_item_serials(signer.private_key(org), product.gtin, batch.lot, serials)
    when = event_time or datetime.now(UTC)
    read_point = terms.location_uri(location_id) if location_id else None
    for start in range(0, count, EVENT_CHUNK):
        document = epcis_events.item_commissioning(
            event_time=when,
            epcs=[terms.item_epc(product.gtin, s) for s in serials[start : start + EVENT_CHUNK]],
            registrant=terms.owning_party(org.uscc, org.gln),
            read_point=read_point,
            ilmd=terms.lot_master_data(lot=batch.lot, expiry_date=batch.expiry_date, production_date=None),
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
                "signature": signature,
                "created_at": when,
            }
            for s, signature in zip(serials, signatures, strict=True)
        ],
    )
    return serials


RUN_CHUNK = 50_000


def start_run(session: Session, org: Organisation, batch_id: int, count: int) -> CodeRun:
    """Record a code run after checking it can succeed (registrant, capacity), so a refused run is refused now."""
    count = require_quantity(count, what="number of codes")
    batch = _registrants_batch(session, org, batch_id)
    issued = _issued(session, batch_id)
    queued = (
        session.scalar(
            select(func.coalesce(func.sum(CodeRun.count - CodeRun.issued), 0)).where(
                CodeRun.batch_id == batch_id, CodeRun.status.in_(("queued", "running"))
            )
        )
        or 0
    )
    if issued + queued + count > batch.quantity:
        raise QuantityExceeded(
            f"batch has {batch.quantity} units, {issued} codes issued, {queued} queued; {count} more is too many",
            batch_id=batch_id,
            requested=count,
            available=batch.quantity - issued - queued,
        )
    run = CodeRun(batch_id=batch_id, org_id=org.id, count=count, issued=0, status="queued")
    session.add(run)
    session.flush()
    return run


def continue_run(session_factory: sessionmaker[Session], signer: Signer, run_id: int) -> CodeRun | None:
    """Issue what is left of a run, one committed chunk at a time; safe to run again after a crash.

    Progress is the number of codes carrying the run's id, so a chunk that committed is never issued twice and
    one that did not is redone.
    """
    while True:
        with session_factory() as session, session.begin():
            run = session.scalar(select(CodeRun).where(CodeRun.id == run_id).with_for_update())
            if run is None or run.status in ("done", "failed"):
                return run
            run.issued = (
                session.scalar(
                    select(func.count())
                    .select_from(Code)
                    .where(Code.batch_id == run.batch_id, Code.issue_run == run.id)
                )
                or 0
            )
            left = run.count - run.issued
            if left <= 0:
                run.status, run.finished_at = "done", datetime.now(UTC)
                return run
            run.status = "running"
            org = session.get(Organisation, run.org_id)
            assert org is not None
            chunk = min(left, RUN_CHUNK)
            issue_item_codes(session, signer, org, run.batch_id, chunk, run=run.id)
            run.issued += chunk


def _registrants_batch(session: Session, org: Organisation, batch_id: int) -> Batch:
    """The batch, locked, if the organisation registered it: only its registrant issues its item codes."""
    batch = lock_batches(session, [batch_id]).get(batch_id)
    if batch is None:
        raise UnknownBatch(f"no batch {batch_id}", batch_id=batch_id)
    if batch.registrant_org_id != org.id:
        raise NotHolder("only the batch's registrant issues its item codes", batch_id=batch_id)
    return batch


def _issued(session: Session, batch_id: int) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(Code).where(Code.batch_id == batch_id, Code.kind == CodeKind.ITEM)
        )
        or 0
    )
