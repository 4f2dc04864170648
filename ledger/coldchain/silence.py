"""Loggers gone silent: a gateway-fed log that has posted nothing for longer than a gap, while its goods still need
watching (a shipment not yet received, a store or holding with goods on hand), is an ongoing data gap. Silence is
not treated as in range. When readings come again, the gap they close is the same excursion, which gets its end.

Logger files are left out: they arrive after the fact, so the time since their last reading says nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.coldchain.engine import DATA_GAP, Finding, FindingKind
from ledger.coldchain.evaluation import record_finding
from ledger.coldchain.goods import goods_of
from ledger.coldchain.readings import max_gap_ms
from ledger.models import (
    Excursion,
    IngestKind,
    LogScope,
    ReadingIngest,
    Shipment,
    ShipmentStatus,
    TemperatureLog,
)


def check_silent_loggers(session: Session, now: datetime) -> list[Excursion]:
    """Record (or bring up to date) an ongoing data gap on each live gateway log silent since before ``now``;
    returns the excursions found new."""
    now_ms = round(now.timestamp() * 1000)
    fed_by_gateways = select(ReadingIngest.log_id).where(ReadingIngest.kind == IngestKind.GATEWAY)
    logs = session.scalars(
        select(TemperatureLog).where(TemperatureLog.id.in_(fed_by_gateways), TemperatureLog.last_ms.is_not(None))
    )
    found = []
    for log in logs:
        assert log.last_ms is not None
        if now_ms - log.last_ms <= max_gap_ms(log.interval_s) or _arrived(session, log):
            continue
        goods = [item for items in goods_of(session, log).values() for item in items]
        if not goods:
            continue
        silence = Finding(
            FindingKind.DATA_GAP, log.last_ms, now_ms, now_ms - log.last_ms, None, None, (DATA_GAP,), ongoing=True
        )
        last_ingest = session.scalar(select(func.max(ReadingIngest.event_seq)).where(ReadingIngest.log_id == log.id))
        assert last_ingest is not None
        excursion, created = record_finding(session, log, "", silence, goods, last_ingest)
        if created:
            found.append(excursion)
    return found


def _arrived(session: Session, log: TemperatureLog) -> bool:
    """A shipment received whole needs no more watching from its truck's logger."""
    if log.scope is not LogScope.SHIPMENT:
        return False
    shipment = session.get(Shipment, log.shipment_id)
    return shipment is not None and shipment.status is ShipmentStatus.RECEIVED
