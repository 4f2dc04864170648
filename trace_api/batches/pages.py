"""The importer's pages: list and open batches, register a new one with a form.

Routes stay thin, as the JSON API's do: they read the form, call the same services (``newest_batches``,
``batch_view``, ``register`` under the form's one-time key) and render. A refusal rolls the unit of work back
before the page answers, so a refused form writes nothing.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ledger import errors
from ledger.identifiers import DigitalLink
from ledger.models import Organisation, Role
from trace_api.batches import forms, service
from trace_api.web.auth import PageOrg
from trace_api.web.deps import SessionDep, StateDep, require_role
from trace_api.web.errors import status_of
from trace_api.web.forms import check_signed, submit_once
from trace_api.web.queries import get_visible_batch, item_codes
from trace_api.web.render import Pages

router = APIRouter(include_in_schema=False)
PAGES: Final = Pages(Path(__file__).parent)

LIST_LIMIT: Final = 200
CODES_SHOWN: Final = 50


@router.get("/app/batches", response_class=HTMLResponse)
def batch_list(request: Request, org: PageOrg, session: SessionDep, state: StateDep) -> HTMLResponse:
    rows = service.newest_batches(session, org, limit=LIST_LIMIT)
    batches = [service.batch_view(session, b, state.settings.public_url, for_org_id=org.id) for b in rows]
    return PAGES.app_page(request, state, org, "batches.html", {"batches": batches})


def _form_context(session: Session, org: Organisation, values: dict[str, str]) -> dict[str, Any]:
    return {
        "products": service.products_of(session, org),
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
def new_batch_form(request: Request, org: PageOrg, session: SessionDep, state: StateDep) -> HTMLResponse:
    context = _form_context(session, org, forms.BatchForm().values())
    return PAGES.app_page(request, state, org, "batch_form.html", context)


@router.post("/app/batches", response_class=HTMLResponse)
def register(
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    form: Annotated[forms.BatchForm, Form()],
) -> Response:
    """``POST /api/v1/batches`` as a form does it: the same checks, the same one-time write."""
    t = PAGES.words(request)
    try:
        check_signed(request, state, form, t)
        body = forms.to_batch_create(form, t)
        require_role(org, Role.PRODUCER)
        payload = body.model_dump(mode="json")
        batch_id = submit_once(
            session, org, form, payload, lambda: service.register(session, state.signer, org, body).id
        )
    except errors.LotlineError as refused:
        session.rollback()
        context = _form_context(session, org, form.values())
        context["message"] = forms.explain_refusal(refused, t)
        return PAGES.app_page(request, state, org, "batch_form.html", context, status_code=status_of(refused))
    return RedirectResponse(f"/app/batches/{batch_id}", status_code=303)


@router.get("/app/batches/{batch_id}", response_class=HTMLResponse)
def batch_detail(batch_id: int, request: Request, org: PageOrg, session: SessionDep, state: StateDep) -> HTMLResponse:
    try:
        batch = get_visible_batch(session, org, batch_id)
    except errors.UnknownBatch:
        return PAGES.not_found(request, "not_found.batch")
    view = service.batch_view(session, batch, state.settings.public_url, for_org_id=org.id)
    context = {
        "batch": view,
        "issued": service.count_item_codes(session, batch),
        "codes": item_codes(session, batch.id, limit=CODES_SHOWN),
        "codes_shown": CODES_SHOWN,
        "documents": service.documents_of(session, batch),
        "consumer_path": DigitalLink(gtin=view.gtin, lot=view.lot).path,
    }
    return PAGES.app_page(request, state, org, "batch.html", context)
