"""The cold-chain pages: excursions listed (a regulator filters them by standing, region, product and holder;
a holder or maker sees its own), and one excursion with what may be done to it: the holder acknowledges or
destroys, a regulator or the goods' registrant releases with a reason and evidence, a regulator makes it a recall
candidate.

As the recall pages do, a form's write runs once per form key, a refusal rolls the unit of work back, and the page
says why in its language.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Final

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ledger import errors
from ledger.coldchain import excursions, queries
from ledger.models import Excursion, ExcursionStatus, Organisation, Role
from trace_api.coldchain import service
from trace_api.state import AppState
from trace_api.web.auth import PageOrg
from trace_api.web.deps import SessionDep, StateDep
from trace_api.web.errors import status_of
from trace_api.web.forms import SignedForm, check_signed, explain, submit_once
from trace_api.web.render import Pages
from trace_api.web.schemas import RowId

router = APIRouter(include_in_schema=False)
PAGES: Final = Pages(Path(__file__).parent)
LIST_LIMIT: Final = 200


class ReasonForm(SignedForm):
    reason: str = ""


@router.get("/app/excursions", response_class=HTMLResponse)
def excursion_list(
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    status: Annotated[str, Query(max_length=10)] = "open",
    region: Annotated[str, Query(max_length=6)] = "",
    gtin: Annotated[str, Query(max_length=14)] = "",
    holder: Annotated[str, Query(max_length=18)] = "",
) -> HTMLResponse:
    filters = {"status": status, "region": region.strip(), "gtin": gtin.strip(), "holder": holder.strip()}
    message, code, rows = None, 200, []
    try:
        where = queries.ExcursionFilter(
            queries.Standing(status) if status in ("open", "resolved") else None,
            filters["region"] if filters["region"].isdigit() else None,
            filters["gtin"] or None,
            service.holder_id(session, filters["holder"] or None),
        )
        rows = queries.list_excursions(session, org, where, limit=LIST_LIMIT, offset=0)
    except errors.LotlineError as refused:
        message, code = explain(refused, PAGES.words(request)), status_of(refused)
    context = {"excursions": service.excursion_views(session, rows), "filters": filters, "message": message}
    return PAGES.app_page(request, state, org, "excursions.html", context, status_code=code)


@router.get("/app/excursions/{excursion_id}", response_class=HTMLResponse)
def excursion_page(
    excursion_id: RowId, request: Request, org: PageOrg, session: SessionDep, state: StateDep
) -> HTMLResponse:
    try:
        excursion = excursions.visible_excursion(session, org, excursion_id)
    except errors.NotFound:
        return PAGES.not_found(request, "not_found.excursion")
    return _detail_page(request, session, state, org, excursion)


def _detail_page(
    request: Request, session: Session, state: AppState, org: Organisation, excursion: Excursion, *,
    message: str | None = None, status: int = 200,
) -> HTMLResponse:  # fmt: skip
    [view] = service.excursion_views(session, [excursion])
    open_ = excursion.status is ExcursionStatus.OPEN
    holder = excursion.holder_org_id == org.id
    regulator = org.has_role(Role.REGULATOR)
    context = {
        "excursion": view,
        "can_acknowledge": open_ and holder and excursion.acknowledged_at is None,
        "can_destroy": open_ and holder,
        "can_release": open_ and excursions.may_release(session, org, excursion),
        "can_candidate": open_ and regulator and excursion.candidate_at is None,
        "keys": {name: uuid.uuid4().hex for name in ("acknowledge", "destroy", "release", "candidate")},
        "message": message,
    }
    return PAGES.app_page(request, state, org, "excursion.html", context, status_code=status)


@router.post("/app/excursions/{excursion_id}/acknowledge", response_class=HTMLResponse)
def acknowledge(
    excursion_id: RowId,
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    form: Annotated[SignedForm, Form()],
) -> Response:
    act = lambda e: excursions.acknowledge(session, org, e)  # noqa: E731
    return _action(request, session, state, org, excursion_id, form, act)


@router.post("/app/excursions/{excursion_id}/destroy", response_class=HTMLResponse)
def destroy(
    excursion_id: RowId,
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    form: Annotated[ReasonForm, Form()],
) -> Response:
    act = lambda e: excursions.destroy(session, state.signer, org, e, reason=form.reason)  # noqa: E731
    return _action(request, session, state, org, excursion_id, form, act)


@router.post("/app/excursions/{excursion_id}/release", response_class=HTMLResponse)
def release(
    excursion_id: RowId,
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    form: Annotated[ReasonForm, Form()],
    evidence: Annotated[UploadFile | None, File()] = None,
) -> Response:
    limit = state.settings.max_upload_bytes
    content = evidence.file.read(limit + 1) if evidence is not None else b""

    def act(excursion: Excursion) -> None:
        service.release(
            session,
            state.signer,
            org,
            excursion,
            reason=form.reason,
            filename=(evidence.filename if evidence else None) or "evidence",
            content_type=(evidence.content_type if evidence else None) or "application/octet-stream",
            content=content,
            max_bytes=limit,
        )

    return _action(request, session, state, org, excursion_id, form, act, evidence=len(content))


@router.post("/app/excursions/{excursion_id}/candidate", response_class=HTMLResponse)
def make_candidate(
    excursion_id: RowId,
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    form: Annotated[SignedForm, Form()],
) -> Response:
    act = lambda e: excursions.make_candidate(session, org, e)  # noqa: E731
    return _action(request, session, state, org, excursion_id, form, act)


def _action(
    request: Request, session: Session, state: AppState, org: Organisation, excursion_id: int, form: SignedForm,
    act: Callable[[Excursion], None], **extra: int,
) -> Response:  # fmt: skip
    """One form's write, once per form key: back to the excursion when done, or the page with the refusal."""
    t = PAGES.words(request)

    def write() -> int:
        excursion = excursions.visible_excursion(session, org, excursion_id)
        act(excursion)
        return excursion.id

    try:
        check_signed(request, state, form, t)
        payload = {"excursion": excursion_id, "form": request.url.path, **form.model_dump(exclude={"csrf", "form_key"})}
        submit_once(session, org, form, {**payload, **extra}, write)
    except errors.LotlineError as refused:
        session.rollback()
        try:
            excursion = excursions.visible_excursion(session, org, excursion_id)
        except errors.NotFound:
            return PAGES.not_found(request, "not_found.excursion")
        message, status = explain(refused, t), status_of(refused)
        return _detail_page(request, session, state, org, excursion, message=message, status=status)
    return RedirectResponse(f"/app/excursions/{excursion_id}", status_code=303)
