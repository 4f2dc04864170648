from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from ledger import errors
from ledger.identifiers import parse_code
from trace_api.deps import CurrentOrg, SessionDep, StateDep
from trace_api.errors import error_responses
from trace_api.lookup import trace_for

router = APIRouter(prefix="/api/v1", tags=["trace"])


@router.get(
    "/trace/{code:path}",
    responses=error_responses(errors.UnknownCode, errors.InvalidDigitalLink),
)
def trace(code: str, org: CurrentOrg, session: SessionDep, state: StateDep) -> dict[str, Any]:
    """The journey of an item or batch, named by any code form (Digital Link, element string, EPC URN).
    Steps the caller took part in are in full; others as the public sees them; regulators see everything."""
    return trace_for(session, org, parse_code(code), state.settings.public_url)
