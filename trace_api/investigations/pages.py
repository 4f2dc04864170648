"""One-click investigation (一键排查) as a page: a place and a time window in, the batches present there, where they
came from and who else holds them out, with a link that starts the recall of each batch.

It reads and writes nothing, so the form is a GET: the result has an address a regulator can send a colleague.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from ledger import errors
from ledger.models import Organisation, Role
from trace_api.investigations import forms, service
from trace_api.investigations.schemas import InvestigationOut
from trace_api.state import AppState
from trace_api.web.auth import PageOrg
from trace_api.web.deps import SessionDep, StateDep
from trace_api.web.errors import status_of
from trace_api.web.forms import explain
from trace_api.web.holder_graph import HolderGraph, holder_graph
from trace_api.web.i18n import LOCAL_TZ
from trace_api.web.render import Pages

router = APIRouter(include_in_schema=False)
PAGES: Final = Pages(Path(__file__).parent)

DEFAULT_WINDOW: Final = timedelta(days=14)
ROWS_SHOWN: Final = 300  # per table; a stall's batches can reach ten thousand holders (the API has them all)
Box = Annotated[str, Query(max_length=64)]


@router.get("/app/investigations", response_class=HTMLResponse)
def investigation_page(
    request: Request,
    org: PageOrg,
    session: SessionDep,
    state: StateDep,
    place: Box = "",
    since: Box = "",
    until: Box = "",
) -> HTMLResponse:
    t = PAGES.words(request)
    if not org.has_role(Role.REGULATOR):
        return _page(request, state, org, {}, message=t("investigation.regulators_only"), status=403)
    values = {"place": place, "since": since, "until": until}
    if not place and not since and not until:
        # The boxes hold whole minutes: the window ends at the next one, so what happened this minute is in it.
        end = datetime.now(LOCAL_TZ).replace(second=0, microsecond=0, tzinfo=None) + timedelta(minutes=1)
        values = {"place": "", "since": (end - DEFAULT_WINDOW).isoformat(), "until": end.isoformat()}
        return _page(request, state, org, values)
    try:
        location_id, uscc = forms.place(place, t)
        start, end = forms.window(since, until, t)
        found = service.investigate_place(session, location_id=location_id, org_uscc=uscc, since=start, until=end)
    except errors.LotlineError as refused:
        return _page(request, state, org, values, message=explain(refused, t), status=status_of(refused))
    # The graph reads the trace itself; the tables list the other holders most in need of a visit.
    result = service.describe(session, found, edges=False, max_holders=ROWS_SHOWN, leave_out_self=True)
    names = service.graph_names(session, found, result)
    graph = holder_graph(found.spread, names, {found.org_id: "here"}, default="holder") if found.present else None
    return _page(request, state, org, values, result=result, graph=graph)


def _page(
    request: Request,
    state: AppState,
    org: Organisation,
    values: dict[str, str],
    *,
    result: InvestigationOut | None = None,
    graph: HolderGraph | None = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {"values": values, "result": result, "graph": graph, "message": message, "rows_shown": ROWS_SHOWN}
    return PAGES.app_page(request, state, org, "investigation.html", context, status_code=status)
