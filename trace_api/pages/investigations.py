"""One-click investigation (一键排查) as a page: a place and a time window in, the batches present there, where they
came from and who else holds them out, with a link that starts the recall of each batch.

It reads and writes nothing, so the form is a GET: the result has an address a regulator can send a colleague.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import errors
from ledger.models import Organisation, Role
from recall.investigate import describe_investigation, investigate
from trace_api.deps import AppState, SessionDep, StateDep
from trace_api.errors import status_of
from trace_api.pages import auth
from trace_api.pages import recall_forms as forms
from trace_api.pages.holder_graph import holder_graph
from trace_api.pages.i18n import LOCAL_TZ
from trace_api.pages.render import app_page, words_for

router = APIRouter(include_in_schema=False)

DEFAULT_WINDOW: Final = timedelta(days=14)
ROWS_SHOWN: Final = 300  # per table; a stall's batches can reach ten thousand holders (the API has them all)
Box = Annotated[str, Query(max_length=64)]


@router.get("/app/investigations", response_class=HTMLResponse)
def investigation_page(
    request: Request,
    org: auth.PageOrg,
    session: SessionDep,
    state: StateDep,
    place: Box = "",
    since: Box = "",
    until: Box = "",
) -> HTMLResponse:
    t = words_for(request)
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
        start, end = forms.local_moment(since, t, "since"), forms.local_moment(until, t, "until")
        if start >= end:
            raise forms.Refused(t("investigation.refused.window"))
        found = investigate(session, location_id=location_id, org_id=_org_id(session, uscc), since=start, until=end)
    except forms.Refused as refused:
        return _page(request, state, org, values, message=refused.message, status=refused.status_code)
    except errors.LotlineError as refused:
        return _page(request, state, org, values, message=forms.explain(refused, t), status=status_of(refused))
    # The graph reads the trace itself; the tables list the other holders most in need of a visit.
    result = describe_investigation(session, found, edges=False, max_holders=ROWS_SHOWN, leave_out_self=True)
    names = {o["id"]: o["name"] for o in result["other_holders"]} | {found.org_id: result["org"]["name"]}
    # Consignees with goods still in transit hold nothing yet: the graph draws them, the holder list has no name.
    in_transit = {e.to_org_id for e in found.spread.edges if e.to_org_id is not None} - names.keys()
    if in_transit:
        query = select(Organisation.id, Organisation.name).where(Organisation.id.in_(in_transit))
        names |= dict(session.execute(query).all())
    graph = holder_graph(found.spread, names, {found.org_id: "here"}, default="holder") if found.present else None
    return _page(request, state, org, values, result=result, graph=graph)


def _org_id(session: Session, uscc: str | None) -> int | None:
    if uscc is None:
        return None
    org_id = session.scalar(select(Organisation.id).where(Organisation.uscc == uscc))
    if org_id is None:
        raise errors.UnknownOrganisation(f"no organisation with USCC {uscc}", uscc=uscc)
    return org_id


def _page(
    request: Request,
    state: AppState,
    org: Organisation,
    values: dict[str, str],
    *,
    result: dict[str, Any] | None = None,
    graph: Any = None,
    message: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = {"values": values, "result": result, "graph": graph, "message": message, "rows_shown": ROWS_SHOWN}
    return app_page(request, state, org, "investigation.html", context, status_code=status)
