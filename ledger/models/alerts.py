"""Counterfeit and diversion alerts: signals the ledger noticed about a code or batch (docs/alerts.md).

An alert is kept like an event: its facts are recorded as a signed EPCIS event (``event_seq``) that is anchored
with the others. One row per (kind, code or batch, subject): a signal seen again counts up ``occurrences``
instead of raising a second alert.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, BigId, IdPK, UTCDateTime, enum_column


class AlertKind(StrEnum):
    SETTLED_TWICE = "settled_twice"  # a second sale or administration of one code, refused (NHSA 一码多结)
    OUTSIDE_CHAIN = "outside_chain"  # a trade scan by an organisation that neither holds nor receives the goods
    FORGED_CODE = "forged_code"  # a code never issued, or a label whose signature is missing, altered or foreign
    FREQUENT_LOOKUPS = "frequent_lookups"  # consumers looked the code up unusually often after its sale
    IMPOSSIBLE_TRAVEL = "impossible_travel"  # two scans of a code too far apart for the time between them


class AlertStatus(StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"  # a regulator took it up


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_owner", "owner_org_id", "last_seen_at"),
        Index("ix_alerts_last_seen", "last_seen_at"),
    )

    id: Mapped[IdPK]
    kind: Mapped[AlertKind] = enum_column(AlertKind)
    # sha256 of "kind|code or batch|subject": the deduplication key, unique.
    dedup_key: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[AlertStatus] = enum_column(AlertStatus)
    code_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("codes.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("batches.id"))
    # The brand owner (the product's owner) it goes to, besides every regulator; none for a GTIN nobody owns here.
    owner_org_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))
    subject_org_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))  # who scanned it
    location_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("locations.id"))
    scanned: Mapped[str] = mapped_column(String(300))  # the code as scanned (a forged one is in no other table)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    event_seq: Mapped[int] = mapped_column(BigId, ForeignKey("events.seq"), unique=True)
    investigated_by_org_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))
    investigated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CodeLookups(Base):
    """How often consumers looked a sold or administered code up, counted by the worker off the request path."""

    __tablename__ = "code_lookups"

    code_id: Mapped[int] = mapped_column(BigId, ForeignKey("codes.id"), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime())
