"""The GS1 Digital Link resolver paths a phone camera opens, ``/01/{gtin}/10/{lot}[/21/{serial}]``, and the page
they answer with: the consumer's view of the code in words, its warnings first.

One decision, in :func:`answer`: a client that asks for JSON (and not HTML) gets the view as JSON; everyone else
(a phone's browser) gets the page. A code that was never issued raises :class:`~ledger.errors.UnknownCode`, which
:func:`code_refused` turns into a page of its own for browsers while API clients keep the JSON refusal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final
from urllib.parse import unquote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ledger import errors
from ledger.identifiers import DigitalLink
from trace_api.web.deps import ReadSessionDep, StateDep
from trace_api.web.errors import error_responses, refusal
from trace_api.web.lookup import PublicView, public_view
from trace_api.web.render import Pages

router = APIRouter(tags=["consumer"])
PAGES: Final = Pages(Path(__file__).parent)

# Where the product comes from, by category: the country for imports, the farm for produce, the maker for
# vaccines. Shown among the product facts, so not repeated among the certificates.
ORIGIN_FIELDS: Final = ("origin_country", "farm_origin")
ITEM_NOTES: Final = {"sold": "item.sold", "administered": "item.administered", "destroyed": "item.destroyed"}
# The resolver's own paths: only there is a malformed code a consumer's scan rather than a client's mistake.
RESOLVER_PREFIXES: Final = ("/01/", "/00/")


@router.get("/01/{gtin}/10/{lot}/21/{serial}", response_model=PublicView, responses=error_responses(errors.UnknownCode))
def item(gtin: str, lot: str, serial: str, request: Request, session: ReadSessionDep, state: StateDep) -> Response:
    """One pack: product, origin, certificates, journey, recall warning, anchoring proof."""
    return answer(request, public_view(session, link_of(request), state.settings.public_url))


@router.get("/01/{gtin}/10/{lot}", response_model=PublicView, responses=error_responses(errors.UnknownCode))
def batch(gtin: str, lot: str, request: Request, session: ReadSessionDep, state: StateDep) -> Response:
    """A batch code (一品一码 at batch level)."""
    return answer(request, public_view(session, link_of(request), state.settings.public_url))


@router.get("/01/{gtin}/10/{rest:path}", include_in_schema=False)
def percent_encoded(gtin: str, rest: str, request: Request, session: ReadSessionDep, state: StateDep) -> Response:
    """A lot or serial with a percent-encoded ``/`` (``%2F``): the server decodes it before routing, so the path
    has more segments than the two routes above take."""
    return answer(request, public_view(session, link_of(request), state.settings.public_url))


def link_of(request: Request) -> DigitalLink:
    """The Digital Link as sent: read from the raw path, since GS1 percent-encodes a lot or serial's ``/`` (and a
    decoded ``A%2F21%2FB`` would read as lot ``A`` and serial ``B``). See docs/identifiers.md."""
    raw: bytes = request.scope.get("raw_path") or request.url.path.encode()
    segments = [unquote(part) for part in raw.decode("latin-1").split("/")]
    match segments:
        case ["", "01", gtin, "10", lot]:
            return DigitalLink(gtin=gtin, lot=lot)
        case ["", "01", gtin, "10", lot, "21", serial]:
            return DigitalLink(gtin=gtin, lot=lot, serial=serial)
    raise errors.InvalidDigitalLink(
        "a lotline code is /01/{gtin}/10/{lot}[/21/{serial}], with a '/' in a lot or serial written %2F",
        code=request.url.path,
    )


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def answer(request: Request, view: PublicView) -> Response:
    if wants_json(request):
        return JSONResponse(view.model_dump(mode="json"))
    return consumer_page(request, view)


def consumer_page(request: Request, view: PublicView) -> HTMLResponse:
    t = PAGES.words(request)
    certificates = view.batch.certificates
    origin = next(((name, certificates[name]) for name in ORIGIN_FIELDS if name in certificates), None)
    name = view.product.name_en if t.lang == "en" and view.product.name_en else view.product.name
    context = {
        "view": view,
        "product_name": name,
        "origin": origin,
        "certificates": [(k, v) for k, v in certificates.items() if k not in ORIGIN_FIELDS],
        "warnings": view.status.warnings,
        "item_note": ITEM_NOTES.get(view.status.item_status or ""),
    }
    return PAGES.render(request, "consumer.html", context)


async def code_refused(request: Request, error: Exception) -> Response:
    """A forged or mistyped code: a red page for a phone (404), the usual JSON refusal for an API client."""
    assert isinstance(error, errors.LotlineError)
    unknown = isinstance(error, errors.UnknownCode)
    api_request = request.url.path.startswith("/api/") or wants_json(request)
    if api_request or not (unknown or request.url.path.startswith(RESOLVER_PREFIXES)):
        return refusal(error)
    code = error.context.get("code") if unknown else None
    page = PAGES.render(request, "unknown.html", {"code": code or request.url.path}, status_code=404)
    # Neither a browser nor a shared cache may keep this: the code could be issued a minute later.
    page.headers["Cache-Control"] = "no-store"
    return page
