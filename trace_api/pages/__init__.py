"""Server-rendered pages: the consumer page at the Digital Link paths, the importer's batch pages, and the
regulator's recall and investigation pages.

``install(app)`` wires them into the API app; the JSON API is unchanged by it (API clients that send
``Accept: application/json``, and every ``/api/`` path, still get JSON, refusals included).
"""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from ledger import errors
from trace_api.pages import auth, importer, investigations, recalls
from trace_api.pages.consumer import code_refused, render_consumer_page
from trace_api.pages.render import STATIC_DIR, STATIC_URL

__all__ = ["install"]

# Stylesheet URLs carry a content hash (see render.css_url), so a phone may keep them for good.
IMMUTABLE: Final = "public, max-age=31536000, immutable"


class _Assets(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = IMMUTABLE
        return response


def install(app: FastAPI) -> None:
    """Add the pages to ``app``: call once, after ``trace_api.errors.install`` (its JSON handler is reused)."""
    app.state.render_consumer_page = render_consumer_page
    # Registered on the specific classes, these run instead of the JSON handler for LotlineError, and hand
    # back to it for API requests.
    app.add_exception_handler(errors.UnknownCode, code_refused)
    app.add_exception_handler(errors.InvalidIdentifier, code_refused)
    app.add_exception_handler(auth.LoginRequired, auth.login_required)
    app.include_router(importer.router)
    app.include_router(recalls.router)
    app.include_router(investigations.router)
    app.mount(STATIC_URL, _Assets(directory=STATIC_DIR), name="pages-static")
