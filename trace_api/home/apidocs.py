"""The API's docs from our own origin: Swagger UI at ``/docs``, ReDoc at ``/redoc``.

FastAPI's own docs pages load both from a CDN, and ReDoc's fonts from Google: a blank page on a network without
internet access (a cold store's office, a regulator's intranet), and a third party told of every reader. Here they
come from the npm packages ``swagger-ui-dist`` and ``redoc``, pinned in package-lock.json, and a Content Security
Policy that names no other origin keeps any part of them from reaching out (ReDoc's sidebar always asks for its
maker's logo from their CDN: the policy stops it before a request is made, and ReDoc drops the image).

The files are copied out of node_modules into ``static/vendor/`` by ``make install``, not committed: the lockfile
already pins each package by its integrity hash, ``make install`` already runs ``npm ci`` for the contracts, and
3 MB of minified third-party code per version would otherwise sit in the history as diffs no one can review. A
checkout that skipped ``make install`` gets a page saying so (503), never a blank one.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from trace_api.web.render import Pages

router = APIRouter(include_in_schema=False)
PAGES: Final = Pages(Path(__file__).parent)
STATIC_DIR: Final = Path(__file__).parent / "static"
STATIC_URL: Final = "/assets/apidocs"
OPENAPI_URL: Final = "/openapi.json"
SWAGGER_FILES: Final = ("vendor/swagger-ui-bundle.js", "vendor/swagger-ui.css", "swagger-init.js")
REDOC_FILES: Final = ("vendor/redoc.standalone.js", "redoc-init.js")

# Both need script from our origin, and inline styles (Swagger UI sets style attributes; ReDoc's
# styled-components writes <style> elements). ReDoc searches in a web worker it starts from a blob: URL.
DOCS_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
REDOC_POLICY: Final = f"{DOCS_POLICY}; worker-src blob:"


@cache
def asset_url(name: str) -> str:
    """An asset's URL with its content hash, so it may be cached for good and still change with a new version."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    return f"{STATIC_URL}/{name}?v={digest}"


def installed(names: tuple[str, ...]) -> bool:
    return all((STATIC_DIR / name).is_file() for name in names)


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui(request: Request) -> HTMLResponse:
    return _docs_page(request, "swagger.html", SWAGGER_FILES, DOCS_POLICY)


@router.get("/redoc", response_class=HTMLResponse)
def redoc(request: Request) -> HTMLResponse:
    return _docs_page(request, "redoc.html", REDOC_FILES, REDOC_POLICY)


def _docs_page(request: Request, template: str, files: tuple[str, ...], policy: str) -> HTMLResponse:
    if not installed(files):
        t = PAGES.words(request)
        context = {"heading": t("apidocs.title"), "message": t("apidocs.missing"), "home": "/"}
        return PAGES.render(request, "message.html", context, status_code=503)
    urls = {name.rsplit("/", 1)[-1].replace(".", "_").replace("-", "_"): asset_url(name) for name in files}
    response = PAGES.render(request, template, {"assets": urls, "openapi_url": OPENAPI_URL})
    response.headers["Content-Security-Policy"] = policy
    return response
