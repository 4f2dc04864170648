from __future__ import annotations

from fastapi import APIRouter, status
from sqlalchemy import select

from ledger import errors
from ledger.keys import KeyVault
from ledger.models import Location, Role
from ledger.registry import create_location, create_organisation
from recall import notify
from recall.endpoints import AddressPolicy
from trace_api.deps import CurrentOrg, SessionDep, StateDep, require_role
from trace_api.errors import error_responses
from trace_api.schemas.parties import LocationCreate, LocationOut, OrgCreate, OrgCreated, OrgOut

router = APIRouter(prefix="/api/v1", tags=["organisations"])


@router.post(
    "/orgs",
    status_code=status.HTTP_201_CREATED,
    response_model=OrgCreated,
    responses=error_responses(errors.RoleRequired, errors.AlreadyExists, errors.InvalidUSCC, errors.InvalidInput),
)
def register_organisation(body: OrgCreate, org: CurrentOrg, session: SessionDep, state: StateDep) -> OrgCreated:
    """Register an organisation (regulators only). Its API token, and its webhook secret when a webhook URL is
    given, are in the answer, once."""
    require_role(org, Role.REGULATOR)
    vault = KeyVault(state.settings.secret_key)
    created, token = create_organisation(
        session,
        vault,
        name=body.name,
        name_en=body.name_en,
        uscc=body.uscc,
        roles=body.roles,
        gln=body.gln,
    )
    secret = None
    if body.webhook_url is not None:
        policy = AddressPolicy.from_settings(state.settings)
        secret = notify.set_webhook(session, vault, created, str(body.webhook_url), policy=policy)
    return OrgCreated(org=OrgOut.model_validate(created), token=token, webhook_secret=secret)


@router.get("/orgs/me", response_model=OrgOut, responses=error_responses())
def who_am_i(org: CurrentOrg) -> OrgOut:
    return OrgOut.model_validate(org)


@router.post("/locations", status_code=201, response_model=LocationOut, responses=error_responses(errors.InvalidGLN))
def add_location(body: LocationCreate, org: CurrentOrg, session: SessionDep) -> LocationOut:
    location = create_location(session, org, **body.model_dump())
    return LocationOut.model_validate(location)


@router.get("/locations", response_model=list[LocationOut], responses=error_responses())
def my_locations(org: CurrentOrg, session: SessionDep) -> list[LocationOut]:
    rows = session.scalars(select(Location).where(Location.org_id == org.id).order_by(Location.id))
    return [LocationOut.model_validate(r) for r in rows]
