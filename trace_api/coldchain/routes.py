"""The cold chain over HTTP: temperature readings in (a logger's file, a gateway's batch), excursions listed and
disposed of, and the products' cold-chain profiles."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from sqlalchemy.orm import Session

from ledger import errors
from ledger.coldchain import errors as coldchain_errors
from ledger.coldchain import excursions, queries
from ledger.models import Excursion, Organisation
from trace_api.coldchain import service
from trace_api.coldchain.schemas import (
    DestroyIn,
    ExcursionOut,
    FileUpload,
    GatewayBatch,
    Ingested,
    ProfileIn,
    ProfileOut,
)
from trace_api.web.deps import CurrentOrg, SessionDep, StateDep
from trace_api.web.errors import error_responses
from trace_api.web.idempotency import IdempotencyKey, run_once
from trace_api.web.schemas import RowId

router = APIRouter(prefix="/api/v1", tags=["cold chain"])

_INGEST_ERRORS = error_responses(
    coldchain_errors.NotRecorder,
    coldchain_errors.UnknownLocation,
    errors.UnknownShipment,
    errors.UnknownBatch,
    errors.PayloadTooLarge,
    errors.UnsupportedMediaType,
    errors.IdempotencyKeyReused,
)
_EXCURSION_ERRORS = (coldchain_errors.UnknownExcursion, errors.RoleRequired, coldchain_errors.ExcursionClosed)


async def raw_body(request: Request) -> bytes:
    """The bytes as posted: a gateway's batch is anchored by their hash, not by a re-serialisation."""
    return await request.body()


@router.post("/temperature/files", status_code=201, response_model=Ingested, responses=_INGEST_ERRORS)
def upload_logger_file(
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    idempotency_key: IdempotencyKey,
    options: Annotated[FileUpload, Query()],
    file: Annotated[UploadFile, File(description="a data logger's export: CSV (UTF-8 or GBK) or XLSX")],
) -> Ingested:
    """Store a logger's readings for a shipment, a location or a holding; the file is kept and its SHA-256
    anchored. Every device in the file gets its log; the logs are judged at once and any excursion holds the
    goods at their holder."""
    limit = state.settings.max_upload_bytes
    content = file.file.read(limit + 1)  # a sync route: reading the spooled upload blocks no event loop
    request = {**options.model_dump(mode="json"), "sha256": hashlib.sha256(content).hexdigest()}

    def write() -> tuple[int, Ingested]:
        return 201, service.upload_file(
            session,
            state.signer,
            org,
            service.scope_of(session, options),
            content=content,
            filename=file.filename or "logger.csv",
            content_type=file.content_type or "text/csv",
            device_id=options.device_id,
            interval_s=options.interval_s,
            offset=service.parse_offset(options.utc_offset),
            max_bytes=limit,
        )

    return run_once(session, org, idempotency_key, request, Ingested, write)[1]


@router.post("/temperature/readings", status_code=201, response_model=Ingested, responses=_INGEST_ERRORS)
def gateway_readings(
    body: GatewayBatch,
    raw: Annotated[bytes, Depends(raw_body)],
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    idempotency_key: IdempotencyKey,
) -> Ingested:
    """An IoT gateway's batch of readings (times with their offset, °C), each logger's into its log."""
    request = {"sha256": hashlib.sha256(raw).hexdigest()}

    def write() -> tuple[int, Ingested]:
        return 201, service.gateway_batch(session, state.signer, org, body, raw)

    return run_once(session, org, idempotency_key, request, Ingested, write)[1]


@router.get("/excursions", response_model=list[ExcursionOut], responses=error_responses(errors.UnknownOrganisation))
def list_excursions(
    org: CurrentOrg,
    session: SessionDep,
    status: Annotated[queries.Standing | None, Query(description="open (goods on hold) or resolved")] = None,
    region: Annotated[str | None, Query(pattern=r"^\d{2,6}$", description="division code or prefix")] = None,
    gtin: Annotated[str | None, Query(max_length=14)] = None,
    holder: Annotated[str | None, Query(max_length=18, description="the holder's USCC")] = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ExcursionOut]:
    """Excursions newest first: every one for a regulator, otherwise those at the caller's goods, those it
    recorded and those of batches it registered."""
    where = queries.ExcursionFilter(status, region, gtin, service.holder_id(session, holder))
    rows = queries.list_excursions(session, org, where, limit=limit, offset=offset)
    return service.excursion_views(session, rows)


@router.get("/excursions/{excursion_id}", response_model=ExcursionOut, responses=error_responses(*_EXCURSION_ERRORS))
def get_excursion(excursion_id: RowId, org: CurrentOrg, session: SessionDep) -> ExcursionOut:
    return _view(session, excursions.visible_excursion(session, org, excursion_id))


def _view(session: Session, excursion: Excursion) -> ExcursionOut:
    session.flush()
    return service.excursion_views(session, [excursion])[0]


def _act(
    session: Session,
    org: Organisation,
    excursion_id: int,
    key: str,
    request: Mapping[str, object],
    act: Callable[[Excursion], None],
) -> ExcursionOut:
    """One action on one excursion, at most once per Idempotency-Key; the answer is the excursion after it."""

    def write() -> tuple[int, ExcursionOut]:
        excursion = excursions.visible_excursion(session, org, excursion_id)
        act(excursion)
        return 200, _view(session, excursion)

    return run_once(session, org, key, {"excursion": excursion_id, **request}, ExcursionOut, write)[1]


@router.post(
    "/excursions/{excursion_id}/acknowledgement",
    response_model=ExcursionOut,
    responses=error_responses(*_EXCURSION_ERRORS),
)
def acknowledge(
    excursion_id: RowId, org: CurrentOrg, session: SessionDep, idempotency_key: IdempotencyKey
) -> ExcursionOut:
    """The holder has seen the excursion and put the goods aside."""
    return _act(session, org, excursion_id, idempotency_key, {}, lambda e: excursions.acknowledge(session, org, e))


@router.post(
    "/excursions/{excursion_id}/release",
    response_model=ExcursionOut,
    responses=error_responses(
        *_EXCURSION_ERRORS, coldchain_errors.ExcursionOngoing, errors.PayloadTooLarge, errors.UnsupportedMediaType
    ),
)
def release(
    excursion_id: RowId,
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    idempotency_key: IdempotencyKey,
    reason: Annotated[str, Form(min_length=1, max_length=2_000)],
    evidence: Annotated[UploadFile, File(description="PDF, PNG or JPEG: what shows the goods are still fit")],
) -> ExcursionOut:
    """A regulator, or the registrant of the goods, releases them with a reason and evidence, once the excursion
    has ended; the evidence's SHA-256 goes into a signed event on the batches' chains."""
    limit = state.settings.max_upload_bytes
    content = evidence.file.read(limit + 1)
    request = {"reason": reason, "sha256": hashlib.sha256(content).hexdigest()}

    def act(excursion: Excursion) -> None:
        service.release(
            session,
            state.signer,
            org,
            excursion,
            reason=reason,
            filename=evidence.filename or "evidence",
            content_type=evidence.content_type or "application/octet-stream",
            content=content,
            max_bytes=limit,
        )

    return _act(session, org, excursion_id, idempotency_key, request, act)


@router.post(
    "/excursions/{excursion_id}/destruction",
    response_model=ExcursionOut,
    responses=error_responses(*_EXCURSION_ERRORS, errors.InvalidTransition),
)
def destroy(
    excursion_id: RowId,
    body: DestroyIn,
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    idempotency_key: IdempotencyKey,
) -> ExcursionOut:
    """The holder destroys what it has on hand of the goods (a destroying event), which ends their holds."""
    request = body.model_dump(mode="json")
    act = lambda e: excursions.destroy(session, state.signer, org, e, reason=body.reason)  # noqa: E731
    return _act(session, org, excursion_id, idempotency_key, request, act)


@router.post(
    "/excursions/{excursion_id}/recall-candidate",
    response_model=ExcursionOut,
    responses=error_responses(*_EXCURSION_ERRORS),
)
def make_candidate(
    excursion_id: RowId, org: CurrentOrg, session: SessionDep, idempotency_key: IdempotencyKey
) -> ExcursionOut:
    """A regulator lists the goods among the recall candidates, beside failed inspections, one click from a
    recall."""
    act = lambda e: excursions.make_candidate(session, org, e)  # noqa: E731
    return _act(session, org, excursion_id, idempotency_key, {}, act)


@router.get(
    "/products/{gtin}/cold-chain-profile",
    response_model=ProfileOut,
    responses=error_responses(errors.UnknownProduct, errors.InvalidGTIN),
)
def get_profile(gtin: str, org: CurrentOrg, session: SessionDep) -> ProfileOut:
    """The profile that judges the product's temperature, and its rules."""
    return service.profile_view(session, gtin)


@router.put(
    "/products/{gtin}/cold-chain-profile",
    response_model=ProfileOut,
    responses=error_responses(errors.UnknownProduct, errors.RoleRequired, errors.InvalidGTIN),
)
def choose_profile(gtin: str, body: ProfileIn, org: CurrentOrg, session: SessionDep) -> ProfileOut:
    """The product's owner chooses its profile, e.g. a vaccine that freezing spoils."""
    return service.choose_profile(session, org, gtin, body.profile)
