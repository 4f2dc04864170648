"""The proof page a consumer's "anchored" badge opens: ``/proof/{event id or its digest}``, in words."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ledger import errors
from trace_api.verify.readable import readable_proof
from trace_api.verify.routes import normalise_event_id
from trace_api.verify.service import event_proof
from trace_api.web.deps import ReadSessionDep, StateDep
from trace_api.web.render import Pages

router = APIRouter(include_in_schema=False)
PAGES: Final = Pages(Path(__file__).parent)


@router.get("/proof/{event_id:path}", response_class=HTMLResponse)
def proof_page(
    event_id: str, request: Request, session: ReadSessionDep, state: StateDep, ver: str | None = None
) -> HTMLResponse:
    """The same check as ``GET /api/v1/verify/events/{event_id}``, shown step by step."""
    try:
        proof = event_proof(session, state.chain_client(), normalise_event_id(event_id, ver), state.signer.domain)
        view = readable_proof(session, proof)
    except (errors.UnknownEvent, errors.InvalidEvent):
        return PAGES.not_found(request, "not_found.event", home="/")
    raw_url = f"/api/v1/verify/events/{view.digest.removeprefix('0x')}"
    return PAGES.render(request, "proof.html", {"proof": view, "raw_url": raw_url})
