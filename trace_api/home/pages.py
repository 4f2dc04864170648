"""The landing page at ``/`` — what this network is, where each kind of user goes — and ``/lookup``, which turns
a code typed or pasted by a consumer into its page on the resolver."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Final
from urllib.parse import quote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from chain.deploy import read_deployment
from ledger import errors
from ledger.code_signing import split_signed
from ledger.identifiers import DigitalLink, parse_code
from trace_api.state import AppState
from trace_api.web.deps import StateDep
from trace_api.web.render import Pages

router = APIRouter(include_in_schema=False)
PAGES: Final = Pages(Path(__file__).parent)
MAX_CODE_LENGTH: Final = 512


@router.get("/", response_class=HTMLResponse)
def landing(request: Request, state: StateDep) -> HTMLResponse:
    return PAGES.render(request, "home.html", _context(state, code="", refusal=None))


@router.get("/lookup", response_class=HTMLResponse)
def lookup(request: Request, state: StateDep, code: Annotated[str, Query(max_length=MAX_CODE_LENGTH)] = "") -> Response:
    """A code as a scanner or a person hands it over (Digital Link, GS1 element string, EPC URN) → its page."""
    try:
        link, signature = read_code(code)
    except errors.InvalidInput:
        return _refused(request, state, code, "lookup.invalid")
    if link.gtin is None or link.lot is None:
        return _refused(request, state, code, "lookup.needs_lot")
    query = f"?s={quote(signature, safe='')}" if signature else ""
    return RedirectResponse(link.path + query, status_code=303)


def read_code(text: str) -> tuple[DigitalLink, str | None]:
    """The code a lookup names, with its signature when it is a signed Digital Link."""
    text = text.strip()
    return split_signed(text) if "://" in text else (parse_code(text), None)


def _refused(request: Request, state: AppState, code: str, reason: str) -> HTMLResponse:
    context = _context(state, code=code, refusal=PAGES.words(request)(reason))
    return PAGES.render(request, "home.html", context, status_code=422)


def _context(state: AppState, *, code: str, refusal: str | None) -> dict[str, Any]:
    record = state.settings.data_dir / "deployment.json"
    contract = read_deployment(record)["address"] if record.exists() else None
    return {"code": code, "refusal": refusal, "chain_id": state.settings.chain_id, "contract": contract}
