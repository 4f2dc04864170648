"""Rendering a page: Jinja2 with autoescape always on, the page's language, and headers that keep the pages
inert (no script runs on them, no other site frames them).

Each feature with pages makes one :class:`Pages` from its own folder: its ``templates/`` over the shared ones
here (``base.html``, the menu, the holder graph), its ``words.toml`` over the shared words.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from ledger.event_hash import digest_hex
from ledger.models import Organisation, Role
from trace_api.state import AppState
from trace_api.web import i18n
from trace_api.web.auth import csrf_token

HERE: Final = Path(__file__).parent
STATIC_DIR: Final = HERE / "static"
STATIC_URL: Final = "/assets/pages"

# The pages need no JavaScript: forbidding it outright means injected markup could not run any either.
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
LANG_COOKIE_AGE: Final = 365 * 24 * 3600
# Stylesheet URLs carry a content hash (see _asset_version), so a phone may keep them for good.
IMMUTABLE: Final = "public, max-age=31536000, immutable"


def _asset_version(name: str) -> str:
    """A content hash in the stylesheet's URL, so phones cache it for long and still see a new one at once."""
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]


def short_hash(value: str | None, keep: int = 6) -> str:
    """``0x1234abcd…9f00``: enough to compare by eye; the full value sits in the title attribute."""
    if not value:
        return ""
    head = keep + (2 if value.startswith("0x") else 0)
    return value if len(value) <= head + keep + 1 else f"{value[:head]}…{value[-keep:]}"


def path_segment(value: str) -> str:
    """An identifier (an event id is a ``ni:///`` URI) as one URL path segment."""
    return quote(value, safe="")


def proof_url(event_id: str) -> str:
    """The proof page of an event (``trace_api.verify.pages``), by its digest: a plain URL to read out or share."""
    return f"/proof/{digest_hex(event_id)}"


CSS_URL: Final = f"{STATIC_URL}/lotline.css?v={_asset_version('lotline.css')}"


class Assets(StaticFiles):
    """The pages' stylesheet, cached for good: its URL changes with its content."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = IMMUTABLE
        return response


class Pages:
    """The templates and words of one feature's pages (``Pages(Path(__file__).parent)``), over the shared ones."""

    def __init__(self, folder: Path = HERE) -> None:
        shared = FileSystemLoader(HERE / "templates")
        own = [FileSystemLoader(folder / "templates")] if folder != HERE else []
        self.env = Environment(
            loader=ChoiceLoader([*own, shared]),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["short_hash"] = short_hash
        self.env.filters["local_time"] = i18n.local_time
        self.env.filters["path_segment"] = path_segment
        self.env.filters["proof_url"] = proof_url
        self.env.globals["css_url"] = CSS_URL
        words = [i18n.SHARED_WORDS] + ([folder / "words.toml"] if folder != HERE else [])
        self.catalogue = i18n.catalogue(*words)

    def words(self, request: Request) -> i18n.Words:
        lang = i18n.negotiate(request)[0]
        return i18n.Words(lang, self.catalogue[lang])

    def render(
        self, request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
    ) -> HTMLResponse:
        """The page in the request's language; a language chosen by a switch link is remembered in a cookie."""
        lang, chosen = i18n.negotiate(request)
        words = i18n.Words(lang, self.catalogue[lang])
        switch = request.url.include_query_params(lang=words.other)
        html = self.env.get_template(template).render(
            t=words, lang=lang, switch_url=f"{switch.path}?{switch.query}", **context
        )
        response = HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
        response.headers["Content-Language"] = lang
        response.headers["Vary"] = "Accept, Accept-Language, Cookie"
        if chosen:
            response.set_cookie(i18n.COOKIE, lang, max_age=LANG_COOKIE_AGE, samesite="lax", httponly=True)
        return response

    def app_page(
        self,
        request: Request,
        state: AppState,
        org: Organisation,
        template: str,
        context: dict[str, Any],
        *,
        status_code: int = 200,
    ) -> HTMLResponse:
        """A page of the signed-in part: the organisation, its menu and the CSRF token its forms carry."""
        common = {
            "org": org,
            "csrf": csrf_token(request, state),
            "can_register": org.has_role(Role.PRODUCER),
            "can_recall": org.has_role(Role.PRODUCER) or org.has_role(Role.REGULATOR),
            "is_regulator": org.has_role(Role.REGULATOR),
        }
        return self.render(request, template, {**common, **context}, status_code=status_code)

    def not_found(self, request: Request, message_key: str, *, home: str = "/app/batches") -> HTMLResponse:
        """A 404 page with a way back: the signed-in pages' batch list, or ``home="/"`` on a public page."""
        t = self.words(request)
        context = {"heading": t("page.not_found"), "message": t(message_key), "home": home}
        return self.render(request, "message.html", context, status_code=404)
