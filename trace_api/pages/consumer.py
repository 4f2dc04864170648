"""The page a phone opens when it scans a pack: the resolver's consumer view, in words, with its warnings first.

The resolver routes build the (already redacted) view and hand it to :func:`render_consumer_page`; a code that
was never issued raises :class:`~ledger.errors.UnknownCode`, which :func:`code_refused` turns into a page of its
own for browsers while API clients keep the JSON refusal.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from ledger import errors
from trace_api.pages.render import render, words_for
from trace_api.routes.resolver import wants_json

# Where the product comes from, by category: the country for imports, the farm for produce, the maker for
# vaccines. Shown among the product facts, so not repeated among the certificates.
ORIGIN_FIELDS: Final = ("origin_country", "farm_origin")
ITEM_NOTES: Final = {"sold": "item.sold", "administered": "item.administered", "destroyed": "item.destroyed"}
# The resolver's own paths: only there is a malformed code a consumer's scan rather than a client's mistake.
RESOLVER_PREFIXES: Final = ("/01/", "/00/")


def render_consumer_page(request: Request, view: dict[str, Any]) -> HTMLResponse:
    t = words_for(request)
    product, batch, status = view["product"], view["batch"], view["status"]
    certificates = batch["certificates"]
    origin = next(((name, certificates[name]) for name in ORIGIN_FIELDS if name in certificates), None)
    name = product["name_en"] if t.lang == "en" and product.get("name_en") else product["name"]
    warnings = [w for w in ("recalled", "held", "expired") if status.get(w)]
    context = {
        "view": view,
        "product_name": name,
        "origin": origin,
        "certificates": [(k, v) for k, v in certificates.items() if k not in ORIGIN_FIELDS],
        "warnings": warnings,
        "item_note": ITEM_NOTES.get(status.get("item_status") or ""),
        "verify_url": view["proof"]["verify_url"],
    }
    return render(request, "consumer.html", context)


def _is_api_request(request: Request) -> bool:
    return request.url.path.startswith("/api/") or wants_json(request)


async def code_refused(request: Request, error: Exception) -> Response:
    """A forged or mistyped code: a red page for a phone (404), the usual JSON refusal for an API client."""
    assert isinstance(error, errors.LotlineError)
    unknown = isinstance(error, errors.UnknownCode)
    if _is_api_request(request) or not (unknown or request.url.path.startswith(RESOLVER_PREFIXES)):
        json_handler = request.app.exception_handlers[errors.LotlineError]
        answer: Response = await json_handler(request, error)
        return answer
    code = error.context.get("code") if unknown else None
    page = render(request, "unknown.html", {"code": code or request.url.path}, status_code=404)
    # Neither a browser nor a shared cache may keep this: the code could be issued a minute later.
    page.headers["Cache-Control"] = "no-store"
    return page


def not_found_page(request: Request, message_key: str) -> HTMLResponse:
    t = words_for(request)
    return render(request, "message.html", {"heading": t("page.not_found"), "message": t(message_key)}, status_code=404)
