"""The importer's pages: find and open batches, register a new one with its flow's form.

Routes stay thin, as the JSON API's do: they read the form, call the same services (``search_batches``,
``batch_view``, ``register`` under the form's one-time key) and render. A refusal rolls the unit of work back
before the page answers, so a refused form writes nothing.
"""

from __future__ import annotations

import math
import uuid
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ledger import errors
from ledger.identifiers import DigitalLink
from ledger.models import Category, Organisation, Product, Role
from ledger.registry import REQUIRED_BY_CATEGORY
from trace_api.batches import forms, service
from trace_api.web.auth import PageOrg
from trace_api.web.deps import SessionDep, StateDep, require_role
from trace_api.web.errors import status_of
from trace_api.web.forms import check_signed, submit_once
from trace_api.web.queries import code_runs, get_visible_batch, item_codes, products_of
from trace_api.web.render import Pages

router = APIRouter(include_in_schema=False)
PAGES: Final = Pages(Path(__file__).parent)

PAGE_SIZE: Final = 50
MAX_SEARCH: Final = 100
CODES_SHOWN: Final = 50


@router.get("/app/batches", response_class=HTMLResponse)
def batch_list(
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    q: Annotated[str, Query(max_length=MAX_SEARCH)] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    """Every batch the organisation may see, a page at a time, newest first; ``q`` narrows by lot, GTIN or name."""
    text = q.strip()
    rows, total = service.search_batches(session, org, text, offset=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    batches = [service.batch_view(session, b, state.settings.public_url, for_org_id=org.id) for b in rows]
    context = {
        "batches": batches,
        "q": text,
        "page": page,
        "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "total": total,
        "first": (page - 1) * PAGE_SIZE + 1,
        "last": (page - 1) * PAGE_SIZE + len(rows),
    }
    return PAGES.app_page(request, state, org, "batches.html", context)


def _chosen_flow(products: list[Product], category: str | None, gtin: str | None) -> Category:
    """The flow the form shows: the one asked for, else the chosen product's, else the newest product's."""
    asked = forms.flow(category)
    if asked is not None:
        return asked
    chosen = next((p for p in products if p.gtin == gtin), None) or max(products, key=lambda p: p.id, default=None)
    return chosen.category if chosen is not None else Category.COLD_CHAIN


def _form_context(session: Session, org: Organisation, values: dict[str, str], category: str | None) -> dict[str, Any]:
    products = products_of(session, org)
    chosen = _chosen_flow(products, category, values.get("gtin"))
    return {
        "flows": list(Category),
        "flow": chosen,
        "products": [p for p in products if p.category is chosen],
        "values": values,
        "fields": forms.FLOW_FIELDS[chosen],
        "required": REQUIRED_BY_CATEGORY[chosen],
        "date_fields": forms.DATE_FIELDS,
        "choices": forms.CHOICES,
        # A fresh key per opened form: a double-submit or a retry after a dropped connection replays the first
        # answer instead of registering twice (the JSON API's Idempotency-Key, carried by the form).
        "form_key": uuid.uuid4().hex,
        "message": None,
    }


@router.get("/app/batches/new", response_class=HTMLResponse)
def new_batch_form(
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    category: str | None = None,
    gtin: Annotated[str, Query(max_length=14)] = "",
) -> HTMLResponse:
    """The registration form of one flow (cold chain, farm produce, vaccine): only that flow's boxes."""
    values = forms.BatchForm(gtin=gtin).values()
    context = _form_context(session, org, values, category)
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
        context = _form_context(session, org, form.values(), form.category)
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
        "runs": code_runs(session, batch.id),
        "can_issue": batch.registrant_org_id == org.id,
        "issue_key": uuid.uuid4().hex,
        "documents": service.documents_of(session, batch),
        "consumer_path": DigitalLink(gtin=view.gtin, lot=view.lot).path,
    }
    return PAGES.app_page(request, state, org, "batch.html", context)
