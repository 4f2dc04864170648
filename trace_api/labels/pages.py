"""Labels from the signed-in pages: the same PNG and PDF files as the JSON API, asked for with the page's
session cookie, and a page listing every label sheet of a batch or of one code run.

The JSON API answers only bearer tokens, never the cookie: a cookie-authenticated API would let any site a
clerk visits make requests with it (CSRF). These routes only read, so the SameSite=Lax cookie is enough.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from ledger import errors
from ledger.models import Product
from trace_api.labels import service
from trace_api.labels.routes import MAX_SHEET_LABELS, check_format, check_range, label_file
from trace_api.web import i18n
from trace_api.web.auth import PageOrg
from trace_api.web.deps import SessionDep, StateDep
from trace_api.web.files import attachment
from trace_api.web.queries import get_visible_batch
from trace_api.web.render import Pages

router = APIRouter(include_in_schema=False)
PAGES: Final = Pages(Path(__file__).parent)
SHEET_LABELS: Final = 240  # 10 A4 pages of 24 labels: a sheet a clerk prints in one go
SHEETS_LISTED: Final = 100
RunId = Annotated[int | None, Query(ge=1)]


def label_language(request: Request, lang: str | None) -> str:
    """The language printed on labels: the one asked for, else the page's."""
    return lang or i18n.negotiate(request)[0]


@router.get("/app/batches/{batch_id}/codes/{serial}/label.{fmt}", response_class=Response)
def code_label(
    batch_id: int,
    serial: str,
    fmt: str,
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    lang: str | None = None,
) -> Response:
    """``GET /api/v1/batches/{id}/codes/{serial}/label.png`` for a signed-in page."""
    check_format(fmt)
    batch = get_visible_batch(session, org, batch_id)
    label = service.code_label(session, batch, serial, state.settings.public_url, label_language(request, lang))
    return label_file(label, fmt)


@router.get("/app/batches/{batch_id}/labels.pdf", response_class=Response)
def label_sheet(
    batch_id: int,
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    run: RunId = None,
    offset: int = 0,
    limit: int = SHEET_LABELS,
    lang: str | None = None,
) -> Response:
    """``GET /api/v1/batches/{id}/labels.pdf`` for a signed-in page."""
    check_range(offset, limit)
    batch = get_visible_batch(session, org, batch_id)
    language = label_language(request, lang)
    sheet = service.label_sheet(
        session, batch, state.settings.public_url, run=run, offset=offset, limit=limit, lang=language
    )
    return attachment(sheet.pdf, "application/pdf", sheet.filename)


@router.get("/app/batches/{batch_id}/labels", response_class=HTMLResponse)
def sheets_page(
    batch_id: int,
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    run: RunId = None,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
) -> HTMLResponse:
    """Every label sheet of a batch (or of one code run), ``SHEET_LABELS`` codes each, a hundred to a page."""
    try:
        batch = get_visible_batch(session, org, batch_id)
    except errors.UnknownBatch:
        return PAGES.not_found(request, "not_found.batch_labels")
    product = session.get(Product, batch.product_id)
    assert product is not None
    count = service.code_count(session, batch, run)
    sheets = math.ceil(count / SHEET_LABELS)
    first = (page - 1) * SHEETS_LISTED
    listed = [
        (offset, min(SHEET_LABELS, count - offset))
        for offset in range(first * SHEET_LABELS, min(sheets, first + SHEETS_LISTED) * SHEET_LABELS, SHEET_LABELS)
    ]
    context = {
        "batch": batch,
        "product": product,
        "run": run,
        "count": count,
        "sheets": listed,
        "sheet_labels": SHEET_LABELS,
        "max_labels": MAX_SHEET_LABELS,
        "page": page,
        "pages": max(1, math.ceil(sheets / SHEETS_LISTED)),
    }
    return PAGES.app_page(request, state, org, "label_sheets.html", context)
