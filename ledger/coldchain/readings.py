"""Temperature logs and their readings: who may record for what, and the series stored and read back in bulk.

A log is one device recording for one scope. Who may record:

- a **shipment**: its sender or its receiver (a carrier's logger file comes through one of them: the ledger does
  not know which carrier moved which shipment). The goods' holder is the receiver, where they are going.
- a **location**: the organisation it belongs to, which is the holder of what is stored there.
- a **holding**: the organisation that holds (or held) the batch.

Readings are written with the driver's bulk paths, because loggers deliver tens of thousands at a time:
``COPY`` on PostgreSQL (through a temporary table when they may repeat stored instants), ``executemany`` on
SQLite, each skipping instants the log already has (a logger's file repeats what an earlier download held).
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.coldchain.errors import NotRecorder, UnknownLocation
from ledger.errors import InvalidInput, UnknownShipment
from ledger.goods import lock_batches
from ledger.models import Holding, Location, LogScope, Organisation, Shipment, TemperatureLog, TemperatureReading

PLAUSIBLE_C: Final = (-100.0, 100.0)
DEFAULT_INTERVAL_S: Final = 300
MAX_DEVICE_ID: Final = 200
# The bulk statements, spelled out: the driver's own cursors take them, below the ORM.
_SQLITE_INSERT: Final = (
    "INSERT OR IGNORE INTO temperature_readings (log_id, taken_ms, value_c, min_c, max_c, ingest_id) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)
_PG_STAGE: Final = "CREATE TEMP TABLE IF NOT EXISTS incoming_readings (LIKE temperature_readings)"
_PG_COPY_READINGS: Final = "COPY temperature_readings (log_id, taken_ms, value_c, min_c, max_c, ingest_id) FROM STDIN"
_PG_COPY_STAGED: Final = "COPY incoming_readings (log_id, taken_ms, value_c, min_c, max_c, ingest_id) FROM STDIN"
_PG_MERGE: Final = (
    "INSERT INTO temperature_readings (log_id, taken_ms, value_c, min_c, max_c, ingest_id) "
    "SELECT log_id, taken_ms, value_c, min_c, max_c, ingest_id FROM incoming_readings ON CONFLICT DO NOTHING"
)


@dataclass(frozen=True, slots=True)
class Scope:
    """What a log records: a shipment, a location, or the recording organisation's holding of a batch."""

    kind: LogScope
    id: int

    @property
    def key(self) -> str:
        return f"{self.kind.value}:{self.id}"


@dataclass(frozen=True, slots=True)
class Reading:
    """A value, or a report's extremes over its period (and its mean as the value); one of them at least."""

    taken_ms: int
    value_c: float | None
    min_c: float | None = None
    max_c: float | None = None

    @property
    def low(self) -> float:
        return _first(self.min_c, self.value_c, self.max_c)

    @property
    def high(self) -> float:
        return _first(self.max_c, self.value_c, self.min_c)


@dataclass(frozen=True, slots=True)
class Series:
    """One device's readings in strictly increasing time order."""

    device_id: str
    readings: tuple[Reading, ...]

    @property
    def times_ms(self) -> list[int]:
        return [r.taken_ms for r in self.readings]


def prepare_series(device_id: str, readings: Iterable[Reading]) -> tuple[Series, int]:
    """Check every reading, sort them by time and keep the first of any repeated instant; returns the series and
    how many repeats were dropped."""
    device_id = device_id.strip()
    if not device_id or len(device_id) > MAX_DEVICE_ID:
        raise InvalidInput(f"a device id is 1 to {MAX_DEVICE_ID} characters", device_id=device_id[:MAX_DEVICE_ID])
    ordered = sorted(readings, key=lambda r: r.taken_ms)
    kept: list[Reading] = []
    for reading in ordered:
        _check(reading)
        if kept and kept[-1].taken_ms == reading.taken_ms:
            continue
        kept.append(reading)
    if not kept:
        raise InvalidInput("no readings", device_id=device_id)
    return Series(device_id, tuple(kept)), len(ordered) - len(kept)


def _check(reading: Reading) -> None:
    values = [v for v in (reading.value_c, reading.min_c, reading.max_c) if v is not None]
    if not values:
        raise InvalidInput("a reading needs a value, a minimum or a maximum", taken_ms=reading.taken_ms)
    for value in values:
        if not (math.isfinite(value) and PLAUSIBLE_C[0] <= value <= PLAUSIBLE_C[1]):
            raise InvalidInput(f"{value} °C is not a temperature a logger records", taken_ms=reading.taken_ms)
    if reading.low > reading.high:
        raise InvalidInput("a reading's minimum is above its maximum", taken_ms=reading.taken_ms)


def _first(*values: float | None) -> float:
    return next(v for v in values if v is not None)


def holder_for(session: Session, org: Organisation, scope: Scope) -> int:
    """Lock what the scope names and return whose goods it holds; refuse an organisation that may not record it.
    The lock serialises ingests into one scope, so a log is created once and its readings arrive in turn."""
    match scope.kind:
        case LogScope.SHIPMENT:
            shipment = session.scalar(select(Shipment).where(Shipment.id == scope.id).with_for_update())
            if shipment is None:
                raise UnknownShipment(f"no shipment {scope.id}", shipment_id=scope.id)
            if org.id not in (shipment.from_org_id, shipment.to_org_id):
                raise NotRecorder(
                    f"only the sender or the receiver of shipment {scope.id} records its temperature",
                    shipment_id=scope.id,
                )
            return shipment.to_org_id
        case LogScope.LOCATION:
            location = session.scalar(select(Location).where(Location.id == scope.id).with_for_update())
            if location is None:
                raise UnknownLocation(f"no location {scope.id}", location_id=scope.id)
            if location.org_id != org.id:
                raise NotRecorder(f"location {scope.id} is not {org.name}'s", location_id=scope.id)
            return org.id
        case LogScope.HOLDING:
            # The batch is locked, not the holding: scans lock batches before holdings, and so must this.
            lock_batches(session, [scope.id])
            if session.get(Holding, (org.id, scope.id)) is None:
                raise NotRecorder(f"{org.name} has never held batch {scope.id}", batch_id=scope.id)
            return org.id


def open_log(
    session: Session, org: Organisation, scope: Scope, device_id: str, *, holder_org_id: int, interval_s: int | None
) -> TemperatureLog:
    """The log of ``device_id`` for ``scope`` recorded by ``org``, created on its first readings. A declared
    interval replaces the one the log had; the caller infers one for a new log that declares none."""
    log = session.scalar(
        select(TemperatureLog).where(
            TemperatureLog.org_id == org.id,
            TemperatureLog.device_id == device_id,
            TemperatureLog.scope_key == scope.key,
        )
    )
    if log is None:
        log = TemperatureLog(
            org_id=org.id,
            device_id=device_id,
            scope=scope.kind,
            scope_key=scope.key,
            shipment_id=scope.id if scope.kind is LogScope.SHIPMENT else None,
            location_id=scope.id if scope.kind is LogScope.LOCATION else None,
            batch_id=scope.id if scope.kind is LogScope.HOLDING else None,
            holder_org_id=holder_org_id,
            interval_s=interval_s or DEFAULT_INTERVAL_S,
            reading_count=0,
        )
        session.add(log)
        session.flush()
    elif interval_s is not None:
        log.interval_s = interval_s
    return log


def infer_interval_s(times_ms: Sequence[int]) -> int | None:
    """A logger's interval from its readings: the median spacing, to the second (None for a single reading)."""
    if len(times_ms) < 2:
        return None
    spacing = statistics.median(b - a for a, b in itertools.pairwise(times_ms))
    return max(1, round(spacing / 1000))


def max_gap_ms(interval_s: int) -> int:
    """A silence longer than this is a data gap: the interval plus a fifth of it (at least a minute) for the
    jitter of loggers' clocks and gateways' uploads. One missed reading is a gap."""
    return interval_s * 1000 + max(60_000, interval_s * 200)


def store(session: Session, log: TemperatureLog, ingest_id: int, series: Series) -> int:
    """Write the readings the log does not have yet at their instants; returns how many were new. Readings all
    after the log's last (the usual case: a logger's next download, a gateway's next batch) cannot repeat an
    instant, so PostgreSQL copies them straight in; others go through a staging table that skips repeats."""
    rows = [(log.id, r.taken_ms, r.value_c, r.min_c, r.max_c, ingest_id) for r in series.readings]
    times = series.times_ms
    appended = log.last_ms is None or times[0] > log.last_ms
    connection = session.connection()
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        if connection.dialect.name == "postgresql":
            inserted = _copy(cursor, rows, _PG_COPY_READINGS) if appended else _merge(cursor, rows)
        else:
            cursor.executemany(_SQLITE_INSERT, rows)
            inserted = cursor.rowcount
    finally:
        cursor.close()
    log.reading_count += inserted
    log.first_ms = min(times[0], log.first_ms if log.first_ms is not None else times[0])
    log.last_ms = max(times[-1], log.last_ms if log.last_ms is not None else times[-1])
    return int(inserted)


def _copy(cursor: Any, rows: list[tuple[Any, ...]], statement: str) -> int:
    with cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
    return len(rows)


def _merge(cursor: Any, rows: list[tuple[Any, ...]]) -> int:
    cursor.execute(_PG_STAGE)
    _copy(cursor, rows, _PG_COPY_STAGED)
    cursor.execute(_PG_MERGE)
    inserted = cursor.rowcount
    cursor.execute("DELETE FROM incoming_readings")
    return int(inserted)


def load(
    session: Session, log_id: int, *, after_ms: int | None = None, until_ms: int | None = None
) -> tuple[list[int], list[float], list[float]]:
    """The log's readings in time order as (times, lows, highs), the engine's input; the database picks each
    reading's low and high (a minimum or maximum where the report had one, else its value)."""
    r = TemperatureReading
    low = func.coalesce(r.min_c, r.value_c, r.max_c)
    high = func.coalesce(r.max_c, r.value_c, r.min_c)
    query = select(r.taken_ms, low, high).where(r.log_id == log_id).order_by(r.taken_ms)
    if after_ms is not None:
        query = query.where(r.taken_ms > after_ms)
    if until_ms is not None:
        query = query.where(r.taken_ms <= until_ms)
    rows = session.execute(query).all()
    return [row[0] for row in rows], [row[1] for row in rows], [row[2] for row in rows]
