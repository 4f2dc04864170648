"""Recalls over HTTP: open (or request and approve), follow, acknowledge, close, export; sampling-inspection
candidates; and the webhook each organisation is told on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from ledger import errors
from ledger.identifiers import parse_code
from ledger.keys import KeyVault
from ledger.models import Organisation, Recall, Role
from recall import export, notify, repository, service
from recall.endpoints import AddressPolicy
from trace_api.deps import CurrentOrg, SessionDep, StateDep, require_role
from trace_api.errors import error_responses
from trace_api.idempotency import IdempotencyKey, run_once
from trace_api.recall_views import XLSX, attachment, recall_detail, recall_summary
from trace_api.schemas.recalls import (
    Acknowledgement,
    BatchOut,
    CandidateConfirm,
    CandidateOut,
    RecallClose,
    RecallCreate,
    RecallDetailOut,
    RecallOut,
    WebhookOut,
    WebhookSet,
)

router = APIRouter(prefix="/api/v1", tags=["recalls"])

OPEN_ERRORS = error_responses(
    errors.RoleRequired, errors.UnknownBatch, errors.UnknownCode, errors.InvalidDigitalLink, errors.IdempotencyKeyReused
)
STATE_ERRORS = error_responses(errors.RoleRequired, errors.NotFound, errors.InvalidTransition)
# Ids as the database stores them (64-bit): a larger number is a 422, not an overflow deep in the driver.
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.post("/recalls", status_code=201, response_model=RecallOut, responses=OPEN_ERRORS)
def open_recall(
    body: RecallCreate, org: CurrentOrg, session: SessionDep, state: StateDep, idempotency_key: IdempotencyKey
) -> Any:
    """A regulator opens a recall: from this answer on, the goods cannot be shipped, sold or administered and
    every holder is being notified. A producer's recall of its own batches is ``requested`` until approved."""

    def write() -> tuple[int, dict[str, Any]]:
        recall = service.open_recall(
            session,
            org,
            batches=[service.BatchRef(b.gtin, b.lot) for b in body.batches],
            codes=[parse_code(code) for code in body.codes],
            recall_class=body.recall_class,
            reason=body.reason,
            public_url=state.settings.public_url,
        )
        return 201, recall_summary(session, recall).model_dump(mode="json")

    return _once(session, org, idempotency_key, body.model_dump(mode="json"), write)


@router.get("/recalls", response_model=list[RecallOut], responses=error_responses())
def list_recalls(
    org: CurrentOrg,
    session: SessionDep,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=10**9),
) -> list[RecallOut]:
    """Newest first: every recall for a regulator; for others, the recalls that concern them."""
    return [recall_summary(session, r) for r in repository.visible_recalls(session, org, limit=limit, offset=offset)]


@router.get("/recalls/candidates", response_model=list[CandidateOut], responses=error_responses(errors.RoleRequired))
def candidates(org: CurrentOrg, session: SessionDep) -> list[CandidateOut]:
    """Failed sampling inspections (抽检不合格) not yet turned into a recall (regulators)."""
    require_role(org, Role.REGULATOR)
    return [
        CandidateOut(
            hold_id=c.hold_id,
            batch=BatchOut(batch_id=c.batch.batch_id, gtin=c.batch.gtin, lot=c.batch.lot, product=c.batch.product),
            reason=c.reason,
            placed_at=c.placed_at,
            inspected_by=c.inspected_by,
            event_id=c.event_id,
        )
        for c in repository.inspection_candidates(session)
    ]


@router.post(
    "/recalls/candidates/{hold_id}/confirm",
    status_code=201,
    response_model=RecallOut,
    responses=error_responses(errors.RoleRequired, errors.NotFound, errors.AlreadyExists),
)
def confirm_candidate(
    hold_id: RowId,
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    idempotency_key: IdempotencyKey,
    body: CandidateConfirm | None = None,
) -> Any:
    """One click: the failed inspection's batch is recalled from every holder."""
    body = body or CandidateConfirm()

    def write() -> tuple[int, dict[str, Any]]:
        recall = service.confirm_candidate(
            session,
            org,
            hold_id,
            public_url=state.settings.public_url,
            recall_class=body.recall_class,
            reason=body.reason,
        )
        return 201, recall_summary(session, recall).model_dump(mode="json")

    return _once(session, org, idempotency_key, {"hold_id": hold_id, **body.model_dump(mode="json")}, write)


@router.get("/recalls/{recall_id}", response_model=RecallDetailOut, responses=error_responses(errors.NotFound))
def get_recall(recall_id: RowId, org: CurrentOrg, session: SessionDep) -> RecallDetailOut:
    """The recall with its holders' progress and the webhook deliveries."""
    return recall_detail(session, org, service.get_recall(session, org, recall_id))


@router.post("/recalls/{recall_id}/approve", response_model=RecallOut, responses=STATE_ERRORS)
def approve(
    recall_id: RowId, org: CurrentOrg, session: SessionDep, state: StateDep, idempotency_key: IdempotencyKey
) -> Any:
    """A regulator opens a recall a producer requested."""

    def write() -> tuple[int, dict[str, Any]]:
        recall = service.approve(session, org, recall_id, public_url=state.settings.public_url)
        return 200, recall_summary(session, recall).model_dump(mode="json")

    return _once(session, org, idempotency_key, {"approve": recall_id}, write)


@router.post(
    "/recalls/{recall_id}/acknowledgements",
    response_model=RecallDetailOut,
    responses=error_responses(errors.NotFound, errors.InvalidTransition, errors.QuantityExceeded),
)
def acknowledge(
    recall_id: RowId, body: Acknowledgement, org: CurrentOrg, session: SessionDep, idempotency_key: IdempotencyKey
) -> Any:
    """A holder reports, per batch, how many units it has quarantined, returned and destroyed (running totals).
    The recall closes itself when every holder has accounted for every unit it held at opening."""
    reports = [service.Report(h.gtin, h.lot, h.quarantined, h.returned, h.destroyed) for h in body.holdings]

    def write() -> tuple[int, dict[str, Any]]:
        recall = service.acknowledge(session, org, recall_id, reports)
        return 200, recall_detail(session, org, recall).model_dump(mode="json")

    return _once(session, org, idempotency_key, {"recall": recall_id, **body.model_dump(mode="json")}, write)


@router.post("/recalls/{recall_id}/close", response_model=RecallOut, responses=STATE_ERRORS)
def close(
    recall_id: RowId, body: RecallClose, org: CurrentOrg, session: SessionDep, idempotency_key: IdempotencyKey
) -> Any:
    """A regulator closes a recall (or turns down a requested one) with a reason; closing twice is refused."""

    def write() -> tuple[int, dict[str, Any]]:
        recall = service.close(session, org, recall_id, body.reason)
        return 200, recall_summary(session, recall).model_dump(mode="json")

    return _once(session, org, idempotency_key, {"close": recall_id, **body.model_dump(mode="json")}, write)


@router.get("/recalls/{recall_id}/export.csv", responses=error_responses(errors.RoleRequired, errors.NotFound))
def export_csv(recall_id: RowId, org: CurrentOrg, session: SessionDep) -> Response:
    """The critical tracking events with FSMA 204 key data elements, one row each (UTF-8 with BOM)."""
    recall = _exportable(session, org, recall_id)
    content = export.to_csv(export.export_rows(session, recall.id))
    return attachment(content, "text/csv; charset=utf-8", f"{recall.number}.csv")


@router.get("/recalls/{recall_id}/export.xlsx", responses=error_responses(errors.RoleRequired, errors.NotFound))
def export_xlsx(recall_id: RowId, org: CurrentOrg, session: SessionDep) -> Response:
    """The same rows as a sortable, filterable spreadsheet."""
    recall = _exportable(session, org, recall_id)
    content = export.to_xlsx(export.export_rows(session, recall.id), title=recall.number)
    return attachment(content, XLSX, f"{recall.number}.xlsx")


@router.get("/recalls/{recall_id}/export.epcis.json", responses=error_responses(errors.RoleRequired, errors.NotFound))
def export_epcis(recall_id: RowId, org: CurrentOrg, session: SessionDep) -> Response:
    """Every event of the recalled batches as an EPCIS 2.0 JSON-LD document."""
    recall = _exportable(session, org, recall_id)
    return JSONResponse(
        export.epcis_export(session, recall.id),
        media_type="application/ld+json",
        headers={"Content-Disposition": f'attachment; filename="{recall.number}.epcis.json"'},
    )


@router.put("/orgs/me/webhook", response_model=WebhookOut, responses=error_responses(errors.InvalidInput))
def set_webhook(body: WebhookSet, org: CurrentOrg, session: SessionDep, state: StateDep) -> WebhookOut:
    """Set, rotate or remove the caller's webhook. Each call makes a new secret, shown only in this answer
    (which is why this write takes no Idempotency-Key: a replay would have to store the secret)."""
    url = str(body.url) if body.url is not None else None
    vault, policy = KeyVault(state.settings.secret_key), AddressPolicy.from_settings(state.settings)
    secret = notify.set_webhook(session, vault, org, url, policy=policy)
    return WebhookOut(url=url, secret=secret)


def _once(
    session: Session, org: Organisation, key: str, payload: Any, write: Callable[[], tuple[int, dict[str, Any]]]
) -> JSONResponse:
    status, answer = run_once(session, org, key, payload, write)
    return JSONResponse(answer, status_code=status)


def _exportable(session: Session, org: Organisation, recall_id: int) -> Recall:
    # The exports name every holder of the goods: for the authorities, not for the holders themselves.
    require_role(org, Role.REGULATOR)
    return service.get_recall(session, org, recall_id)
