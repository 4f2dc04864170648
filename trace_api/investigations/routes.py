"""One-click investigations over HTTP (regulators only)."""

from __future__ import annotations

from fastapi import APIRouter

from ledger import errors
from ledger.models import Role
from trace_api.investigations import service
from trace_api.investigations.schemas import InvestigationIn, InvestigationOut
from trace_api.web.deps import CurrentOrg, SessionDep, require_role
from trace_api.web.errors import error_responses

router = APIRouter(prefix="/api/v1", tags=["trace"])


@router.post(
    "/investigations",
    response_model=InvestigationOut,
    responses=error_responses(errors.RoleRequired, errors.NotFound, errors.UnknownOrganisation, errors.InvalidUSCC),
)
def create_investigation(body: InvestigationIn, org: CurrentOrg, session: SessionDep) -> InvestigationOut:
    """One-click investigation (一键排查): the batches present at a place in a window, their sources and every
    other holder. Regulators only. It writes nothing, so it needs no idempotency key."""
    require_role(org, Role.REGULATOR)
    found = service.investigate_place(
        session, location_id=body.location_id, org_uscc=body.org_uscc, since=body.since, until=body.until
    )
    return service.describe(session, found, edges=body.edges, max_holders=body.max_holders)
