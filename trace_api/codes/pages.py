"""Issuing item codes from the batch page, and a code run's own page with its progress.

The form does what ``POST /api/v1/batches/{id}/codes`` does: a run of up to ten thousand codes is issued inside
the request; a larger one is queued for the worker, and its page refreshes itself every few seconds (a meta
refresh: the pages run no script) until the run is done.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Final

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ledger import errors
from ledger.models import Batch, Product
from trace_api.codes import service
from trace_api.tasks import TaskName
from trace_api.web.auth import PageOrg
from trace_api.web.deps import SessionDep, StateDep
from trace_api.web.errors import status_of
from trace_api.web.forms import FormRefused, SignedForm, check_signed, explain, submit_once
from trace_api.web.i18n import Words
from trace_api.web.queries import get_visible_batch
from trace_api.web.render import Pages

router = APIRouter(include_in_schema=False)
PAGES: Final = Pages(Path(__file__).parent)
REFRESH_SECONDS: Final = 2
MAX_RUN: Final = 2_000_000  # as CodeRunCreate allows


class IssueForm(SignedForm):
    count: str = ""


@router.post("/app/batches/{batch_id}/codes", response_class=HTMLResponse)
def issue(
    batch_id: int,
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    background: BackgroundTasks,
    form: Annotated[IssueForm, Form()],
) -> Response:
    t = PAGES.words(request)
    try:
        check_signed(request, state, form, t)
        count = form.count.strip()
        if not re.fullmatch(r"\d{1,7}", count) or not 0 < int(count) <= MAX_RUN:
            raise FormRefused(t("codes_error.count", most=MAX_RUN))
        batch = get_visible_batch(session, org, batch_id)
        run_id = submit_once(
            session, org, form, {"batch": batch_id, "count": int(count)},
            lambda: service.start_codes(session, state.signer, org, batch, int(count)).id,
        )  # fmt: skip
    except errors.LotlineError as refused:
        session.rollback()
        context = {
            "heading": t("codes_error.title"),
            "message": _explain(refused, t),
            "home": f"/app/batches/{batch_id}",
            "back": t("codes_error.back"),
        }
        return PAGES.render(request, "message.html", context, status_code=status_of(refused))
    run = service.visible_run(session, org, run_id)
    if run.status == "queued":
        # Sent after the answer, hence after the commit: the worker must find the run it is sent.
        background.add_task(state.tasks.send, TaskName.ISSUE_CODES, run.id)
    return RedirectResponse(f"/app/code-runs/{run.id}", status_code=303)


def _explain(error: errors.LotlineError, t: Words) -> str:
    key = f"codes_error.{error.reason}"
    return t(key) if t.has(key) else explain(error, t)


@router.get("/app/code-runs/{run_id}", response_class=HTMLResponse)
def run_page(run_id: int, request: Request, org: PageOrg, session: SessionDep, state: StateDep) -> HTMLResponse:
    try:
        run = service.visible_run(session, org, run_id)
    except errors.NotFound:
        return PAGES.not_found(request, "not_found.code_run")
    batch = session.get(Batch, run.batch_id)
    assert batch is not None
    product = session.get(Product, batch.product_id)
    assert product is not None
    context = {
        "run": run,
        "batch": batch,
        "product": product,
        "finished": run.status in ("done", "failed"),
        "refresh": REFRESH_SECONDS,
    }
    return PAGES.app_page(request, state, org, "code_run.html", context)
