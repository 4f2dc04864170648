"""Recalls over HTTP: open (or request and approve), follow, acknowledge, close, export; and the
sampling-inspection candidates."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from ledger import errors
from ledger.identifiers import parse_code
from ledger.models import Organisation, Recall, Role
from recall import repository
from recall import service as recalls
from trace_api.recalls import views
from trace_api.recalls.schemas import (
    Acknowledgement,
    CandidateConfirm,
    CandidateOut,
    RecallClose,
    RecallCreate,
    RecallDetailOut,
    RecallOut,
)
from trace_api.recalls.service import ExportKind, export_file
from trace_api.web.deps import CurrentOrg, SessionDep, StateDep, require_role
from trace_api.web.errors import error_responses
from trace_api.web.files import attachment
from trace_api.web.idempotency import IdempotencyKey, run_once
from trace_api.web.schemas import RowId

router = APIRouter(prefix="/api/v1", tags=["recalls"])

OPEN_ERRORS = error_responses(
    errors.RoleRequired, errors.UnknownBatch, errors.UnknownCode, errors.InvalidDigitalLink, errors.IdempotencyKeyReused
)
STATE_ERRORS = error_responses(errors.RoleRequired, errors.NotFound, errors.InvalidTransition)
EXPORT_ERRORS = error_responses(errors.RoleRequired, errors.NotFound)


@router.post("/recalls", status_code=201, response_model=RecallOut, responses=OPEN_ERRORS)
def open_recall(
    body: RecallCreate,
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    response: Response,
    idempotency_key: IdempotencyKey,
) -> RecallOut:
    """A regulator opens a recall: from this answer on, the goods cannot be shipped, sold or administered and
    every holder is being notified. A producer's recall of its own batches is ``requested`` until approved."""

    def act() -> Recall:
        return recalls.open_recall(
            session,
            org,
            batches=[recalls.BatchRef(b.gtin, b.lot) for b in body.batches],
            codes=[parse_code(code) for code in body.codes],
            recall_class=body.recall_class,
            reason=body.reason,
            public_url=state.settings.public_url,
        )

    request = body.model_dump(mode="json")
    return _act_once(response, session, org, idempotency_key, request, act, status=201)


@router.get("/recalls", response_model=list[RecallOut], responses=error_responses())
def list_recalls(
    org: CurrentOrg,
    session: SessionDep,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=10**9),
) -> list[RecallOut]:
    """Newest first: every recall for a regulator; for others, the recalls that concern them."""
    visible = repository.visible_recalls(session, org, limit=limit, offset=offset)
    return [views.recall_summary(session, r) for r in visible]


@router.get("/recalls/candidates", response_model=list[CandidateOut], responses=error_responses(errors.RoleRequired))
def candidates(org: CurrentOrg, session: SessionDep) -> list[CandidateOut]:
    """Failed sampling inspections (抽检不合格) not yet turned into a recall (regulators)."""
    require_role(org, Role.REGULATOR)
    return views.candidates(session)


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
    response: Response,
    idempotency_key: IdempotencyKey,
    body: CandidateConfirm | None = None,
) -> RecallOut:
    """One click: the failed inspection's batch is recalled from every holder."""
    confirm = body or CandidateConfirm()

    def act() -> Recall:
        public_url = state.settings.public_url
        return recalls.confirm_candidate(
            session, org, hold_id, public_url=public_url, recall_class=confirm.recall_class, reason=confirm.reason
        )

    request = {"hold_id": hold_id, **confirm.model_dump(mode="json")}
    return _act_once(response, session, org, idempotency_key, request, act, status=201)


@router.get("/recalls/{recall_id}", response_model=RecallDetailOut, responses=error_responses(errors.NotFound))
def get_recall(recall_id: RowId, org: CurrentOrg, session: SessionDep) -> RecallDetailOut:
    """The recall with its holders' progress and the webhook deliveries."""
    return views.recall_detail(session, org, recalls.get_recall(session, org, recall_id))


@router.post("/recalls/{recall_id}/approve", response_model=RecallOut, responses=STATE_ERRORS)
def approve(
    recall_id: RowId,
    org: CurrentOrg,
    session: SessionDep,
    state: StateDep,
    response: Response,
    idempotency_key: IdempotencyKey,
) -> RecallOut:
    """A regulator opens a recall a producer requested."""

    def act() -> Recall:
        return recalls.approve(session, org, recall_id, public_url=state.settings.public_url)

    return _act_once(response, session, org, idempotency_key, {"approve": recall_id}, act)


@router.post(
    "/recalls/{recall_id}/acknowledgements",
    response_model=RecallDetailOut,
    responses=error_responses(errors.NotFound, errors.InvalidTransition, errors.QuantityExceeded),
)
def acknowledge(
    recall_id: RowId,
    body: Acknowledgement,
    org: CurrentOrg,
    session: SessionDep,
    response: Response,
    idempotency_key: IdempotencyKey,
) -> RecallOut:
    """A holder reports, per batch, how many units it has quarantined, returned and destroyed (running totals).
    The recall closes itself when every holder has accounted for every unit it held at opening."""
    reports = [recalls.Report(h.gtin, h.lot, h.quarantined, h.returned, h.destroyed) for h in body.holdings]
    request = {"recall": recall_id, **body.model_dump(mode="json")}
    return _act_once(
        response,
        session,
        org,
        idempotency_key,
        request,
        lambda: recalls.acknowledge(session, org, recall_id, reports),
        detailed=True,
    )


@router.post("/recalls/{recall_id}/close", response_model=RecallOut, responses=STATE_ERRORS)
def close(
    recall_id: RowId,
    body: RecallClose,
    org: CurrentOrg,
    session: SessionDep,
    response: Response,
    idempotency_key: IdempotencyKey,
) -> RecallOut:
    """A regulator closes a recall (or turns down a requested one) with a reason; closing twice is refused."""
    request = {"close": recall_id, **body.model_dump(mode="json")}
    return _act_once(
        response, session, org, idempotency_key, request, lambda: recalls.close(session, org, recall_id, body.reason)
    )


@router.get("/recalls/{recall_id}/export.csv", responses=EXPORT_ERRORS)
def export_csv(recall_id: RowId, org: CurrentOrg, session: SessionDep) -> Response:
    """The critical tracking events with FSMA 204 key data elements, one row each (UTF-8 with BOM)."""
    return _export(session, org, recall_id, "csv")


@router.get("/recalls/{recall_id}/export.xlsx", responses=EXPORT_ERRORS)
def export_xlsx(recall_id: RowId, org: CurrentOrg, session: SessionDep) -> Response:
    """The same rows as a sortable, filterable spreadsheet."""
    return _export(session, org, recall_id, "xlsx")


@router.get("/recalls/{recall_id}/export.epcis.json", responses=EXPORT_ERRORS)
def export_epcis(recall_id: RowId, org: CurrentOrg, session: SessionDep) -> Response:
    """Every event of the recalled batches as an EPCIS 2.0 JSON-LD document."""
    return _export(session, org, recall_id, "epcis.json")


def _act_once(
    response: Response,
    session: Session,
    org: Organisation,
    key: str,
    request: Any,
    act: Callable[[], Recall],
    *,
    status: int = 200,
    detailed: bool = False,
) -> RecallOut:
    """Carry out a recall action once per Idempotency-Key, answering with the recall (and its holders, when
    ``detailed``) as it stands after the action; a retry replays that answer."""
    answer = RecallDetailOut if detailed else RecallOut

    def write() -> tuple[int, RecallOut]:
        recall = act()
        view = views.recall_detail(session, org, recall) if detailed else views.recall_summary(session, recall)
        return status, view

    response.status_code, out = run_once(session, org, key, request, answer, write)
    return out


def _export(session: Session, org: Organisation, recall_id: int, kind: ExportKind) -> Response:
    # The exports name every holder of the goods: for the authorities, not for the holders themselves.
    require_role(org, Role.REGULATOR)
    found = export_file(session, recalls.get_recall(session, org, recall_id), kind)
    return attachment(found.content, found.media_type, found.filename)
