"""Trade scans over HTTP: one scan or a list, all-or-nothing, once per Idempotency-Key."""

from __future__ import annotations

from fastapi import APIRouter, Response

from ledger import errors
from trace_api.scans.schemas import Scan, ScanList, ScanResults
from trace_api.scans.service import lock_all_batches, record_scan
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


@router.post("/scans", status_code=201, response_model=ScanResults, responses=SCAN_ERRORS)
def scan(
    body: Scan | ScanList,
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    response: Response,
    idempotency_key: IdempotencyKey,
) -> ScanResults:
    """Record one scan, or a list of scans all-or-nothing. The events are in the ledger when this answers;
    anchoring on chain follows asynchronously. A retry with the same Idempotency-Key replays the first answer."""
    scans = body.scans if isinstance(body, ScanList) else [body]

    def write() -> tuple[int, ScanResults]:
        if len(scans) > 1:
            lock_all_batches(session, scans)
        return 201, ScanResults(results=[record_scan(session, state.signer, org, s) for s in scans])

    response.status_code, results = run_once(
        session, org, idempotency_key, body.model_dump(mode="json"), ScanResults, write
    )
    return results
