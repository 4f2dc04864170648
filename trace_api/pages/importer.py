"""The importer's pages: sign in with a token, list and open batches, register a new one.

Routes stay thin, as the JSON API's do: they read the form, call the same services (``visible_batches``,
``batch_view``, ``register_batch`` under ``run_once``) and render. A refusal rolls the unit of work back before
the page answers, so a refused form writes nothing.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import errors
from ledger.identifiers import DigitalLink
from ledger.models import Batch, Code, CodeKind, Document, Organisation, Product, Role
from ledger.registry import BatchAttributes, authenticate, register_batch
from trace_api.batches import batch_view, get_visible_batch, visible_batches
from trace_api.deps import AppState, SessionDep, StateDep, require_role
from trace_api.errors import status_of
from trace_api.idempotency import run_once
from trace_api.pages import auth, forms
from trace_api.pages.consumer import not_found_page
from trace_api.pages.render import app_page, render, words_for
from trace_api.schemas.goods import BatchCreate

router = APIRouter(include_in_schema=False)

LIST_LIMIT: Final = 200
CODES_SHOWN: Final = 50


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next_path: Annotated[str, Query(alias="next")] = auth.HOME_PATH) -> HTMLResponse:
    return render(request, "login.html", {"next": auth.safe_next(next_path), "refused": False})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = auth.HOME_PATH,
) -> Response:
    try:
        org = authenticate(session, token.strip())
    except errors.NotAuthenticated:
        return render(request, "login.html", {"next": auth.safe_next(next_path), "refused": True}, status_code=401)
    destination = auth.safe_next(next_path)
    if destination == auth.HOME_PATH and org.has_role(Role.REGULATOR):
        destination = auth.REGULATOR_HOME  # a regulator registers no batches: its work starts at the recalls
    response = RedirectResponse(destination, status_code=303)
    auth.start_session(request, response, token.strip())
    return response


@router.api_route("/logout", methods=["GET", "POST"])
def logout() -> Response:
    # Signing out needs no CSRF token: the worst a forged request can do is sign someone out.
    response = RedirectResponse(auth.LOGIN_PATH, status_code=303)
    auth.end_session(response)
    return response


def _page(request: Request, state: AppState, org: Organisation, template: str, context: dict[str, Any]) -> HTMLResponse:
    status_code = context.pop("status_code", 200)
    return app_page(request, state, org, template, context, status_code=status_code)


@router.get("/app/batches", response_class=HTMLResponse)
def batch_list(request: Request, org: auth.PageOrg, session: SessionDep, state: StateDep) -> HTMLResponse:
    rows = session.scalars(select(Batch).where(visible_batches(org)).order_by(Batch.id.desc()).limit(LIST_LIMIT))
    batches = [batch_view(session, b, state.settings.public_url, for_org_id=org.id) for b in rows]
    return _page(request, state, org, "batches.html", {"batches": batches})


def _form_context(session: Session, org: Organisation, values: dict[str, str]) -> dict[str, Any]:
    products = session.scalars(select(Product).where(Product.owner_org_id == org.id).order_by(Product.name)).all()
    return {
        "products": products,
        "values": values,
        "fields": forms.FORM_FIELDS,
        "date_fields": forms.DATE_FIELDS,
        "choices": forms.CHOICES,
        # A fresh key per opened form: a double-submit or a retry after a dropped connection replays the first
        # answer instead of registering twice (the JSON API's Idempotency-Key, carried by the form).
        "form_key": uuid.uuid4().hex,
        "message": None,
    }


@router.get("/app/batches/new", response_class=HTMLResponse)
def new_batch_form(request: Request, org: auth.PageOrg, session: SessionDep, state: StateDep) -> HTMLResponse:
    return _page(request, state, org, "batch_form.html", _form_context(session, org, forms.BatchForm().values()))


@router.post("/app/batches", response_class=HTMLResponse)
def register(
    request: Request,
    org: auth.PageOrg,
    session: SessionDep,
    state: StateDep,
    form: Annotated[forms.BatchForm, Form()],
) -> Response:
    t = words_for(request)
    try:
        if not auth.csrf_ok(request, state, form.csrf) or not forms.FORM_KEY.match(form.form_key):
            raise forms.FormRefused(t("csrf.refused"), status_code=403)
        body = forms.to_batch_create(form, t)
        batch_id = _register(session, state, org, body, form.form_key)
    except (forms.FormRefused, errors.LotlineError) as refused:
        session.rollback()
        if isinstance(refused, errors.LotlineError):
            message, status_code = forms.explain_refusal(refused, t), status_of(refused)
        else:
            message, status_code = refused.message, refused.status_code
        context = _form_context(session, org, form.values())
        context.update(message=message, status_code=status_code)
        return _page(request, state, org, "batch_form.html", context)
    return RedirectResponse(f"/app/batches/{batch_id}", status_code=303)


def _register(session: Session, state: AppState, org: Organisation, body: BatchCreate, form_key: str) -> int:
    """``POST /api/v1/batches`` as a form does it: the same checks, the same idempotency, the same write."""
    require_role(org, Role.PRODUCER)

    def write() -> tuple[int, dict[str, Any]]:
        attrs = BatchAttributes(**body.model_dump(exclude={"gtin", "lot", "quantity", "location_id"}))
        batch = register_batch(
            session, state.signer, org, gtin=body.gtin, lot=body.lot, quantity=body.quantity, attrs=attrs
        )
        return 201, {"id": batch.id}

    _status, payload = run_once(session, org, f"page-{form_key}", body.model_dump(mode="json"), write)
    return int(payload["id"])


@router.get("/app/batches/{batch_id}", response_class=HTMLResponse)
def batch_detail(
    batch_id: int, request: Request, org: auth.PageOrg, session: SessionDep, state: StateDep
) -> HTMLResponse:
    try:
        batch = get_visible_batch(session, org, batch_id)
    except errors.UnknownBatch:
        return not_found_page(request, "not_found.batch")
    view = batch_view(session, batch, state.settings.public_url, for_org_id=org.id)
    item_codes = select(Code).where(Code.batch_id == batch.id, Code.kind == CodeKind.ITEM)
    issued = session.scalar(select(func.count()).select_from(item_codes.subquery())) or 0
    codes = session.scalars(item_codes.order_by(Code.id).limit(CODES_SHOWN)).all()
    documents = session.scalars(select(Document).where(Document.batch_id == batch.id).order_by(Document.id)).all()
    context = {
        "batch": view,
        "issued": issued,
        "codes": codes,
        "codes_shown": CODES_SHOWN,
        "documents": documents,
        "consumer_path": DigitalLink(gtin=view.gtin, lot=view.lot).path,
    }
    return _page(request, state, org, "batch.html", context)
