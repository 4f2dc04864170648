"""Alerts over HTTP: the brand owner's and the regulators' list, one alert, a regulator taking one up, and the
reports of codes a station found not genuine."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ledger import errors
from ledger.models import AlertKind, AlertStatus
from trace_api.alerts import service
from trace_api.alerts.schemas import AlertOut, CodeReport
from trace_api.web.deps import CurrentOrg, SessionDep, StateDep
from trace_api.web.errors import error_responses
from trace_api.web.schemas import RowId

router = APIRouter(prefix="/api/v1", tags=["alerts"])


@router.get("/alerts", response_model=list[AlertOut], responses=error_responses())
def list_alerts(
    org: CurrentOrg,
    session: SessionDep,
    kind: AlertKind | None = None,
    status: AlertStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AlertOut]:
    """Alerts newest first: a regulator sees all of them, a brand owner those about its products."""
    alerts = service.list_alerts(session, org, kind=kind, status=status, limit=limit)
    return service.alert_views(session, alerts)


@router.get("/alerts/{alert_id}", response_model=AlertOut, responses=error_responses(errors.NotFound))
def get_alert(alert_id: RowId, org: CurrentOrg, session: SessionDep) -> AlertOut:
    [view] = service.alert_views(session, [service.visible_alert(session, org, alert_id)])
    return view


@router.post(
    "/alerts/{alert_id}/investigation",
    response_model=AlertOut,
    responses=error_responses(errors.RoleRequired, errors.NotFound),
)
def investigate(alert_id: RowId, org: CurrentOrg, session: SessionDep) -> AlertOut:
    """A regulator takes an alert up: it is marked as under investigation (once; again is a no-op), and its
    ``investigation_url`` opens the one-click investigation of its place over the days before it."""
    [view] = service.alert_views(session, [service.take_up(session, org, alert_id)])
    return view


@router.post(
    "/alerts/reports",
    status_code=201,
    response_model=list[AlertOut],
    responses=error_responses(errors.NotFound, errors.InvalidDigitalLink),
)
def report_code(body: CodeReport, org: CurrentOrg, session: SessionDep, state: StateDep) -> list[AlertOut]:
    """A code a station found not genuine when it checked the signature offline: recorded as a forged-code alert.
    The same code reported again by the same organisation counts up the alert's occurrences."""
    return service.alert_views(session, service.report(session, state.signer, org, body))
