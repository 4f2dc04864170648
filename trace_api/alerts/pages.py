"""The alerts page: a brand owner's alerts about its products, or every alert for a regulator, newest first, with
what was seen and, for a regulator, the button that takes one up as an investigation (docs/alerts.md)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Annotated, Final

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ledger import errors
from ledger.models import AlertKind, Role
from trace_api.alerts import service
from trace_api.web.auth import PageOrg
from trace_api.web.deps import SessionDep, StateDep
from trace_api.web.errors import status_of
from trace_api.web.forms import SignedForm, check_signed, explain
from trace_api.web.render import Pages
from trace_api.web.schemas import RowId

router = APIRouter(include_in_schema=False)
PAGES: Final = Pages(Path(__file__).parent)
LIST_LIMIT: Final = 200


@router.get("/app/alerts", response_class=HTMLResponse)
def alert_list(
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    kind: Annotated[str, Query(max_length=20)] = "",
) -> HTMLResponse:
    chosen = AlertKind(kind) if kind in AlertKind.__members__.values() else None
    alerts = service.list_alerts(session, org, kind=chosen, status=None, limit=LIST_LIMIT)
    context = {
        "alerts": service.alert_views(session, alerts),
        "kinds": [k.value for k in AlertKind],
        "kind": chosen.value if chosen else "",
        "form_key": uuid.uuid4().hex,
        "message": None,
    }
    return PAGES.app_page(request, state, org, "alerts.html", context)


@router.post("/app/alerts/{alert_id}/investigate", response_class=HTMLResponse)
def investigate(
    alert_id: RowId,
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    form: Annotated[SignedForm, Form()],
) -> Response:
    """A regulator takes the alert up; the browser goes on to its one-click investigation."""
    t = PAGES.words(request)
    try:
        check_signed(request, state, form, t)
        [view] = service.alert_views(session, [service.take_up(session, org, alert_id)])
    except errors.LotlineError as refused:
        session.rollback()
        alerts = service.list_alerts(session, org, kind=None, status=None, limit=LIST_LIMIT)
        context = {
            "alerts": service.alert_views(session, alerts),
            "kinds": [k.value for k in AlertKind],
            "kind": "",
            "form_key": uuid.uuid4().hex,
            "message": explain(refused, t),
        }
        return PAGES.app_page(request, state, org, "alerts.html", context, status_code=status_of(refused))
    target = view.investigation_url if org.has_role(Role.REGULATOR) and view.investigation_url else "/app/alerts"
    return RedirectResponse(target, status_code=303)
