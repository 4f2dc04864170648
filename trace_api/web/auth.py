"""Signing in to the pages with an organisation's API token, and the CSRF token of its forms.

The token lives in an HttpOnly, SameSite=Lax cookie: no script can read it, and another site's form cannot
send it along with a POST. As a second lock every form carries a CSRF token derived from the session
(an HMAC of the session token under the server's secret): it changes with every sign-in, needs no server-side
storage, and a page on another site cannot know it.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated, Final
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import RedirectResponse, Response

from ledger.errors import NotAuthenticated
from ledger.models import Organisation
from ledger.registry import authenticate
from trace_api.state import AppState
from trace_api.web.deps import SessionDep

SESSION_COOKIE: Final = "lotline_session"
SESSION_AGE: Final = 12 * 3600
LOGIN_PATH: Final = "/login"
HOME_PATH: Final = "/app/batches"
REGULATOR_HOME: Final = "/app/recalls"


class LoginRequired(NotAuthenticated):
    """A page asked for without a valid session: answered with a redirect to the sign-in form, not a 401."""

    def __init__(self, next_path: str, *, stale_cookie: bool) -> None:
        super().__init__("sign in to see this page", next_path=next_path)
        self.next_path = next_path
        self.stale_cookie = stale_cookie


def page_org(request: Request, session: SessionDep) -> Organisation:
    """The organisation signed in to the pages; no session, or a revoked or expired token, means signing in."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired(request.url.path, stale_cookie=False)
    try:
        return authenticate(session, token)
    except NotAuthenticated:
        raise LoginRequired(request.url.path, stale_cookie=True) from None


PageOrg = Annotated[Organisation, Depends(page_org)]


async def login_required(_request: Request, error: Exception) -> Response:
    assert isinstance(error, LoginRequired)
    response = RedirectResponse(f"{LOGIN_PATH}?next={quote(error.next_path, safe='/')}", status_code=303)
    if error.stale_cookie:
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def safe_next(next_path: str | None) -> str:
    """Only our own pages are a place to go after signing in: ``//evil.example`` or ``https://…`` are not."""
    if next_path and next_path.startswith("/app/") and not next_path.startswith("//") and "\\" not in next_path:
        return next_path
    return HOME_PATH


def start_session(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=SESSION_AGE,
        path="/",
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


def csrf_token(request: Request, state: AppState) -> str:
    token = request.cookies.get(SESSION_COOKIE, "")
    key = hashlib.sha256(f"lotline pages csrf|{state.settings.secret_key}".encode()).digest()
    return hmac.new(key, token.encode(), hashlib.sha256).hexdigest()


def csrf_ok(request: Request, state: AppState, submitted: str) -> bool:
    return bool(submitted) and hmac.compare_digest(submitted, csrf_token(request, state))
