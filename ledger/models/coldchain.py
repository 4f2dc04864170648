"""Cold chain: temperature logs and their readings, where the readings came from, excursions and the goods they
hold, vaccine vial monitor observations, and the profile a product's owner chose.

A **log** is one logger (device) recording for one scope: a shipment in transit, a location (a cold store, a
clinic's fridge) or a holding (one batch at one organisation). Its readings are a time series keyed by
(log, time), stored as epoch milliseconds: the rules read numbers, and a million readings load without a million
datetime conversions. Each reading points at the **ingest** that brought it (a logger file, an EPCIS event's
sensor data, a gateway's batch), and each ingest at the signed event that anchors it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column

from ledger.models.base import Base, BigId, Created, IdPK, UTCDateTime, enum_column


class LogScope(StrEnum):
    SHIPMENT = "shipment"
    LOCATION = "location"
    HOLDING = "holding"


class IngestKind(StrEnum):
    FILE = "file"  # a data logger's CSV/XLSX export
    EPCIS = "epcis"  # the sensorElementList of a captured event or a scan
    GATEWAY = "gateway"  # a batch of readings posted by an IoT gateway


class ExcursionKind(StrEnum):
    HOT = "hot"
    COLD = "cold"
    DATA_GAP = "data_gap"
    VVM = "vvm"  # a vaccine vial monitor at its discard point


class ExcursionStatus(StrEnum):
    OPEN = "open"  # the goods are on hold until a disposition
    RELEASED = "released"
    DESTROYED = "destroyed"


class TemperatureLog(Base):
    __tablename__ = "temperature_logs"
    # scope_key ("shipment:12", "location:3", "holding:45") makes the scope one comparable value: a unique
    # constraint over nullable columns would let NULLs repeat.
    __table_args__ = (UniqueConstraint("org_id", "device_id", "scope_key"),)

    id: Mapped[IdPK]
    org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"), index=True)  # who records
    device_id: Mapped[str] = mapped_column(String(200))
    scope: Mapped[LogScope] = enum_column(LogScope)
    scope_key: Mapped[str] = mapped_column(String(40))
    shipment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("shipments.id"), index=True)
    location_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("locations.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("batches.id"), index=True)
    holder_org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"), index=True)  # whose goods
    interval_s: Mapped[int] = mapped_column(Integer)  # the logger's interval: longer silences are data gaps
    reading_count: Mapped[int] = mapped_column(BigInteger, default=0)
    first_ms: Mapped[int | None] = mapped_column(BigInteger)
    last_ms: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[Created]


class ReadingIngest(Base):
    """One arrival of readings: a file (kept, with its SHA-256), an event's sensor data or a gateway batch."""

    __tablename__ = "reading_ingests"

    id: Mapped[IdPK]
    log_id: Mapped[int] = mapped_column(BigId, ForeignKey("temperature_logs.id"), index=True)
    org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"))
    kind: Mapped[IngestKind] = enum_column(IngestKind)
    event_seq: Mapped[int] = mapped_column(BigId, ForeignKey("events.seq"), index=True)  # what anchors it
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str | None] = mapped_column(String(255))
    content_type: Mapped[str | None] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    # The file itself, stored with its row so an upload commits or rolls back whole (as documents are).
    content: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    reading_count: Mapped[int] = mapped_column(Integer)  # new readings stored
    duplicate_count: Mapped[int] = mapped_column(Integer)  # readings the log already had at those times
    first_ms: Mapped[int] = mapped_column(BigInteger)
    last_ms: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[Created]


class TemperatureReading(Base):
    """One reading: a value, or a report's minimum and maximum (and mean, as ``value_c``) over its period.

    No foreign keys: a reading is written only by ``ledger.coldchain.readings.store``, in bulk, in the transaction
    that holds its log and ingest rows, and readings are never deleted. A key check per reading cost three quarters
    of the write on PostgreSQL (one COPY of 1M readings: 121,000/s with the checks, 923,000/s without)."""

    __tablename__ = "temperature_readings"

    log_id: Mapped[int] = mapped_column(BigId, primary_key=True)  # temperature_logs.id
    taken_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # epoch milliseconds, UTC
    value_c: Mapped[float | None] = mapped_column(Float)
    min_c: Mapped[float | None] = mapped_column(Float)
    max_c: Mapped[float | None] = mapped_column(Float)
    ingest_id: Mapped[int] = mapped_column(BigId)  # reading_ingests.id


class LogEvaluation(Base):
    """Where the rules of one profile stand on one log: the engine's state after the last reading fed."""

    __tablename__ = "log_evaluations"

    log_id: Mapped[int] = mapped_column(BigId, ForeignKey("temperature_logs.id"), primary_key=True)
    profile_key: Mapped[str] = mapped_column(String(60), primary_key=True)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_ms: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Excursion(Base):
    """Goods outside their profile (or unobserved for too long, or behind a spent vial monitor), held at their
    holder until someone disposes of it: released with a reason and evidence, or destroyed."""

    __tablename__ = "excursions"
    # One record per stretch: re-evaluating a log updates it (an ongoing excursion gets its end) instead of
    # adding another. Data gaps concern every profile of a log, so their profile_key is "".
    __table_args__ = (
        UniqueConstraint("log_id", "profile_key", "kind", "started_at"),
        Index("ix_excursions_status_holder", "status", "holder_org_id"),
    )

    id: Mapped[IdPK]
    number: Mapped[str] = mapped_column(String(32), unique=True)  # EX-2026-000001
    log_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("temperature_logs.id"), index=True)
    profile_key: Mapped[str] = mapped_column(String(60))
    kind: Mapped[ExcursionKind] = enum_column(ExcursionKind)
    rules: Mapped[list[str]] = mapped_column(JSON)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: still going on
    duration_s: Mapped[int] = mapped_column(BigInteger)
    min_c: Mapped[float | None] = mapped_column(Float)
    max_c: Mapped[float | None] = mapped_column(Float)
    holder_org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"))
    recorded_by_org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"))
    shipment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("shipments.id"))
    location_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("locations.id"))
    event_seq: Mapped[int] = mapped_column(BigId, ForeignKey("events.seq"))  # the evidence: readings' anchor
    status: Mapped[ExcursionStatus] = enum_column(ExcursionStatus)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_org_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))
    candidate_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # made a recall candidate
    candidate_by_org_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))
    disposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disposed_by_org_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))
    disposition_reason: Mapped[str | None] = mapped_column(Text)
    # A release's evidence (the maker's stability data, a QA assessment), kept with the record it justifies.
    evidence_sha256: Mapped[str | None] = mapped_column(String(64))
    evidence_filename: Mapped[str | None] = mapped_column(String(255))
    evidence_content_type: Mapped[str | None] = mapped_column(String(100))
    evidence: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    disposition_event_seq: Mapped[int | None] = mapped_column(BigId, ForeignKey("events.seq"))
    created_at: Mapped[Created]


class ExcursionGoods(Base):
    """A batch an excursion concerns at its holder: how much, and the hold that stops it moving."""

    __tablename__ = "excursion_goods"

    excursion_id: Mapped[int] = mapped_column(BigId, ForeignKey("excursions.id"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("batches.id"), primary_key=True, index=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    hold_id: Mapped[int] = mapped_column(BigId, ForeignKey("holds.id"), unique=True)


class VialMonitorReading(Base):
    """A vaccine vial monitor's stage (1-4) seen at receipt or administration; 3 and 4 mean do not use."""

    __tablename__ = "vvm_observations"

    id: Mapped[IdPK]
    event_seq: Mapped[int] = mapped_column(BigId, ForeignKey("events.seq"), index=True)
    org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"))
    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("batches.id"), index=True)
    stage: Mapped[int] = mapped_column(SmallInteger)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProductProfile(Base):
    """A product's cold-chain profile chosen by its owner (e.g. a freeze-sensitive vaccine), instead of the one
    its category and storage range give."""

    __tablename__ = "product_profiles"

    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), primary_key=True)
    profile: Mapped[str] = mapped_column(String(40))
    chosen_by_org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"))
    created_at: Mapped[Created]
