"""Forward and back traces of the trade graph, and one-click investigations (一键排查).

``/trace/forward`` and ``/trace/back`` must be registered before ``/trace/{code:path}`` (routes/trace.py), which
would otherwise take "forward" for a code.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from fastapi import APIRouter
from pydantic import Field, model_validator
from sqlalchemy import select

from ledger import errors
from ledger.identifiers import DigitalLink, parse_code
from ledger.models import Organisation, Role
from recall.investigate import Direction, describe_investigation, describe_trace, has_held, investigate, roots_of
from recall.walk import back, forward
from trace_api.deps import CurrentOrg, SessionDep, require_role
from trace_api.errors import error_responses
from trace_api.schemas.base import Request, Response

router = APIRouter(prefix="/api/v1", tags=["trace"])


class OrgRef(Response):
    id: int
    name: str
    uscc: str
    roles: list[str]


class BatchRef(Response):
    id: int
    gtin: str
    lot: str
    product: str
    quantity: int = Field(description="units registered (or produced by the transformation)")
    registrant: OrgRef


class SentTo(Response):
    org: OrgRef
    quantity: int


class HolderOut(Response):
    org: OrgRef
    batch_id: int
    gtin: str
    lot: str
    received: int
    on_hand: int
    shipped: int
    consumed: int = Field(description="sold or administered")
    destroyed: int
    transformed: int = Field(description="used as the input of a transformation")
    sent_to: list[SentTo]
    path: list[str] = Field(description="organisations from the start of the trace to this holder (one shortest)")


class EdgeOut(Response):
    from_org: str | None = Field(description="USCC of the sender; none when goods come into being")
    to_org: str | None = Field(description="USCC of the receiver; none when goods leave the trade graph")
    batch_id: int
    quantity: int
    kind: str
    event_id: str


class TraceOut(Response):
    direction: Literal["forward", "back"]
    roots: list[int] = Field(description="the batches the trace starts from")
    batches: list[BatchRef]
    holders: list[HolderOut]
    holders_total: int = Field(description="holder positions in the trace; an investigation may list fewer")
    edges: list[EdgeOut]


class InvestigationIn(Request):
    location_id: int | None = Field(default=None, ge=1, le=2**63 - 1, description="where the positive test was taken")
    org_uscc: str | None = Field(default=None, description="or the whole organisation, by USCC")
    since: dt.datetime
    until: dt.datetime
    max_holders: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="holder positions listed per trace, those with goods on hand first; holders_total counts all "
        "(the batches at one stall can reach a million positions nationwide: trace a batch for its full list)",
    )
    edges: bool = Field(default=False, description="also list every trade edge of both traces (large)")

    @model_validator(mode="after")
    def _one_place(self) -> InvestigationIn:
        if (self.location_id is None) == (self.org_uscc is None):
            raise ValueError("give exactly one of location_id and org_uscc")
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise ValueError("since and until need a time zone offset")
        if self.since >= self.until:
            raise ValueError("since must be before until")
        return self


class PresentOut(Response):
    batch_id: int
    gtin: str
    lot: str
    product: str
    arrived_before_until: int
    on_hand_at_since: int
    arrived_in_window: int


class InvestigationOut(Response):
    org: OrgRef
    location_id: int | None
    since: dt.datetime
    until: dt.datetime
    present: list[PresentOut]
    sources: TraceOut
    spread: TraceOut
    other_holders: list[OrgRef]


TRACE_ERRORS = error_responses(
    errors.RoleRequired, errors.UnknownBatch, errors.UnknownCode, errors.InvalidDigitalLink, errors.InvalidGTIN
)


@router.get("/trace/forward", response_model=TraceOut, responses=TRACE_ERRORS)
def trace_forward(
    org: CurrentOrg, session: SessionDep, gtin: str | None = None, lot: str | None = None, code: str | None = None
) -> TraceOut:
    """Every holder downstream of a batch (``gtin`` + ``lot``) or a code (any form: Digital Link, element string,
    EPC URN; an item, or a case/pallet for the items in it), through transformations and aggregation."""
    return _trace(session, org, "forward", _link(gtin, lot, code))


@router.get("/trace/back", response_model=TraceOut, responses=TRACE_ERRORS)
def trace_back(
    org: CurrentOrg, session: SessionDep, gtin: str | None = None, lot: str | None = None, code: str | None = None
) -> TraceOut:
    """The sources of a batch or code: who held it on the way, and the inputs that made it, at any depth."""
    return _trace(session, org, "back", _link(gtin, lot, code))


@router.post(
    "/investigations",
    response_model=InvestigationOut,
    responses=error_responses(errors.RoleRequired, errors.NotFound, errors.UnknownOrganisation),
)
def create_investigation(body: InvestigationIn, org: CurrentOrg, session: SessionDep) -> InvestigationOut:
    """One-click investigation (一键排查): the batches present at a place in a window, their sources and every
    other holder. Regulators only. It writes nothing, so it needs no idempotency key."""
    require_role(org, Role.REGULATOR)
    org_id = None
    if body.org_uscc is not None:
        org_id = session.scalar(select(Organisation.id).where(Organisation.uscc == body.org_uscc))
        if org_id is None:
            raise errors.UnknownOrganisation(f"no organisation with USCC {body.org_uscc}", uscc=body.org_uscc)
    found = investigate(session, location_id=body.location_id, org_id=org_id, since=body.since, until=body.until)
    described = describe_investigation(session, found, edges=body.edges, max_holders=body.max_holders)
    return InvestigationOut.model_validate(described)


def _link(gtin: str | None, lot: str | None, code: str | None) -> DigitalLink:
    if code is not None:
        if gtin is not None or lot is not None:
            raise errors.InvalidInput("name the goods by code, or by gtin and lot, not both")
        return parse_code(code)
    if gtin is None or lot is None:
        raise errors.InvalidInput("a trace needs ?code=… or ?gtin=…&lot=…")
    return DigitalLink(gtin=gtin, lot=lot)


def _trace(session: SessionDep, org: Organisation, direction: Direction, link: DigitalLink) -> TraceOut:
    batch_ids, code_ids = roots_of(session, link)
    walk = forward if direction == "forward" else back
    trace = walk(session, batch_ids=batch_ids, code_ids=code_ids)
    if not org.has_role(Role.REGULATOR) and not has_held(session, org.id, trace):
        raise errors.RoleRequired(
            "only a regulator, or an organisation that held these goods, may trace them",
            required=[Role.REGULATOR.value],
        )
    return TraceOut.model_validate(describe_trace(session, trace, direction))
