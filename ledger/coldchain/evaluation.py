"""Judging a log when readings arrive: each profile's rules over what it has not seen yet (or over the whole
series when readings came out of order), and the excursions found, recorded once and kept up to date.

An excursion is keyed by its log, profile, kind and start: a later evaluation that sees the same stretch again
(an ongoing excursion that has now ended, say) updates the record instead of adding one. A new excursion holds
every batch of that profile at the log's holder (a data gap, every batch of the log). A shipment's log is judged
from the shipping event to the last receipt, so a logger started in a warm dock before loading does not count.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.coldchain.engine import DATA_GAP, Evaluation, Finding, FindingKind
from ledger.coldchain.goods import LogGoods, goods_of
from ledger.coldchain.holds import hold_and_tell
from ledger.coldchain.readings import load, max_gap_ms
from ledger.models import (
    Event,
    Excursion,
    ExcursionKind,
    ExcursionStatus,
    LogEvaluation,
    LogScope,
    Movement,
    MovementKind,
    Shipment,
    ShipmentStatus,
    TemperatureLog,
    TemperatureReading,
    utcnow,
)


@dataclass
class Outcome:
    """What one evaluation of a log did: excursions it recorded first, and those it brought up to date."""

    new: list[Excursion] = field(default_factory=list)
    updated: list[Excursion] = field(default_factory=list)


@dataclass(frozen=True)
class Appended:
    """Readings an ingest added after everything its log had (which ended at ``previous_last_ms``)."""

    previous_last_ms: int | None
    times: list[int]
    lows: list[float]
    highs: list[float]


def evaluate_log(session: Session, log: TemperatureLog, *, appended: Appended | None, evidence_seq: int) -> Outcome:
    """Evaluate ``log`` after an ingest. With ``appended``, each saved evaluation goes on from where it stopped;
    without (readings came out of order), each starts again from the first reading. ``evidence_seq`` is the event
    that anchors the readings, cited by excursions found now."""
    outcome = Outcome()
    start_ms, end_ms = window_of(session, log)
    found: dict[tuple[str, FindingKind, int], tuple[Finding, list[LogGoods]]] = {}
    whole: tuple[list[int], list[float], list[float]] | None = None
    by_profile = goods_of(session, log)
    for key, goods in by_profile.items():
        saved = session.get(LogEvaluation, (log.id, key))
        gap = max_gap_ms(log.interval_s)
        if appended is not None and saved is not None:
            evaluation = Evaluation(goods[0].profile, gap, saved.state)
            closed = evaluation.feed(*_new_readings(session, log, evaluation, appended, start_ms, end_ms))
        else:
            whole = whole or load(session, log.id, after_ms=_before(start_ms), until_ms=end_ms)
            evaluation = Evaluation(goods[0].profile, gap)
            closed = evaluation.feed(*whole)
        for finding in [*closed, *evaluation.ongoing()]:
            profile_key = "" if finding.kind is FindingKind.DATA_GAP else key
            found.setdefault((profile_key, finding.kind, finding.start_ms), (finding, []))[1].extend(goods)
        _save(session, saved, log.id, key, evaluation)
    every = [item for goods in by_profile.values() for item in goods]
    for finding in coverage_gaps(session, log, start_ms, end_ms) if every else []:
        found.setdefault(("", finding.kind, finding.start_ms), (finding, every))
    for (profile_key, _kind, _start), (finding, goods) in sorted(found.items(), key=lambda item: item[0][2]):
        excursion, created = record_finding(session, log, profile_key, finding, goods, evidence_seq)
        (outcome.new if created else outcome.updated).append(excursion)
    if appended is None:
        _end_stale(session, log, {(key, kind.value, start) for key, kind, start in found})
    return outcome


def _new_readings(
    session: Session,
    log: TemperatureLog,
    evaluation: Evaluation,
    appended: Appended,
    start_ms: int | None,
    end_ms: int | None,
) -> tuple[list[int], list[float], list[float]]:
    """What a saved evaluation has not seen: the ingest's own readings when it had seen all the log held before
    (the usual case, no read back), else the log's readings after its last one."""
    if evaluation.last_ms is None or evaluation.last_ms != appended.previous_last_ms:
        after = evaluation.last_ms if evaluation.last_ms is not None else _before(start_ms)
        return load(session, log.id, after_ms=after, until_ms=end_ms)
    low, high = start_ms if start_ms is not None else -(2**63), end_ms if end_ms is not None else 2**63
    kept = [i for i, t in enumerate(appended.times) if low <= t <= high]
    if len(kept) == len(appended.times):
        return appended.times, appended.lows, appended.highs
    return [appended.times[i] for i in kept], [appended.lows[i] for i in kept], [appended.highs[i] for i in kept]


def window_of(session: Session, log: TemperatureLog) -> tuple[int | None, int | None]:
    """The stretch of a log that counts: for a shipment, from its shipping event to its last receipt."""
    if log.scope is not LogScope.SHIPMENT:
        return None, None
    shipment = session.get(Shipment, log.shipment_id)
    assert shipment is not None
    shipped = session.scalar(select(Event.event_time).where(Event.seq == shipment.event_seq))
    received = None
    if shipment.status is ShipmentStatus.RECEIVED:
        received = session.scalar(
            select(func.max(Event.event_time))
            .join(Movement, Movement.event_seq == Event.seq)
            .where(Movement.shipment_id == shipment.id, Movement.kind == MovementKind.RECEIVE)
        )
    return _ms(shipped), _ms(received)


def coverage_gaps(session: Session, log: TemperatureLog, start_ms: int | None, end_ms: int | None) -> list[Finding]:
    """A shipment's logger must cover the trip: a silence longer than a gap between the shipping event and the
    first reading, or between the last reading and the receipt, is a data gap too (a logger started late, or one
    that stopped on the way, is not a trip kept in range)."""
    if start_ms is None:
        return []
    gap = max_gap_ms(log.interval_s)
    r = TemperatureReading
    query = select(func.min(r.taken_ms), func.max(r.taken_ms)).where(r.log_id == log.id, r.taken_ms >= start_ms)
    if end_ms is not None:
        query = query.where(r.taken_ms <= end_ms)
    first, last = session.execute(query).one()
    edges = [(start_ms, first if first is not None else end_ms)]
    if first is not None and end_ms is not None:
        edges.append((last, end_ms))
    return [
        Finding(FindingKind.DATA_GAP, a, b, b - a, None, None, (DATA_GAP,))
        for a, b in edges
        if a is not None and b is not None and b - a > gap
    ]


def _before(start_ms: int | None) -> int | None:
    return None if start_ms is None else start_ms - 1


def _ms(moment: datetime | None) -> int | None:
    return None if moment is None else round(moment.timestamp() * 1000)


def moment(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def _save(session: Session, saved: LogEvaluation | None, log_id: int, key: str, evaluation: Evaluation) -> None:
    if saved is None:
        saved = LogEvaluation(log_id=log_id, profile_key=key, state={}, updated_at=utcnow())
        session.add(saved)
    saved.state, saved.last_ms, saved.updated_at = evaluation.state(), evaluation.last_ms, utcnow()


def record_finding(
    session: Session,
    log: TemperatureLog,
    profile_key: str,
    finding: Finding,
    goods: Sequence[LogGoods],
    evidence_seq: int,
) -> tuple[Excursion, bool]:
    """The excursion of ``finding`` on ``log``, created (holding ``goods``, and telling their holder) or brought
    up to date; and whether it was created."""
    kind, started = ExcursionKind(finding.kind.value), moment(finding.start_ms)
    excursion = session.scalar(
        select(Excursion).where(
            Excursion.log_id == log.id,
            Excursion.profile_key == profile_key,
            Excursion.kind == kind,
            Excursion.started_at == started,
        )
    )
    created = excursion is None
    if excursion is None:
        excursion = Excursion(
            number=f"pending-{uuid.uuid4().hex[:24]}",
            log_id=log.id,
            profile_key=profile_key,
            kind=kind,
            rules=[],
            started_at=started,
            holder_org_id=log.holder_org_id,
            recorded_by_org_id=log.org_id,
            shipment_id=log.shipment_id,
            location_id=log.location_id,
            event_seq=evidence_seq,
            status=ExcursionStatus.OPEN,
        )
        session.add(excursion)
    excursion.rules = [*excursion.rules, *(r for r in finding.rules if r not in excursion.rules)]
    excursion.ended_at = None if finding.ongoing else moment(finding.end_ms)
    excursion.duration_s = finding.duration_ms // 1000
    excursion.min_c, excursion.max_c = finding.low_c, finding.high_c
    session.flush()
    if created:
        # The number comes from the row id: unique without a counter that concurrent evaluations would race for.
        excursion.number = f"EX-{started.year}-{excursion.id:06d}"
        hold_and_tell(session, excursion, {item.batch_id: item.quantity for item in goods})
    return excursion, created


def _end_stale(session: Session, log: TemperatureLog, seen: set[tuple[str, str, int]]) -> None:
    """A re-evaluation from the first reading may place an ongoing stretch differently (earlier readings came
    late): the old record is closed where it was last seen, and stays to be disposed of like any other."""
    ongoing = session.scalars(select(Excursion).where(Excursion.log_id == log.id, Excursion.ended_at.is_(None)))
    for excursion in ongoing:
        key = (excursion.profile_key, excursion.kind.value, _ms(excursion.started_at))
        if key not in seen:
            excursion.ended_at = moment((_ms(excursion.started_at) or 0) + excursion.duration_s * 1000)
