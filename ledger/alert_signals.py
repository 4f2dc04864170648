"""What raises an alert (docs/alerts.md): a refused scan read for what it says about the goods, consumers' lookups
of a sold code, and two scans of one code too far apart for the time between them.

Each function returns :class:`ledger.alerts.Signal` values (or raises the alert itself, for the worker's
counts); none runs in a scan's or a lookup's transaction. A refused scan's signals are recorded in a transaction
of their own after the refusal was rolled back, so the refusal stays a clean 4xx that wrote nothing; lookups and
accepted scans are looked at by the worker, off the request path.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import errors
from ledger.alerts import Signal, link_detail
from ledger.identifiers import DigitalLink, parse_code
from ledger.journey import Step, item_journey
from ledger.models import AlertKind, Batch, Code, CodeKind, CodeLookups, CodeStatus, Location, Organisation, Product
from ledger.regions import distance_km, region

# Faster than this between two scans of one code, door to door, is two codes, not one trip (a airliner cruises
# at ≈850 km/h, and nobody scans at the gate).
SPEED_LIMIT_KMH: Final = 900.0
# Regions are placed at their seat: two scans in neighbouring districts can be tens of km "apart" while the
# goods stood still. Below this no speed is read into the distance.
MIN_DISTANCE_KM: Final = 100.0
# A buyer and their family check a pack a few times; past this many lookups after its sale, its label has most
# likely been copied onto other packs.
LOOKUPS_AFTER_SALE: Final = 20
CONSUMED: Final = frozenset({CodeStatus.SOLD, CodeStatus.ADMINISTERED})


def refusal_signals(
    session: Session, org: Organisation, error: errors.LotlineError, *, location_id: int | None, at: datetime
) -> list[Signal]:
    """What a refused trade scan says: a code settled twice, goods outside their recorded chain, a forged code."""
    context = error.context
    scanned = str(context.get("code") or "")
    code_id = context.get("code_id")
    code = session.get(Code, code_id) if isinstance(code_id, int) else None
    attempt = _attempt(session, org, location_id, at)
    signals: list[Signal] = []
    if isinstance(error, errors.AlreadyConsumed | errors.NotHolder) and code is not None:
        kind = AlertKind.SETTLED_TWICE if isinstance(error, errors.AlreadyConsumed) else AlertKind.OUTSIDE_CHAIN
        detail = {**_code_facts(session, code, kind), **attempt}
        scanned = scanned or f"code:{code.id}"
        signals.append(
            Signal(kind, scanned, at, code_id=code.id, subject_org_id=org.id, location_id=location_id, detail=detail)
        )
        signals += _travel(session, code, location_id=location_id, subject_org_id=org.id, at=at)
    batch_id = context.get("batch_id")
    if isinstance(error, errors.QuantityExceeded) and context.get("on_hand") == 0 and isinstance(batch_id, int):
        detail = {"requested": context.get("requested"), **attempt}
        signals.append(
            Signal(
                AlertKind.OUTSIDE_CHAIN,
                f"batch:{batch_id}",
                at,
                batch_id=batch_id,
                subject_org_id=org.id,
                location_id=location_id,
                detail=detail,
            )
        )
    if type(error) is errors.UnknownCode and scanned:
        signals += _forged(session, org, scanned, "never_issued", location_id, at)
    return signals


def _code_facts(session: Session, code: Code, kind: AlertKind) -> dict[str, Any]:
    """For a second settlement, the first one it repeats (who, where, when: what the NHSA asks for); for goods
    outside their chain, who holds them according to the ledger."""
    if kind is AlertKind.SETTLED_TWICE:
        steps = item_journey(session, code)
        first = _step_fact(steps[-1]) if steps else {"at": code.consumed_at.isoformat() if code.consumed_at else None}
        return {"status": code.status.value, "first": first}
    holder = session.get(Organisation, code.holder_org_id) if code.holder_org_id else None
    return {"status": code.status.value, "holder": holder.name if holder else None}


def forged_signal(
    session: Session, org: Organisation, scanned: str, verdict: str, *, location_id: int | None, at: datetime
) -> list[Signal]:
    """A code a station found not genuine (never issued, or its signature missing, altered or foreign)."""
    return _forged(session, org, scanned, verdict, location_id, at)


def _forged(
    session: Session, org: Organisation, scanned: str, verdict: str, location_id: int | None, at: datetime
) -> list[Signal]:
    try:
        # A refusal names the code by its Digital Link path; read it on GS1's own resolver host.
        link = parse_code(f"https://id.gs1.org{scanned}" if scanned.startswith("/") else scanned)
    except errors.InvalidInput:
        return []  # not a code at all: a misread, not a forgery
    if link.gtin is None or (link.serial is None and link.lot is None):
        return []
    code_id = _code_id(session, link)
    detail = {"verdict": verdict, "link": link_detail(link), **_attempt(session, org, location_id, at)}
    return [
        Signal(
            AlertKind.FORGED_CODE,
            link.path,
            at,
            code_id=code_id,
            gtin=link.gtin,
            subject_org_id=org.id,
            location_id=location_id,
            detail=detail,
        )
    ]


def _code_id(session: Session, link: DigitalLink) -> int | None:
    if link.serial is None:
        return None
    return session.scalar(
        select(Code.id)
        .join(Batch, Batch.id == Code.batch_id)
        .join(Product, Product.id == Batch.product_id)
        .where(Product.gtin == link.gtin, Code.serial == link.serial, Code.kind == CodeKind.ITEM)
    )


def _attempt(session: Session, org: Organisation, location_id: int | None, at: datetime) -> dict[str, Any]:
    location = session.get(Location, location_id) if location_id else None
    return {
        "attempt": {
            "by": org.name,
            "at": at.isoformat(),
            "location": location.name if location else None,
            "region_code": location.region_code if location else None,
        }
    }


def _step_fact(step: Step) -> dict[str, Any]:
    return {
        "event_id": step.event_id,
        "at": step.event_time.isoformat(),
        "by": step.by.name,
        "step": step.what,
        "region_code": step.region_code,
    }


def _travel(
    session: Session, code: Code, *, location_id: int | None, subject_org_id: int, at: datetime
) -> list[Signal]:
    """Impossible travel between the code's last located step and a scan at ``location_id`` at ``at``."""
    location = session.get(Location, location_id) if location_id else None
    here = region(location.region_code if location else None)
    if here is None or here.point is None:
        return []
    before = [s for s in item_journey(session, code) if s.region_code and s.event_time <= at]
    return travel_signals(code, before, here.code, at, subject_org_id=subject_org_id, location_id=location_id)


def travel_signals(
    code: Code, before: list[Step], region_code: str, at: datetime, *, subject_org_id: int, location_id: int | None
) -> list[Signal]:
    """A signal when the last step of ``before`` with a region is too far from ``region_code`` for the time."""
    here = region(region_code)
    last = before[-1] if before else None
    there = region(last.region_code) if last else None
    if last is None or here is None or there is None or here.point is None or there.point is None:
        return []
    km = distance_km(there.point, here.point)
    hours = max((at - last.event_time).total_seconds() / 3600, 1 / 60)
    if km < MIN_DISTANCE_KM or km / hours <= SPEED_LIMIT_KMH:
        return []
    detail = {
        "from": _step_fact(last),
        "to": {"at": at.isoformat(), "region_code": region_code},
        "km": round(km),
        "hours": round(hours, 2),
    }
    return [
        Signal(
            AlertKind.IMPOSSIBLE_TRAVEL,
            f"code:{code.id}",
            at,
            code_id=code.id,
            subject_org_id=subject_org_id,
            location_id=location_id,
            detail=detail,
        )
    ]


def count_lookup(session: Session, code_id: int, at: datetime) -> Signal | None:
    """Count a consumer's lookup of a sold or administered code; a signal when the count passes the limit."""
    code = session.get(Code, code_id)
    if code is None or code.status not in CONSUMED:
        return None
    counted = session.get(CodeLookups, code_id, with_for_update=True)
    if counted is None:
        counted = CodeLookups(code_id=code_id, count=0, first_at=at, last_at=at)
        session.add(counted)
    counted.count += 1
    counted.first_at, counted.last_at = min(counted.first_at, at), max(counted.last_at, at)
    session.flush()
    if counted.count <= LOOKUPS_AFTER_SALE:
        return None
    detail = {
        "lookups": counted.count,
        "first_at": counted.first_at.isoformat(),
        "limit": LOOKUPS_AFTER_SALE,
        "sold_at": code.consumed_at.isoformat() if code.consumed_at else None,
    }
    return Signal(AlertKind.FREQUENT_LOOKUPS, f"code:{code_id}", at, code_id=code_id, detail=detail)
