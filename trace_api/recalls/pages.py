"""The recall pages: the list with failed inspections to confirm in one click, opening (or, for a producer,
requesting) a recall, and one recall with its holder graph, progress, webhook deliveries and the regulator's and
holders' actions.

Routes stay thin, as the batch pages' do: they read the form, call the recall services (``recall.service``) once
per form key, and render. A refusal rolls the unit of work back before the page answers, so a refused form writes
nothing, and the page says why in its language.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Final

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ledger import errors
from ledger.models import Organisation, Recall, RecallStatus, Role
from recall import repository
from recall import service as recalls
from trace_api.recalls import forms, views
from trace_api.recalls.service import ExportKind, export_file, recall_graph, standing
from trace_api.state import AppState
from trace_api.web.auth import PageOrg
from trace_api.web.deps import SessionDep, StateDep, require_role
from trace_api.web.errors import status_of
from trace_api.web.files import attachment
from trace_api.web.forms import SignedForm, check_signed, explain, submit_once
from trace_api.web.queries import org_names
from trace_api.web.render import Pages
from trace_api.web.schemas import RowId

router = APIRouter(include_in_schema=False)
PAGES: Final = Pages(Path(__file__).parent)

LIST_LIMIT: Final = 100
HOLDERS_SHOWN: Final = 300
DELIVERIES_SHOWN: Final = 100
STANDING_ORDER: Final = {"pending": 0, "acknowledged": 1, "settled": 2}


@router.get("/app/recalls", response_class=HTMLResponse)
def recall_list(request: Request, org: PageOrg, session: SessionDep, state: StateDep) -> HTMLResponse:
    return _list_page(request, session, state, org)


def _list_page(
    request: Request, session: Session, state: AppState, org: Organisation, *, message: str | None = None,
    status: int = 200,
) -> HTMLResponse:  # fmt: skip
    visible = repository.visible_recalls(session, org, limit=LIST_LIMIT, offset=0)
    candidates = views.candidates(session) if org.has_role(Role.REGULATOR) else []
    context = {
        "recalls": [views.recall_summary(session, r) for r in visible],
        "candidates": candidates,
        # Each one-click form its own key: a double click confirms once, two candidates confirm two recalls.
        "candidate_keys": {c.hold_id: uuid.uuid4().hex for c in candidates},
        "message": message,
    }
    return PAGES.app_page(request, state, org, "recalls.html", context, status_code=status)


@router.get("/app/recalls/new", response_class=HTMLResponse)
def new_recall_form(
    request: Request, org: PageOrg, state: StateDep, goods: Annotated[str, Query(max_length=20_000)] = ""
) -> HTMLResponse:
    return _form_page(request, state, org, forms.RecallForm(goods=goods))


def _form_page(
    request: Request, state: AppState, org: Organisation, form: forms.RecallForm, *, message: str | None = None,
    status: int = 200,
) -> HTMLResponse:  # fmt: skip
    context = {"values": form, "form_key": uuid.uuid4().hex, "message": message}
    return PAGES.app_page(request, state, org, "recall_form.html", context, status_code=status)


@router.post("/app/recalls", response_class=HTMLResponse)
def open_recall(
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    form: Annotated[forms.RecallForm, Form()],
) -> Response:
    t = PAGES.words(request)

    def act() -> Recall:
        batches, codes = forms.goods(form.goods, t)
        return recalls.open_recall(
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
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    form: Annotated[forms.ConfirmForm, Form()],
) -> Response:
    """One click: the failed inspection's batch is recalled from every holder."""
    t = PAGES.words(request)

    def act() -> Recall:
        level = forms.recall_class(form.recall_class, t)
        return recalls.confirm_candidate(
            session, org, hold_id, public_url=state.settings.public_url, recall_class=level
        )

    outcome = _carry_out(request, session, state, org, form, act, hold_id=hold_id)
    if isinstance(outcome, int):
        return RedirectResponse(f"/app/recalls/{outcome}", status_code=303)
    return _list_page(request, session, state, org, message=outcome[0], status=outcome[1])


@router.get("/app/recalls/{recall_id}", response_class=HTMLResponse)
def recall_page(recall_id: RowId, request: Request, org: PageOrg, session: SessionDep, state: StateDep) -> HTMLResponse:
    try:
        recall = recalls.get_recall(session, org, recall_id)
    except errors.NotFound:
        return PAGES.not_found(request, "not_found.recall")
    return _detail_page(request, session, state, org, recall)


def _detail_page(
    request: Request, session: Session, state: AppState, org: Organisation, recall: Recall, *,
    message: str | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    detail = views.recall_detail(session, org, recall)
    regulator = org.has_role(Role.REGULATOR)
    mine = [h for h in detail.holders if h.org_id == org.id]
    # Those still to act first; a national recall lists the first few hundred here and all of them in the API.
    holders = sorted(detail.holders, key=lambda h: (STANDING_ORDER[standing([h])], h.org_name, h.lot))
    statuses = Counter(d.status for d in detail.deliveries)
    unsent = [d for d in detail.deliveries if d.status in ("failed", "pending")]
    context = {
        "recall": detail,
        "holders_shown": holders[:HOLDERS_SHOWN],
        "delivery_counts": sorted(statuses.items()),
        "deliveries_shown": unsent[:DELIVERIES_SHOWN],
        "unsent": len(unsent),
        "graph": recall_graph(session, recall.id, detail.holders) if regulator else None,
        "org_names": org_names(session, {d.org_id for d in unsent[:DELIVERIES_SHOWN]}),
        "can_approve": regulator and recall.status is RecallStatus.REQUESTED,
        "can_close": regulator and recall.status is not RecallStatus.CLOSED,
        "acknowledge_rows": mine if recall.status is RecallStatus.OPEN and not regulator else [],
        "form_key": uuid.uuid4().hex,
        "approve_key": uuid.uuid4().hex,
        "message": message,
    }
    return PAGES.app_page(request, state, org, "recall.html", context, status_code=status)


@router.post("/app/recalls/{recall_id}/approve", response_class=HTMLResponse)
def approve(
    recall_id: RowId,
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    form: Annotated[SignedForm, Form()],
) -> Response:
    def act() -> Recall:
        return recalls.approve(session, org, recall_id, public_url=state.settings.public_url)

    return _detail_action(request, session, state, org, recall_id, form, act)


@router.post("/app/recalls/{recall_id}/close", response_class=HTMLResponse)
def close(
    recall_id: RowId,
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    form: Annotated[forms.CloseForm, Form()],
) -> Response:
    t = PAGES.words(request)

    def act() -> Recall:
        return recalls.close(session, org, recall_id, forms.reason(form.reason, t))

    return _detail_action(request, session, state, org, recall_id, form, act)


@router.post("/app/recalls/{recall_id}/acknowledgements", response_class=HTMLResponse)
def acknowledge(
    recall_id: RowId,
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    form: Annotated[forms.AcknowledgeForm, Form()],
) -> Response:
    t = PAGES.words(request)

    def act() -> Recall:
        return recalls.acknowledge(session, org, recall_id, forms.reports(form, t))

    return _detail_action(request, session, state, org, recall_id, form, act)


def _detail_action(
    request: Request, session: Session, state: AppState, org: Organisation, recall_id: int, form: SignedForm,
    act: Callable[[], Recall],
) -> Response:  # fmt: skip
    """An action on one recall's page: back to the page when done, or the page with the refusal."""
    outcome = _carry_out(request, session, state, org, form, act, recall_id=recall_id)
    if isinstance(outcome, int):
        return RedirectResponse(f"/app/recalls/{recall_id}", status_code=303)
    try:
        recall = recalls.get_recall(session, org, recall_id)
    except errors.NotFound:
        return PAGES.not_found(request, "not_found.recall")
    return _detail_page(request, session, state, org, recall, message=outcome[0], status=outcome[1])


def _carry_out(
    request: Request,
    session: Session,
    state: AppState,
    org: Organisation,
    form: SignedForm,
    act: Callable[[], Recall],
    **target: int,
) -> int | tuple[str, int]:
    """Run a form's write once per form key: the recall's id, or the refusal's words and HTTP status."""
    t = PAGES.words(request)
    try:
        check_signed(request, state, form, t)
        payload = {**target, "form": type(form).__name__, **form.model_dump(exclude={"csrf", "form_key"})}
        return submit_once(session, org, form, payload, lambda: act().id)
    except errors.LotlineError as refused:
        session.rollback()
        return explain(refused, t), status_of(refused)


@router.get("/app/recalls/{recall_id}/export.{kind}")
def export(
    recall_id: RowId,
    kind: ExportKind,
    org: PageOrg,
    session: SessionDep,
) -> Response:
    """The API's exports (FSMA 204 spreadsheet, EPCIS 2.0 document) for a regulator signed in to the pages."""
    require_role(org, Role.REGULATOR)
    found = export_file(session, recalls.get_recall(session, org, recall_id), kind)
    return attachment(found.content, found.media_type, found.filename)
