"""The sign-in and sign-out pages: an organisation's API token in, a session cookie out."""

from __future__ import annotations

from typing import Annotated, Final

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ledger import errors
from ledger.models import Role
from ledger.registry import authenticate
from trace_api.web import auth
from trace_api.web.deps import SessionDep
from trace_api.web.render import Pages

router = APIRouter(include_in_schema=False)
PAGES: Final = Pages()


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next_path: Annotated[str, Query(alias="next")] = auth.HOME_PATH) -> HTMLResponse:
    return PAGES.render(request, "login.html", {"next": auth.safe_next(next_path), "refused": False})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = auth.HOME_PATH,
) -> Response:
    try:
        org = authenticate(session, token.strip())
    except errors.NotAuthenticated:
        context = {"next": auth.safe_next(next_path), "refused": True}
        return PAGES.render(request, "login.html", context, status_code=401)
    destination = auth.safe_next(next_path)
    if destination == auth.HOME_PATH and org.has_role(Role.REGULATOR):
        destination = auth.REGULATOR_HOME  # a regulator registers no batches: its work starts at the recalls
    response = RedirectResponse(destination, status_code=303)
    auth.start_session(request, response, token.strip())
    return response


@router.api_route("/logout", methods=["GET", "POST"])
def logout() -> Response:
    # Signing out needs no CSRF token: the worst a forged request can do is sign someone out.
    response = RedirectResponse(auth.LOGIN_PATH, status_code=303)
    auth.end_session(response)
    return response
