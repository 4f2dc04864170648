"""The GS1 Digital Link resolver paths a phone camera opens: ``/01/{gtin}/10/{lot}[/21/{serial}]``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ledger import errors
from ledger.identifiers import DigitalLink
from trace_api.deps import ReadSessionDep, StateDep
from trace_api.errors import error_responses
from trace_api.lookup import public_view

router = APIRouter(tags=["consumer"])


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _answer(request: Request, view: dict[str, Any]) -> Response:
    if wants_json(request):
        return JSONResponse(view)
    render = getattr(request.app.state, "render_consumer_page", None)
    if render is None:
        return JSONResponse(view)
    page: Response = render(request, view)
    return page


@router.get("/01/{gtin}/10/{lot}/21/{serial}", responses=error_responses(errors.UnknownCode))
def item(gtin: str, lot: str, serial: str, request: Request, session: ReadSessionDep, state: StateDep) -> Response:
    """One pack: product, origin, certificates, journey, recall warning, anchoring proof."""
    link = DigitalLink(gtin=gtin, lot=lot, serial=serial)
    return _answer(request, public_view(session, link, state.settings.public_url))


@router.get("/01/{gtin}/10/{lot}", responses=error_responses(errors.UnknownCode))
def batch(gtin: str, lot: str, request: Request, session: ReadSessionDep, state: StateDep) -> Response:
    """A batch code (一品一码 at batch level)."""
    link = DigitalLink(gtin=gtin, lot=lot)
    return _answer(request, public_view(session, link, state.settings.public_url))
