"""Alerts as their readers see them: the brand owner its own products' alerts, a regulator all of them."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import errors
from ledger.alert_signals import forged_signal
from ledger.alerts import raise_alert
from ledger.models import (
    Alert,
    AlertKind,
    AlertStatus,
    Batch,
    Code,
    Event,
    Location,
    Organisation,
    Product,
    Role,
    utcnow,
)
from ledger.recorder import Signer
from trace_api.alerts.schemas import AlertOut, CodeReport
from trace_api.web.i18n import LOCAL_TZ

# The window an investigation of an alert looks at: the days before it, where the copied goods came through.
INVESTIGATION_WINDOW: Final = timedelta(days=14)


def list_alerts(
    session: Session, org: Organisation, *, kind: AlertKind | None, status: AlertStatus | None, limit: int
) -> list[Alert]:
    """Newest first; tenant-scoped: a regulator sees every alert, anyone else those about its own products."""
    query = select(Alert).order_by(Alert.last_seen_at.desc(), Alert.id.desc()).limit(limit)
    if not org.has_role(Role.REGULATOR):
        query = query.where(Alert.owner_org_id == org.id)
    if kind is not None:
        query = query.where(Alert.kind == kind)
    if status is not None:
        query = query.where(Alert.status == status)
    return list(session.scalars(query))


def visible_alert(session: Session, org: Organisation, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None or not (org.has_role(Role.REGULATOR) or alert.owner_org_id == org.id):
        raise errors.NotFound("no such alert among those you may see", alert_id=alert_id)
    return alert


def take_up(session: Session, org: Organisation, alert_id: int) -> Alert:
    """A regulator turns an alert into an investigation: it is marked, and its investigation is linked."""
    if not org.has_role(Role.REGULATOR):
        raise errors.RoleRequired("only a regulator investigates an alert", required=["regulator"])
    alert = visible_alert(session, org, alert_id)
    if alert.status is AlertStatus.OPEN:
        alert.status, alert.investigated_by_org_id, alert.investigated_at = AlertStatus.INVESTIGATING, org.id, utcnow()
    return alert


def report(session: Session, signer: Signer, org: Organisation, body: CodeReport) -> list[Alert]:
    """A code a station found not genuine: a forged-code alert (nothing else is recorded)."""
    if body.location_id is not None:
        location = session.get(Location, body.location_id)
        if location is None or location.org_id != org.id:
            raise errors.NotFound("no such location of yours", location_id=body.location_id)
    at = body.seen_at or utcnow()
    if at.tzinfo is None:
        raise errors.InvalidInput("seen_at needs a time zone offset")
    signals = forged_signal(session, org, body.code, body.verdict, location_id=body.location_id, at=at)
    if not signals:
        raise errors.InvalidDigitalLink("the report names no GS1 code with a GTIN and a lot or serial", code=body.code)
    return [raise_alert(session, signer, signal) for signal in signals]


def alert_views(session: Session, alerts: list[Alert]) -> list[AlertOut]:
    """The alerts with the names they refer to, in a few queries whatever their number."""
    orgs = _orgs(session, {a.subject_org_id for a in alerts})
    locations = _locations(session, {a.location_id for a in alerts})
    events = dict(
        session.execute(select(Event.seq, Event.event_id).where(Event.seq.in_({a.event_seq for a in alerts}))).all()
    )
    code_ids = {a.code_id for a in alerts if a.code_id}
    code_batches = dict(session.execute(select(Code.id, Code.batch_id).where(Code.id.in_(code_ids))).all())
    batch_ids = {a.batch_id for a in alerts} | set(code_batches.values())
    lots = {
        batch_id: (gtin, lot, name)
        for batch_id, gtin, lot, name in session.execute(
            select(Batch.id, Product.gtin, Batch.lot, Product.name)
            .join(Product, Product.id == Batch.product_id)
            .where(Batch.id.in_(batch_ids - {None}))
        )
    }
    views = []
    for alert in alerts:
        batch_id = alert.batch_id or (code_batches.get(alert.code_id) if alert.code_id else None)
        gtin, lot, product = lots.get(batch_id, (None, None, None)) if batch_id else (None, None, None)
        subject, location = orgs.get(alert.subject_org_id), locations.get(alert.location_id)
        views.append(
            AlertOut(
                id=alert.id,
                kind=alert.kind.value,
                status=alert.status.value,
                scanned=alert.scanned,
                code_id=alert.code_id,
                batch_id=batch_id,
                gtin=gtin or _link_part(alert, "gtin"),
                lot=lot or _link_part(alert, "lot"),
                product=product,
                subject=subject.name if subject else None,
                subject_uscc=subject.uscc if subject else None,
                location=location.name if location else None,
                region_code=location.region_code if location else None,
                detail=alert.detail,
                occurrences=alert.occurrences,
                first_seen_at=alert.first_seen_at,
                last_seen_at=alert.last_seen_at,
                event_id=events[alert.event_seq],
                investigation_url=investigation_url(alert, subject),
            )
        )
    return views


def investigation_url(alert: Alert, subject: Organisation | None) -> str | None:
    """The one-click investigation of where the alert was raised, over the days before it (Beijing time)."""
    place = str(alert.location_id) if alert.location_id else subject.uscc if subject else None
    if place is None:
        return None
    until = alert.last_seen_at.astimezone(LOCAL_TZ).replace(second=0, microsecond=0, tzinfo=None)
    until += timedelta(minutes=1)
    since = until - INVESTIGATION_WINDOW
    return "/app/investigations?" + urlencode({"place": place, "since": _minute(since), "until": _minute(until)})


def _minute(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")


def _link_part(alert: Alert, name: str) -> str | None:
    link = alert.detail.get("link")
    value = link.get(name) if isinstance(link, dict) else None
    return value if isinstance(value, str) else None


def _orgs(session: Session, ids: set[int | None]) -> dict[int | None, Organisation]:
    wanted = {i for i in ids if i is not None}
    return {row.id: row for row in session.scalars(select(Organisation).where(Organisation.id.in_(wanted)))}


def _locations(session: Session, ids: set[int | None]) -> dict[int | None, Location]:
    wanted = {i for i in ids if i is not None}
    return {row.id: row for row in session.scalars(select(Location).where(Location.id.in_(wanted)))}
