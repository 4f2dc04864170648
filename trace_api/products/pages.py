"""The importer's product pages: the products it registered, and a form to register one (a GTIN assigned under
the network's GS1 prefix when the clerk has none), through the same call as ``POST /api/v1/products``."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ledger import errors
from ledger.models import Category, Organisation, Product, Role
from ledger.registry import create_product
from trace_api.products import forms
from trace_api.products.service import batch_counts
from trace_api.state import AppState
from trace_api.web.auth import PageOrg
from trace_api.web.deps import SessionDep, StateDep, require_role
from trace_api.web.errors import status_of
from trace_api.web.forms import check_signed, submit_once
from trace_api.web.queries import products_of
from trace_api.web.render import Pages

router = APIRouter(include_in_schema=False)
PAGES: Final = Pages(Path(__file__).parent)


def _context(session: Session, state: AppState, org: Organisation, values: dict[str, str]) -> dict[str, Any]:
    products = products_of(session, org)
    return {
        "products": products,
        "batch_counts": batch_counts(session, [p.id for p in products]),
        "categories": list(Category),
        "values": values,
        "prefix": state.settings.gs1_company_prefix,
        "form_key": uuid.uuid4().hex,
        "message": None,
        "created": None,
    }


@router.get("/app/products", response_class=HTMLResponse)
def product_list(
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    created: Annotated[str, Query(max_length=14)] = "",
) -> HTMLResponse:
    context = _context(session, state, org, forms.ProductForm().values())
    context["created"] = created or None
    return PAGES.app_page(request, state, org, "products.html", context)


@router.post("/app/products", response_class=HTMLResponse)
def register_product(
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    form: Annotated[forms.ProductForm, Form()],
) -> Response:
    """``POST /api/v1/products`` as a form does it: the same checks, written once per opened form."""
    t = PAGES.words(request)
    try:
        check_signed(request, state, form, t)
        body = forms.to_product_create(form, t)
        require_role(org, Role.PRODUCER)
        prefix = state.settings.gs1_company_prefix

        def write() -> int:
            return create_product(session, org, company_prefix=prefix, **body.model_dump()).id

        product_id = submit_once(session, org, form, body.model_dump(mode="json"), write)
    except errors.LotlineError as refused:
        session.rollback()
        context = _context(session, state, org, form.values())
        context["message"] = forms.explain_refusal(refused, t)
        return PAGES.app_page(request, state, org, "products.html", context, status_code=status_of(refused))
    product = session.get(Product, product_id)
    assert product is not None
    return RedirectResponse(f"/app/products?created={product.gtin}#product-{product.gtin}", status_code=303)
