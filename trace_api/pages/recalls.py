"""The recall pages: the list with failed inspections to confirm in one click, opening (or, for a producer,
requesting) a recall, and one recall with its holder graph, progress, webhook deliveries and the regulator's and
holders' actions.

Routes stay thin, as the importer's: they read the form, call the recall services (``recall.service``) under
``run_once`` with the form's key, and render. A refusal rolls the unit of work back before the page answers, so
a refused form writes nothing, and the page says why in its language.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import errors
from ledger.models import Organisation, Recall, RecallStatus, Role
from recall import export, repository, service
from recall.walk import forward
from trace_api.deps import AppState, SessionDep, StateDep, require_role
from trace_api.errors import status_of
from trace_api.idempotency import run_once
from trace_api.pages import auth
from trace_api.pages import recall_forms as forms
from trace_api.pages.consumer import not_found_page
from trace_api.pages.holder_graph import holder_graph
from trace_api.pages.render import app_page, words_for
from trace_api.recall_views import XLSX, attachment, recall_detail, recall_summary
from trace_api.schemas.recalls import HolderOut

router = APIRouter(include_in_schema=False)

LIST_LIMIT: Final = 100
HOLDERS_SHOWN: Final = 300
DELIVERIES_SHOWN: Final = 100
STANDING_ORDER: Final = {"pending": 0, "acknowledged": 1, "settled": 2}
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]


@router.get("/app/recalls", response_class=HTMLResponse)
def recall_list(request: Request, org: auth.PageOrg, session: SessionDep, state: StateDep) -> HTMLResponse:
    return _list_page(request, session, state, org)


def _list_page(
    request: Request,
    session: Session,
    state: AppState,
    org: Organisation,
    *,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    recalls = [recall_summary(session, r) for r in repository.visible_recalls(session, org, limit=LIST_LIMIT, offset=0)]
    candidates = repository.inspection_candidates(session) if org.has_role(Role.REGULATOR) else []
    context = {
        "recalls": recalls,
        "candidates": candidates,
        # Each one-click form its own key: a double click confirms once, two candidates confirm two recalls.
        "candidate_keys": {c.hold_id: uuid.uuid4().hex for c in candidates},
        "message": message,
    }
    return app_page(request, state, org, "recalls.html", context, status_code=status)


@router.get("/app/recalls/new", response_class=HTMLResponse)
def new_recall_form(
    request: Request, org: auth.PageOrg, state: StateDep, goods: Annotated[str, Query(max_length=20_000)] = ""
) -> HTMLResponse:
    return _form_page(request, state, org, forms.RecallForm(goods=goods))


def _form_page(
    request: Request, state: AppState, org: Organisation, form: forms.RecallForm, *, message: str | None = None,
    status: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = {"values": form, "form_key": uuid.uuid4().hex, "message": message}
    return app_page(request, state, org, "recall_form.html", context, status_code=status)


@router.post("/app/recalls", response_class=HTMLResponse)
def open_recall(
    request: Request,
    org: auth.PageOrg,
    session: SessionDep,
    state: StateDep,
    form: Annotated[forms.RecallForm, Form()],
) -> Response:
    t = words_for(request)

    def act() -> Recall:
        batches, codes = forms.goods(form.goods, t)
        return service.open_recall(
            session,
            org,
            batches=batches,
            codes=codes,
            recall_class=forms.recall_class(form.recall_class, t),
            reason=forms.reason(form.reason, t),
            public_url=state.settings.public_url,
        )

    outcome = _carry_out(request, session, state, org, form, act)
    if isinstance(outcome, int):
        return RedirectResponse(f"/app/recalls/{outcome}", status_code=303)
    return _form_page(request, state, org, form, message=outcome[0], status=outcome[1])


@router.post("/app/recalls/candidates/{hold_id}/confirm", response_class=HTMLResponse)
def confirm_candidate(
    hold_id: RowId,
    request: Request,
    org: auth.PageOrg,
    session: SessionDep,
    state: StateDep,
    form: Annotated[forms.ConfirmForm, Form()],
) -> Response:
    """One click: the failed inspection's batch is recalled from every holder."""
    t = words_for(request)

    def act() -> Recall:
        level = forms.recall_class(form.recall_class, t)
        return service.confirm_candidate(
            session, org, hold_id, public_url=state.settings.public_url, recall_class=level
        )

    outcome = _carry_out(request, session, state, org, form, act, hold_id=hold_id)
    if isinstance(outcome, int):
        return RedirectResponse(f"/app/recalls/{outcome}", status_code=303)
    return _list_page(request, session, state, org, message=outcome[0], status=outcome[1])


@router.get("/app/recalls/{recall_id}", response_class=HTMLResponse)
def recall_page(
    recall_id: RowId, request: Request, org: auth.PageOrg, session: SessionDep, state: StateDep
) -> HTMLResponse:
    try:
        recall = service.get_recall(session, org, recall_id)
    except errors.NotFound:
        return not_found_page(request, "not_found.recall")
    return _detail_page(request, session, state, org, recall)


def _detail_page(
    request: Request, session: Session, state: AppState, org: Organisation, recall: Recall, *,
    message: str | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    detail = recall_detail(session, org, recall)
    regulator = org.has_role(Role.REGULATOR)
    mine = [h for h in detail.holders if h.org_id == org.id]
    # Those still to act first; a national recall lists the first few hundred here and all of them in the API.
    holders = sorted(detail.holders, key=lambda h: (STANDING_ORDER[_standing([h])], h.org_name, h.lot))
    statuses = Counter(d.status for d in detail.deliveries)
    unsent = [d for d in detail.deliveries if d.status in ("failed", "pending")]
    context = {
        "recall": detail,
        "holders_shown": holders[:HOLDERS_SHOWN],
        "delivery_counts": sorted(statuses.items()),
        "deliveries_shown": unsent[:DELIVERIES_SHOWN],
        "unsent": len(unsent),
        "graph": _graph(session, recall.id, detail.holders) if regulator else None,
        "org_names": _names(session, {d.org_id for d in unsent[:DELIVERIES_SHOWN]}),
        "can_approve": regulator and recall.status is RecallStatus.REQUESTED,
        "can_close": regulator and recall.status is not RecallStatus.CLOSED,
        "acknowledge_rows": mine if recall.status is RecallStatus.OPEN and not regulator else [],
        "form_key": uuid.uuid4().hex,
        "approve_key": uuid.uuid4().hex,
        "message": message,
    }
    return app_page(request, state, org, "recall.html", context, status_code=status)


@router.post("/app/recalls/{recall_id}/approve", response_class=HTMLResponse)
def approve(
    recall_id: RowId,
    request: Request,
    org: auth.PageOrg,
    session: SessionDep,
    state: StateDep,
    form: Annotated[forms.Signed, Form()],
) -> Response:
    def act() -> Recall:
        return service.approve(session, org, recall_id, public_url=state.settings.public_url)

    return _detail_action(request, session, state, org, recall_id, form, act)


@router.post("/app/recalls/{recall_id}/close", response_class=HTMLResponse)
def close(
    recall_id: RowId,
    request: Request,
    org: auth.PageOrg,
    session: SessionDep,
    state: StateDep,
    form: Annotated[forms.CloseForm, Form()],
) -> Response:
    t = words_for(request)
    return _detail_action(
        request,
        session,
        state,
        org,
        recall_id,
        form,
        lambda: service.close(session, org, recall_id, forms.reason(form.reason, t)),
    )


@router.post("/app/recalls/{recall_id}/acknowledgements", response_class=HTMLResponse)
def acknowledge(
    recall_id: RowId,
    request: Request,
    org: auth.PageOrg,
    session: SessionDep,
    state: StateDep,
    form: Annotated[forms.AcknowledgeForm, Form()],
) -> Response:
    t = words_for(request)
    return _detail_action(
        request,
        session,
        state,
        org,
        recall_id,
        form,
        lambda: service.acknowledge(session, org, recall_id, forms.reports(form, t)),
    )


def _detail_action(
    request: Request, session: Session, state: AppState, org: Organisation, recall_id: int, form: forms.Signed,
    act: Callable[[], Recall],
) -> Response:  # fmt: skip
    outcome = _carry_out(request, session, state, org, form, act, recall_id=recall_id)
    if isinstance(outcome, int):
        return RedirectResponse(f"/app/recalls/{recall_id}", status_code=303)
    try:
        recall = service.get_recall(session, org, recall_id)
    except errors.NotFound:
        return not_found_page(request, "not_found.recall")
    return _detail_page(request, session, state, org, recall, message=outcome[0], status=outcome[1])


def _carry_out(
    request: Request,
    session: Session,
    state: AppState,
    org: Organisation,
    form: forms.Signed,
    act: Callable[[], Recall],
    **target: int,
) -> int | tuple[str, int]:
    """Run a form's write once per form key: the recall's id, or the refusal's words and HTTP status."""
    t = words_for(request)
    try:
        if not auth.csrf_ok(request, state, form.csrf) or not forms.FORM_KEY.match(form.form_key):
            raise forms.Refused(t("csrf.refused"), status_code=403)

        def write() -> tuple[int, dict[str, Any]]:
            return 200, {"id": act().id}

        payload = {**target, "form": type(form).__name__, **form.model_dump(exclude={"csrf", "form_key"})}
        _status, answer = run_once(session, org, f"page-{form.form_key}", payload, write)
    except forms.Refused as refused:
        session.rollback()
        return refused.message, refused.status_code
    except errors.LotlineError as refused:
        session.rollback()
        return forms.explain(refused, t), status_of(refused)
    return int(answer["id"])


def _graph(session: Session, recall_id: int, holders: list[HolderOut]) -> Any:
    """The recall's holder graph: the same forward walk that opened it, boxes coloured by progress."""
    targets = repository.targets_of(session, recall_id)
    whole = [batch_id for batch_id, code_id in targets if code_id is None]
    codes = [code_id for _batch_id, code_id in targets if code_id is not None]
    trace = forward(session, batch_ids=whole, code_ids=codes)
    rows: dict[int, list[HolderOut]] = {}
    for holder in holders:
        rows.setdefault(holder.org_id, []).append(holder)
    statuses = {org_id: _standing(mine) for org_id, mine in rows.items()}
    names = _names(session, {h.org_id for h in trace.holders} | {e.to_org_id for e in trace.edges if e.to_org_id})
    return holder_graph(trace, names, statuses, default="passed")


def _standing(rows: list[HolderOut]) -> str:
    if all(r.settled for r in rows):
        return "settled"
    return "acknowledged" if any(r.acknowledged_at is not None for r in rows) else "pending"


def _names(session: Session, org_ids: set[int]) -> dict[int, str]:
    if not org_ids:
        return {}
    rows = session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(sorted(org_ids))))
    return dict(rows.all())


@router.get("/app/recalls/{recall_id}/export.{kind}")
def export_file(
    recall_id: RowId,
    kind: Annotated[str, Path(pattern=r"^(csv|xlsx|epcis\.json)$")],
    org: auth.PageOrg,
    session: SessionDep,
) -> Response:
    """The API's exports (FSMA 204 spreadsheet, EPCIS 2.0 document) for a regulator signed in to the pages."""
    require_role(org, Role.REGULATOR)
    recall = service.get_recall(session, org, recall_id)
    if kind == "epcis.json":
        body = json.dumps(export.epcis_export(session, recall.id), ensure_ascii=False).encode()
        return attachment(body, "application/ld+json", f"{recall.number}.epcis.json")
    rows = export.export_rows(session, recall.id)
    if kind == "csv":
        return attachment(export.to_csv(rows), "text/csv; charset=utf-8", f"{recall.number}.csv")
    return attachment(export.to_xlsx(rows, title=recall.number), XLSX, f"{recall.number}.xlsx")
