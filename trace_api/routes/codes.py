from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks
from fastapi.responses import JSONResponse
from sqlalchemy import select

from ledger import errors
from ledger.code_signing import signed_uri
from ledger.codes import issue_item_codes, start_run
from ledger.identifiers import DigitalLink
from ledger.models import Code, CodeKind, CodeRun, Product, Role, utcnow
from trace_api.batches import get_visible_batch
from trace_api.deps import CurrentOrg, SessionDep, StateDep
from trace_api.errors import error_responses
from trace_api.idempotency import IdempotencyKey, run_once
from trace_api.schemas.goods import CodeOut, CodeRunCreate, CodeRunOut

router = APIRouter(prefix="/api/v1", tags=["codes"])

# Runs up to this size are issued inside the request; larger ones by the worker, with progress on the run.
SYNC_LIMIT = 10_000


def _dispatch(run_id: int) -> None:
    # Imported here: the worker module builds a Celery app (and its broker connection) on import, which the API
    # only needs when a large run is actually queued.
    from trace_api.worker import dispatch_code_run

    dispatch_code_run(run_id)


@router.post(
    "/batches/{batch_id}/codes",
    status_code=201,
    response_model=CodeRunOut,
    responses={
        202: {"model": CodeRunOut, "description": "a large run, queued for the worker"},
        **error_responses(errors.UnknownBatch, errors.NotHolder, errors.QuantityExceeded),
    },
)
def issue_codes(
    batch_id: int,
    body: CodeRunCreate,
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    background: BackgroundTasks,
    idempotency_key: IdempotencyKey,
) -> Any:
    """Issue item codes (一品一码) for a batch: random serials, each signed by the issuer's key."""
    batch = get_visible_batch(session, org, batch_id)

    def write() -> tuple[int, dict[str, Any]]:
        run = start_run(session, org, batch.id, body.count)
        if body.count <= SYNC_LIMIT:
            issue_item_codes(session, state.signer, org, batch.id, body.count, run=run.id)
            run.issued, run.status, run.finished_at = body.count, "done", utcnow()
            return 201, CodeRunOut.model_validate(run).model_dump(mode="json")
        # Dispatched after the answer, hence after the commit: the worker must find the run it is sent.
        background.add_task(_dispatch, run.id)
        return 202, CodeRunOut.model_validate(run).model_dump(mode="json")

    status, payload = run_once(session, org, idempotency_key, {"batch": batch_id, **body.model_dump()}, write)
    return JSONResponse(payload, status_code=status, background=background)


@router.get("/code-runs/{run_id}", response_model=CodeRunOut, responses=error_responses(errors.UnknownBatch))
def code_run(run_id: int, org: CurrentOrg, session: SessionDep) -> CodeRunOut:
    run = session.get(CodeRun, run_id)
    if run is None or (run.org_id != org.id and not org.has_role(Role.REGULATOR)):
        raise errors.NotFound(f"no code run {run_id} visible to this organisation", run_id=run_id)
    return CodeRunOut.model_validate(run)


@router.get("/batches/{batch_id}/codes", response_model=list[CodeOut], responses=error_responses(errors.UnknownBatch))
def list_codes(
    batch_id: int,
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    run: int | None = None,
    offset: int = 0,
    limit: int = 100,
) -> list[CodeOut]:
    """The batch's item codes in issue order, with their Digital Links (signed, as printed in the QR)."""
    batch = get_visible_batch(session, org, batch_id)
    product = session.get(Product, batch.product_id)
    assert product is not None
    query = select(Code).where(Code.batch_id == batch.id, Code.kind == CodeKind.ITEM)
    if run is not None:
        query = query.where(Code.issue_run == run)
    rows = session.scalars(query.order_by(Code.id).offset(max(offset, 0)).limit(max(1, min(limit, 1000))))
    out = []
    for code in rows:
        assert code.serial is not None
        link = DigitalLink(gtin=product.gtin, lot=batch.lot, serial=code.serial)
        public = state.settings.public_url
        signed = signed_uri(link, public, code.signature) if code.signature else None
        out.append(
            CodeOut(serial=code.serial, digital_link=link.uri(public), signed_link=signed, status=code.status.value)
        )
    return out
