"""Request dependencies as ``Annotated`` aliases: the app state, the session, the calling organisation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from ledger.errors import NotAuthenticated, RoleRequired
from ledger.models import Organisation, Role
from ledger.registry import authenticate
from trace_api.state import AppState


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.lotline
    return state


def get_session(state: Annotated[AppState, Depends(get_state)]) -> Iterator[Session]:
    """One unit of work per request: the route's service calls run in it, and it commits when they succeed."""
    session = state.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_read_session(state: Annotated[AppState, Depends(get_state)]) -> Iterator[Session]:
    """For requests that only read (consumer pages, traces, proofs): never takes SQLite's write lock."""
    session = state.readers()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


_bearer = HTTPBearer(auto_error=False, description="an organisation's API token")


def get_current_org(
    state: Annotated[AppState, Depends(get_state)],
    session: Annotated[Session, Depends(get_session, scope="function")],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Organisation:
    """The caller, authenticated on a read-only connection and then handed to the request's session unread.

    On SQLite the request's session takes the write lock (``BEGIN IMMEDIATE``) at its first statement: looking the
    token up there held the lock for a read that needs none, and every other request queued behind it
    (docs/performance.md). ``merge(load=False)`` attaches the organisation without another select."""
    if credentials is None:
        raise NotAuthenticated("this endpoint needs an organisation's bearer token (Authorization: Bearer …)")
    with state.readers() as reader:
        org = authenticate(reader, credentials.credentials)
    return session.merge(org, load=False)


def get_optional_org(
    session: Annotated[Session, Depends(get_read_session, scope="function")],
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Organisation | None:
    """For public reads that tell more to a party involved: no token is the public, a wrong one is refused (401)
    rather than quietly taken for the public."""
    return None if credentials is None else authenticate(session, credentials.credentials)


StateDep = Annotated[AppState, Depends(get_state)]
# scope="function": the session commits when the route returns, before the client gets an answer, so an
# acknowledged scan is always in the ledger.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
CurrentOrg = Annotated[Organisation, Depends(get_current_org)]
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]
ViewerOrg = Annotated[Organisation | None, Depends(get_optional_org)]


def require_role(org: Organisation, *roles: Role) -> None:
    if not any(org.has_role(r) for r in roles):
        names = " or ".join(r.value for r in roles)
        raise RoleRequired(f"only a {names} may do this", required=[r.value for r in roles])
