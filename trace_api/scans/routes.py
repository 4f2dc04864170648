"""Trade scans over HTTP: one scan or a list, all-or-nothing, once per Idempotency-Key; or a queue of scans made
offline, each applied and answered on its own line."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ledger import errors, undo
from ledger.goods import Goods
from ledger.identifiers import parse_code
from ledger.trade import ScanContext
from trace_api.scans.lines import name_the_line, record_lines
from trace_api.scans.schemas import (
    LineOutcomes,
    SaleUndo,
    SaleUndone,
    Scan,
    ScanLines,
    ScanList,
    ScanResult,
    ScanResults,
)
from trace_api.scans.service import lock_all_batches, record_scan
from trace_api.web.alerting import record_refusal
from trace_api.web.deps import CurrentOrg, SessionDep, StateDep
from trace_api.web.errors import error_responses
from trace_api.web.idempotency import IdempotencyKey, run_once

router = APIRouter(prefix="/api/v1", tags=["scans"])

SCAN_ERRORS = error_responses(
    errors.RoleRequired,
    errors.UnknownCode,
    errors.UnknownBatch,
    errors.UnknownShipment,
    errors.UnknownOrganisation,
    errors.IdempotencyKeyReused,
    errors.QuantityExceeded,
    errors.NotHolder,
    errors.RecalledGoods,
    errors.InvalidDigitalLink,
)

UNDO_ERRORS = error_responses(
    errors.RoleRequired, errors.UnknownCode, errors.NotHolder, errors.InvalidTransition, errors.IdempotencyKeyReused
)


@router.post("/scans", status_code=201, response_model=ScanResults, responses=SCAN_ERRORS)
def scan(
    body: Scan | ScanList,
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    response: Response,
    idempotency_key: IdempotencyKey,
) -> ScanResults:
    """Record one scan, or a list of scans all-or-nothing (a refusal names the scan and code it concerns in its
    context). The events are in the ledger when this answers; anchoring on chain follows asynchronously. A retry
    with the same Idempotency-Key replays the first answer."""
    scans = body.scans if isinstance(body, ScanList) else [body]

    def write() -> tuple[int, ScanResults]:
        if len(scans) > 1:
            lock_all_batches(session, scans)
        results: list[ScanResult] = []
        for index, one in enumerate(scans):
            try:
                results.append(record_scan(session, state.signer, org, one))
            except errors.LotlineError as error:
                if isinstance(body, ScanList):
                    name_the_line(error, index, one)
                raise
        return 201, ScanResults(results=results)

    org_id = org.id
    try:
        response.status_code, results = run_once(
            session, org, idempotency_key, body.model_dump(mode="json"), ScanResults, write
        )
    except errors.LotlineError as error:
        refused = scans[error.context.get("scan", 0)] if isinstance(body, ScanList) else scans[0]
        at = refused.event_time
        record_refusal(state, session, org_id, error, location_id=refused.location_id, at=at)
        raise
    return results


@router.post("/scans/lines", response_model=LineOutcomes, responses=SCAN_ERRORS)
def scan_lines(
    body: ScanLines,
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    response: Response,
    idempotency_key: IdempotencyKey,
) -> LineOutcomes:
    """Record scans queued offline, each on its own: every line is answered, accepted with its event or refused
    with the reason, and one refusal leaves the other scans recorded. Each scan's own ``key`` makes it
    idempotent across lists; the list's Idempotency-Key replays the whole answer."""

    def write() -> tuple[int, LineOutcomes]:
        return 200, record_lines(session, state.signer, org, body.scans)

    response.status_code, outcomes = run_once(
        session, org, idempotency_key, body.model_dump(mode="json"), LineOutcomes, write
    )
    return outcomes


@router.post("/sales/undo", status_code=201, response_model=SaleUndone, responses=UNDO_ERRORS)
def undo_sale(
    body: SaleUndo,
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    response: Response,
    idempotency_key: IdempotencyKey,
) -> SaleUndone:
    """Undo a mistaken sale: the packs are back on sale, recorded as an event of its own (CBV ``stocking``,
    ``sellable_accessible``, naming the voided sale). Only the organisation that sold them, within ten days."""

    def write() -> tuple[int, SaleUndone]:
        ctx = ScanContext(org=org, location_id=body.location_id)
        goods = Goods(codes=tuple(parse_code(text) for text in body.codes), lines=())
        event = undo.undo_sale(session, state.signer, ctx, goods)
        voided = [t["bizTransaction"] for t in event.document.get("bizTransactionList", [])]
        return 201, SaleUndone(event_id=event.event_id, voided=voided)

    response.status_code, result = run_once(
        session, org, idempotency_key, {"undo_sale": body.model_dump(mode="json")}, SaleUndone, write
    )
    return result
