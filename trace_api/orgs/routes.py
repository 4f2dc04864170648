"""Organisations over HTTP: register one, who am I, locations, and the webhook recalls are told on."""

from __future__ import annotations

from fastapi import APIRouter, status

from ledger import errors
from ledger.models import Role
from ledger.registry import create_location
from trace_api.orgs import service
from trace_api.orgs.schemas import (
    LocationCreate,
    LocationOut,
    OrgCreate,
    OrgCreated,
    OrgOut,
    WebhookOut,
    WebhookSet,
)
from trace_api.web.deps import CurrentOrg, SessionDep, StateDep, require_role
from trace_api.web.errors import error_responses

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
    created, token, secret = service.register_organisation(
        session,
        state.settings,
        name=body.name,
        name_en=body.name_en,
        uscc=body.uscc,
        roles=body.roles,
        gln=body.gln,
        webhook_url=str(body.webhook_url) if body.webhook_url is not None else None,
    )
    return OrgCreated(org=OrgOut.model_validate(created), token=token, webhook_secret=secret)


@router.get("/orgs/me", response_model=OrgOut, responses=error_responses())
def who_am_i(org: CurrentOrg) -> OrgOut:
    return OrgOut.model_validate(org)


@router.put("/orgs/me/webhook", response_model=WebhookOut, responses=error_responses(errors.InvalidInput))
def set_webhook(body: WebhookSet, org: CurrentOrg, session: SessionDep, state: StateDep) -> WebhookOut:
    """Set, rotate or remove the caller's webhook. Each call makes a new secret, shown only in this answer
    (which is why this write takes no Idempotency-Key: a replay would have to store the secret)."""
    url = str(body.url) if body.url is not None else None
    return WebhookOut(url=url, secret=service.set_webhook(session, state.settings, org, url))


@router.post("/locations", status_code=201, response_model=LocationOut, responses=error_responses(errors.InvalidGLN))
def add_location(body: LocationCreate, org: CurrentOrg, session: SessionDep) -> LocationOut:
    return LocationOut.model_validate(create_location(session, org, **body.model_dump()))


@router.get("/locations", response_model=list[LocationOut], responses=error_responses())
def my_locations(org: CurrentOrg, session: SessionDep) -> list[LocationOut]:
    return [LocationOut.model_validate(r) for r in service.locations_of(session, org)]
