"""The GS1 Digital Link resolver paths a phone camera opens, ``/01/{gtin}/10/{lot}[/21/{serial}]`` and a case's
``/00/{sscc}``, and the page they answer with: the consumer's view of the code in words, its warnings first.

One decision, in :func:`answer`: a client that asks for JSON (and not HTML) gets the view as JSON; everyone else
(a phone's browser) gets the page. A code that was never issued raises :class:`~ledger.errors.UnknownCode`, which
:func:`code_refused` turns into a page of its own for browsers while API clients keep the JSON refusal.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Final
from urllib.parse import unquote

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from ledger import errors
from ledger.identifiers import DigitalLink
from ledger.models import utcnow
from trace_api.consumer.cases import CaseView, case_view
from trace_api.tasks import TaskName
from trace_api.web.deps import ReadSessionDep, StateDep
from trace_api.web.errors import error_responses, refusal
from trace_api.web.lookup import PublicView
from trace_api.web.render import Pages
from trace_api.web.view_cache import CachedView, ViewCache

router = APIRouter(tags=["consumer"])
PAGES: Final = Pages(Path(__file__).parent)
VIEWS: Final = ViewCache()
"""The public views this process answered, by code and version (trace_api/web/view_cache.py)."""

# Where the product comes from, by category: the country for imports, the farm for produce, the maker for
# vaccines. Shown among the product facts, so not repeated among the certificates.
ORIGIN_FIELDS: Final = ("origin_country", "farm_origin")
ITEM_NOTES: Final = {"sold": "item.sold", "administered": "item.administered", "destroyed": "item.destroyed"}
# The resolver's own paths: only there is a malformed code a consumer's scan rather than a client's mistake.
RESOLVER_PREFIXES: Final = ("/01/", "/00/")


@router.get(
    "/01/{gtin}/10/{lot}/21/{serial}",
    response_model=PublicView,
    responses=error_responses(errors.UnknownCode, errors.CodeNotGenuine),
)
def item(
    gtin: str,
    lot: str,
    serial: str,
    request: Request,
    session: ReadSessionDep,
    state: StateDep,
    s: Annotated[str | None, Query(max_length=200, description="the issuer's signature, as printed in the QR")] = None,
) -> Response:
    """One pack: product, origin, certificates, journey, recall warning, anchoring proof. The label's signature
    ``s`` is checked: missing, altered or foreign is refused like a code never issued (CodeNotGenuine)."""
    return resolve(request, session, state, signature=s)


@router.get("/01/{gtin}/10/{lot}", response_model=PublicView, responses=error_responses(errors.UnknownCode))
def batch(gtin: str, lot: str, request: Request, session: ReadSessionDep, state: StateDep) -> Response:
    """A batch code (一品一码 at batch level)."""
    return resolve(request, session, state)


@router.get("/00/{sscc}", response_model=CaseView, responses=error_responses(errors.UnknownCode))
def case(sscc: str, request: Request, session: ReadSessionDep, state: StateDep) -> Response:
    """A case or pallet (SSCC): the lots it holds now and those it held before, each linking to its batch page."""
    view = case_view(session, sscc, state.settings.public_url)
    if wants_json(request):
        return JSONResponse(view.model_dump(mode="json"))
    return PAGES.render(request, "case.html", {"view": view})


@router.get("/01/{gtin}/10/{rest:path}", include_in_schema=False)
def percent_encoded(gtin: str, rest: str, request: Request, session: ReadSessionDep, state: StateDep) -> Response:
    """A lot or serial with a percent-encoded ``/`` (``%2F``): the server decodes it before routing, so the path
    has more segments than the two routes above take."""
    signature = request.query_params.get("s")
    if signature is not None and len(signature) > 200:
        raise errors.InvalidDigitalLink("the label's signature s is longer than 200 characters", code=request.url.path)
    return resolve(request, session, state, signature=signature)


def resolve(request: Request, session: ReadSessionDep, state: StateDep, signature: str | None = None) -> Response:
    """The code's public view from the cache (docs/performance.md); a counted (sold) item's lookup goes to the
    worker, so a lookup stays a read (docs/alerts.md)."""
    now = utcnow()
    cached, counted_code_id = VIEWS.view(session, link_of(request), state.settings.public_url, signature, now)
    if counted_code_id is not None:
        state.tasks.send(TaskName.COUNT_LOOKUP, counted_code_id, int(now.timestamp() * 1000))
    return answer(request, cached)


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


def answer(request: Request, cached: CachedView) -> Response:
    if wants_json(request):
        return Response(cached.json, media_type="application/json")
    return consumer_page(request, cached.view)


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
    context = {"code": code or request.url.path, "signature": error.context.get("signature")}
    page = PAGES.render(request, "unknown.html", context, status_code=404)
    # Neither a browser nor a shared cache may keep this: the code could be issued a minute later.
    page.headers["Cache-Control"] = "no-store"
    return page
