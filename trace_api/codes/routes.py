"""Item codes over HTTP: issue a run (small ones at once, large ones through the worker), follow it, list codes."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Response

from ledger import errors
from trace_api.codes import service
from trace_api.codes.schemas import CodeOut, CodeRunCreate, CodeRunOut
from trace_api.tasks import TaskName
from trace_api.web.deps import CurrentOrg, SessionDep, StateDep
from trace_api.web.errors import error_responses
from trace_api.web.idempotency import IdempotencyKey, run_once
from trace_api.web.queries import get_visible_batch
from trace_api.web.schemas import Limit, Offset, QueryId, RowId

router = APIRouter(prefix="/api/v1", tags=["codes"])


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
    batch_id: RowId,
    body: CodeRunCreate,
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    background: BackgroundTasks,
    response: Response,
    idempotency_key: IdempotencyKey,
) -> CodeRunOut:
    """Issue item codes (一品一码) for a batch: random serials, each signed by the issuer's key."""
    batch = get_visible_batch(session, org, batch_id)

    def write() -> tuple[int, CodeRunOut]:
        run = service.start_codes(session, state.signer, org, batch, body.count)
        if run.status == "done":
            return 201, CodeRunOut.model_validate(run)
        # Sent after the answer, hence after the commit: the worker must find the run it is sent.
        background.add_task(state.tasks.send, TaskName.ISSUE_CODES, run.id)
        return 202, CodeRunOut.model_validate(run)

    request = {"batch": batch_id, **body.model_dump()}
    response.status_code, run = run_once(session, org, idempotency_key, request, CodeRunOut, write)
    return run


@router.get("/code-runs/{run_id}", response_model=CodeRunOut, responses=error_responses(errors.UnknownBatch))
def code_run(run_id: RowId, org: CurrentOrg, session: SessionDep) -> CodeRunOut:
    return CodeRunOut.model_validate(service.visible_run(session, org, run_id))


@router.get("/batches/{batch_id}/codes", response_model=list[CodeOut], responses=error_responses(errors.UnknownBatch))
def list_codes(
    batch_id: RowId,
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    run: QueryId | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> list[CodeOut]:
    """The batch's item codes in issue order, with their Digital Links (signed, as printed in the QR)."""
    batch = get_visible_batch(session, org, batch_id)
    public = state.settings.public_url
    return service.code_links(session, batch, public, run=run, offset=max(offset, 0), limit=max(1, min(limit, 1000)))
