"""Traces over HTTP. ``/trace/forward`` and ``/trace/back`` are declared before ``/trace/{code:path}``, which
would otherwise take "forward" for a code."""

from __future__ import annotations

from fastapi import APIRouter

from ledger import errors
from ledger.identifiers import parse_code
from trace_api.tracing import service
from trace_api.tracing.schemas import CodeTrace
from trace_api.web.deps import CurrentOrg, SessionDep, StateDep
from trace_api.web.errors import error_responses
from trace_api.web.trace_views import TraceOut

router = APIRouter(prefix="/api/v1", tags=["trace"])

TRACE_ERRORS = error_responses(
    errors.RoleRequired, errors.UnknownBatch, errors.UnknownCode, errors.InvalidDigitalLink, errors.InvalidGTIN
)


@router.get("/trace/forward", response_model=TraceOut, responses=TRACE_ERRORS)
def trace_forward(
    org: CurrentOrg, session: SessionDep, gtin: str | None = None, lot: str | None = None, code: str | None = None
) -> TraceOut:
    """Every holder downstream of a batch (``gtin`` + ``lot``) or a code (any form: Digital Link, element string,
    EPC URN; an item, or a case/pallet for the items in it), through transformations and aggregation."""
    return service.trade_trace(session, org, "forward", service.link_of(gtin, lot, code))


@router.get("/trace/back", response_model=TraceOut, responses=TRACE_ERRORS)
def trace_back(
    org: CurrentOrg, session: SessionDep, gtin: str | None = None, lot: str | None = None, code: str | None = None
) -> TraceOut:
    """The sources of a batch or code: who held it on the way, and the inputs that made it, at any depth."""
    return service.trade_trace(session, org, "back", service.link_of(gtin, lot, code))


@router.get(
    "/trace/{code:path}",
    response_model=CodeTrace,
    responses=error_responses(errors.UnknownCode, errors.InvalidDigitalLink),
)
def trace(code: str, org: CurrentOrg, session: SessionDep, state: StateDep) -> CodeTrace:
    """The journey of an item or batch, named by any code form (Digital Link, element string, EPC URN).
    Steps the caller took part in are in full; others as the public sees them; regulators see everything."""
    return service.code_trace(session, org, parse_code(code), state.settings.public_url)
