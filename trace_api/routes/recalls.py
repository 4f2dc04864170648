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
from ledger.models import ChainJob, Organisation, Recall, Role
from recall import export, notify, repository, service
from trace_api.deps import CurrentOrg, SessionDep, StateDep, require_role
from trace_api.errors import error_responses
from trace_api.idempotency import IdempotencyKey, run_once
from trace_api.schemas.recalls import (
    Acknowledgement,
    BatchOut,
    CandidateConfirm,
    CandidateOut,
    ChainState,
    DeliveryOut,
    HolderOut,
    Progress,
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
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
        return 201, _summary(session, recall).model_dump(mode="json")

    return _once(session, org, idempotency_key, body.model_dump(mode="json"), write)


@router.get("/recalls", response_model=list[RecallOut], responses=error_responses())
def list_recalls(
    org: CurrentOrg,
    session: SessionDep,
    limit: int = Query(default=50, ge=1, le=500),
    offset: int = Query(default=0, ge=0, le=10**9),
) -> list[RecallOut]:
    """Newest first: every recall for a regulator; for others, the recalls that concern them."""
    return [_summary(session, r) for r in repository.visible_recalls(session, org, limit=limit, offset=offset)]


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
        return 201, _summary(session, recall).model_dump(mode="json")

    return _once(session, org, idempotency_key, {"hold_id": hold_id, **body.model_dump(mode="json")}, write)


@router.get("/recalls/{recall_id}", response_model=RecallDetailOut, responses=error_responses(errors.NotFound))
def get_recall(recall_id: RowId, org: CurrentOrg, session: SessionDep) -> RecallDetailOut:
    """The recall with its holders' progress and the webhook deliveries."""
    return _detail(session, org, service.get_recall(session, org, recall_id))


@router.post("/recalls/{recall_id}/approve", response_model=RecallOut, responses=STATE_ERRORS)
def approve(
    recall_id: RowId, org: CurrentOrg, session: SessionDep, state: StateDep, idempotency_key: IdempotencyKey
) -> Any:
    """A regulator opens a recall a producer requested."""

    def write() -> tuple[int, dict[str, Any]]:
        recall = service.approve(session, org, recall_id, public_url=state.settings.public_url)
        return 200, _summary(session, recall).model_dump(mode="json")

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
        return 200, _detail(session, org, recall).model_dump(mode="json")

    return _once(session, org, idempotency_key, {"recall": recall_id, **body.model_dump(mode="json")}, write)


@router.post("/recalls/{recall_id}/close", response_model=RecallOut, responses=STATE_ERRORS)
def close(
    recall_id: RowId, body: RecallClose, org: CurrentOrg, session: SessionDep, idempotency_key: IdempotencyKey
) -> Any:
    """A regulator closes a recall (or turns down a requested one) with a reason; closing twice is refused."""

    def write() -> tuple[int, dict[str, Any]]:
        recall = service.close(session, org, recall_id, body.reason)
        return 200, _summary(session, recall).model_dump(mode="json")

    return _once(session, org, idempotency_key, {"close": recall_id, **body.model_dump(mode="json")}, write)


@router.get("/recalls/{recall_id}/export.csv", responses=error_responses(errors.RoleRequired, errors.NotFound))
def export_csv(recall_id: RowId, org: CurrentOrg, session: SessionDep) -> Response:
    """The critical tracking events with FSMA 204 key data elements, one row each (UTF-8 with BOM)."""
    recall = _exportable(session, org, recall_id)
    content = export.to_csv(export.export_rows(session, recall.id))
    return _download(content, "text/csv; charset=utf-8", f"{recall.number}.csv")


@router.get("/recalls/{recall_id}/export.xlsx", responses=error_responses(errors.RoleRequired, errors.NotFound))
def export_xlsx(recall_id: RowId, org: CurrentOrg, session: SessionDep) -> Response:
    """The same rows as a sortable, filterable spreadsheet."""
    recall = _exportable(session, org, recall_id)
    content = export.to_xlsx(export.export_rows(session, recall.id), title=recall.number)
    return _download(content, XLSX, f"{recall.number}.xlsx")


@router.get("/recalls/{recall_id}/export.epcis.json", responses=error_responses(errors.RoleRequired, errors.NotFound))
def export_epcis(recall_id: RowId, org: CurrentOrg, session: SessionDep) -> Response:
    """Every event of the recalled batches as an EPCIS 2.0 JSON-LD document."""
    recall = _exportable(session, org, recall_id)
    return JSONResponse(
        export.epcis_export(session, recall.id),
        media_type="application/ld+json",
        headers={"Content-Disposition": f'attachment; filename="{recall.number}.epcis.json"'},
    )


@router.put("/orgs/me/webhook", response_model=WebhookOut, responses=error_responses())
def set_webhook(body: WebhookSet, org: CurrentOrg, session: SessionDep, state: StateDep) -> WebhookOut:
    """Set, rotate or remove the caller's webhook. Each call makes a new secret, shown only in this answer
    (which is why this write takes no Idempotency-Key: a replay would have to store the secret)."""
    url = str(body.url) if body.url is not None else None
    secret = notify.set_webhook(session, KeyVault(state.settings.secret_key), org, url)
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


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def _summary(session: Session, recall: Recall) -> RecallOut:
    session.flush()
    names = repository.batch_names(session, repository.target_batch_ids(session, recall.id))
    holders = repository.holders_of(session, recall.id)
    detail = repository.detail_of(session, recall.id)
    jobs = {
        job.id: job
        for job in (session.get(ChainJob, i) for i in (detail.open_job_id, detail.close_job_id) if i is not None)
        if job is not None
    }
    open_job, close_job = jobs.get(detail.open_job_id or 0), jobs.get(detail.close_job_id or 0)
    return RecallOut(
        id=recall.id,
        number=recall.number,
        recall_class=recall.recall_class,
        reason=recall.reason,
        status=recall.status.value,
        requested_by_org_id=recall.requested_by_org_id,
        opened_by_org_id=recall.opened_by_org_id,
        opened_at=recall.opened_at,
        closed_at=recall.closed_at,
        close_reason=recall.close_reason,
        batches=[BatchOut(batch_id=n.batch_id, gtin=n.gtin, lot=n.lot, product=n.product) for n in names.values()],
        codes_recalled=len(repository.target_code_ids(session, recall.id)),
        progress=Progress(
            holders=len(holders),
            acknowledged=sum(1 for h in holders if h.acknowledged_at is not None),
            settled=sum(1 for h in holders if h.settled),
            units_at_open=sum(h.quantity_at_open for h in holders),
            quarantined=sum(h.quarantined for h in holders),
            returned=sum(h.returned for h in holders),
            destroyed=sum(h.destroyed for h in holders),
        ),
        chain=ChainState(
            chain_recall_id=detail.chain_recall_id,
            open_job=open_job.status.value if open_job else None,
            open_tx_hash=open_job.tx_hash if open_job else None,
            close_job=close_job.status.value if close_job else None,
            close_tx_hash=close_job.tx_hash if close_job else None,
        ),
    )


def _detail(session: Session, org: Organisation, recall: Recall) -> RecallDetailOut:
    everyone = org.has_role(Role.REGULATOR)
    holders = repository.holders_of(session, recall.id, org_id=None if everyone else org.id)
    deliveries = repository.deliveries_of(session, recall.id, org_id=None if everyone else org.id)
    names = repository.batch_names(session, {h.batch_id for h in holders})
    org_names = {h.org_id: session.get(Organisation, h.org_id) for h in holders}
    return RecallDetailOut(
        **_summary(session, recall).model_dump(),
        holders=[
            HolderOut(
                org_id=h.org_id,
                org_name=o.name if (o := org_names[h.org_id]) else "",
                gtin=names[h.batch_id].gtin,
                lot=names[h.batch_id].lot,
                quantity_at_open=h.quantity_at_open,
                consumed_at_open=h.consumed_at_open,
                quarantined=h.quarantined,
                returned=h.returned,
                destroyed=h.destroyed,
                accounted=h.accounted,
                acknowledged_at=h.acknowledged_at,
                settled=h.settled,
            )
            for h in holders
        ],
        deliveries=[
            DeliveryOut(
                delivery_id=d.delivery_id,
                org_id=d.org_id,
                event_type=d.event_type,
                status=d.status.value,
                attempts=d.attempts,
                url=d.url,
                last_status_code=d.last_status_code,
                last_error=d.last_error,
                next_attempt_at=d.next_attempt_at,
                delivered_at=d.delivered_at,
            )
            for d in deliveries
        ],
    )
