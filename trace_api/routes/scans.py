from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ledger import errors
from trace_api.deps import CurrentOrg, SessionDep, StateDep
from trace_api.errors import error_responses
from trace_api.idempotency import IdempotencyKey, run_once
from trace_api.scanning import lock_all_batches, record_scan
from trace_api.schemas.scans import Scan, ScanList, ScanResult, ScanResults

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
    body: Scan | ScanList, org: CurrentOrg, session: SessionDep, state: StateDep, idempotency_key: IdempotencyKey
) -> Any:
    """Record one scan, or a list of scans all-or-nothing. The events are in the ledger when this answers;
    anchoring on chain follows asynchronously. A retry with the same Idempotency-Key replays the first answer."""
    scans = body.scans if isinstance(body, ScanList) else [body]

    def write() -> tuple[int, dict[str, Any]]:
        if len(scans) > 1:
            lock_all_batches(session, scans)
        results: list[ScanResult] = [record_scan(session, state.signer, org, s) for s in scans]
        return 201, ScanResults(results=results).model_dump(mode="json")

    status, payload = run_once(session, org, idempotency_key, body.model_dump(mode="json"), write)
    return JSONResponse(payload, status_code=status)
