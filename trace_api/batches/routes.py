"""Batches over HTTP: register one at first entry, list and read them, attach and list their documents."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from ledger import errors
from ledger.models import Role
from trace_api.batches import service
from trace_api.batches.schemas import BatchCreate, BatchOut, DocumentOut
from trace_api.web.deps import CurrentOrg, SessionDep, StateDep, require_role
from trace_api.web.errors import error_responses
from trace_api.web.idempotency import IdempotencyKey, run_once
from trace_api.web.queries import get_visible_batch
from trace_api.web.schemas import Limit, Offset, RowId

router = APIRouter(prefix="/api/v1", tags=["batches"])


@router.post(
    "/batches",
    status_code=201,
    response_model=BatchOut,
    responses=error_responses(errors.RoleRequired, errors.UnknownProduct, errors.AlreadyExists, errors.InvalidLot),
)
def create_batch(
    body: BatchCreate, org: CurrentOrg, session: SessionDep, state: StateDep, idempotency_key: IdempotencyKey
) -> BatchOut:
    """Register a batch at first entry with its flow's declarations; the registrant holds all of it."""
    require_role(org, Role.PRODUCER)

    def write() -> tuple[int, BatchOut]:
        batch = service.register(session, state.signer, org, body)
        return 201, service.batch_view(session, batch, state.settings.public_url, for_org_id=org.id)

    _status, created = run_once(session, org, idempotency_key, body.model_dump(mode="json"), BatchOut, write)
    return created


@router.get("/batches", response_model=list[BatchOut], responses=error_responses())
def list_batches(
    org: CurrentOrg, session: SessionDep, state: StateDep, offset: Offset = 0, limit: Limit = 50
) -> list[BatchOut]:
    """Batches this organisation registered or holds (all, for a regulator), newest first."""
    rows = service.newest_batches(session, org, offset=max(offset, 0), limit=max(1, min(limit, 200)))
    return [service.batch_view(session, b, state.settings.public_url, for_org_id=org.id) for b in rows]


@router.get("/batches/{batch_id}", response_model=BatchOut, responses=error_responses(errors.UnknownBatch))
def get_batch(batch_id: RowId, org: CurrentOrg, session: SessionDep, state: StateDep) -> BatchOut:
    batch = get_visible_batch(session, org, batch_id)
    return service.batch_view(session, batch, state.settings.public_url, for_org_id=org.id)


@router.post(
    "/batches/{batch_id}/documents",
    status_code=201,
    response_model=DocumentOut,
    responses=error_responses(
        errors.UnknownBatch, errors.RoleRequired, errors.PayloadTooLarge, errors.UnsupportedMediaType
    ),
)
async def upload_document(
    batch_id: RowId,
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    file: Annotated[UploadFile, File(description="PDF, PNG or JPEG")],
    kind: Annotated[str, Form(description="customs_declaration, quarantine_certificate, nucleic_acid_report, …")],
) -> DocumentOut:
    """Attach a certificate or report; its SHA-256 joins the batch's event chain and is anchored on chain."""
    limit = state.settings.max_upload_bytes
    content = await file.read(limit + 1)
    batch = get_visible_batch(session, org, batch_id)
    document, event_id = service.attach_document(
        session,
        state.signer,
        org,
        batch,
        kind=kind,
        filename=file.filename or "document",
        content_type=file.content_type or "application/octet-stream",
        content=content,
        max_bytes=limit,
    )
    return DocumentOut.model_validate(document).model_copy(update={"event_id": event_id})


@router.get(
    "/batches/{batch_id}/documents", response_model=list[DocumentOut], responses=error_responses(errors.UnknownBatch)
)
def list_documents(batch_id: RowId, org: CurrentOrg, session: SessionDep) -> list[DocumentOut]:
    batch = get_visible_batch(session, org, batch_id)
    return [DocumentOut.model_validate(d) for d in service.documents_of(session, batch)]
