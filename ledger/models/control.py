"""Controls on the ledger: anchoring state, chain jobs, recalls, holds and idempotency records."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import (
    AnchorStatus,
    Base,
    BigId,
    ChainJobStatus,
    Created,
    HoldKind,
    IdPK,
    RecallStatus,
    UTCDateTime,
    enum_column,
)


class OutboxEntry(Base):
    """An event waiting to be anchored; written in the same transaction as the event itself."""

    __tablename__ = "outbox"

    id: Mapped[IdPK]
    event_seq: Mapped[int] = mapped_column(BigId, ForeignKey("events.seq"), unique=True)
    anchor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("anchors.id"), index=True)
    created_at: Mapped[Created]
    # Set when anchoring refused the event (a signature that does not verify): it is quarantined, never
    # anchored, and `lotline verify` reports it (docs/anchoring.md).
    refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    refusal: Mapped[str | None] = mapped_column(String(300))


class Anchor(Base):
    """One anchoring transaction: a Merkle root over many events plus the heads of every batch they touch."""

    __tablename__ = "anchors"

    id: Mapped[IdPK]
    merkle_root: Mapped[str] = mapped_column(String(66), unique=True)
    event_count: Mapped[int] = mapped_column(Integer)
    batch_count: Mapped[int] = mapped_column(Integer)
    status: Mapped[AnchorStatus] = enum_column(AnchorStatus)
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None] = mapped_column(BigInteger)
    chain_id: Mapped[int | None] = mapped_column(BigInteger)
    contract_address: Mapped[str | None] = mapped_column(String(42))
    created_at: Mapped[Created]
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ChainJob(Base):
    """A chain action other than anchoring (register a batch, grant a role, open a recall), retried until done."""

    __tablename__ = "chain_jobs"

    id: Mapped[IdPK]
    kind: Mapped[str] = mapped_column(String(40))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[ChainJobStatus] = enum_column(ChainJobStatus, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[Created]
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Recall(Base):
    __tablename__ = "recalls"

    id: Mapped[IdPK]
    number: Mapped[str] = mapped_column(String(32), unique=True)
    recall_class: Mapped[int] = mapped_column(SmallInteger)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[RecallStatus] = enum_column(RecallStatus, index=True)
    requested_by_org_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))
    opened_by_org_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[Created]


class RecallTarget(Base):
    """A batch (or a single code of it) covered by a recall."""

    __tablename__ = "recall_targets"

    id: Mapped[IdPK]
    recall_id: Mapped[int] = mapped_column(BigId, ForeignKey("recalls.id"), index=True)
    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("batches.id"), index=True)
    code_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("codes.id"))


class Hold(Base):
    """Goods that may not move: an excursion, a failed inspection or a regulator's order, until released."""

    __tablename__ = "holds"

    id: Mapped[IdPK]
    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("batches.id"), index=True)
    org_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))  # None: every holder
    kind: Mapped[HoldKind] = enum_column(HoldKind)
    reason: Mapped[str] = mapped_column(Text)
    event_seq: Mapped[int | None] = mapped_column(BigId, ForeignKey("events.seq"))
    placed_at: Mapped[Created]
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_by_org_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))
    release_reason: Mapped[str | None] = mapped_column(Text)


class IdempotencyRecord(Base):
    """The first answer to a write request, replayed verbatim when the same key is sent again."""

    __tablename__ = "idempotency_records"

    org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(SmallInteger)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[Created]


class VerifyCheckpoint(Base):
    """A full ``lotline verify`` that found nothing: where an incremental run (``--since-checkpoint``) resumes.

    ``nonces`` is each organisation's last nonce up to ``last_event_seq`` (so signatures after it are checked in
    order); ``mac`` is an HMAC-SHA-256 of the row under a key derived from ``LOTLINE_SECRET_KEY``, so a row
    written with SQL alone cannot move the checkpoint forward past a forged event (docs/anchoring.md).
    """

    __tablename__ = "verify_checkpoints"

    id: Mapped[IdPK]
    last_event_seq: Mapped[int] = mapped_column(BigInteger)
    nonces: Mapped[dict[str, int]] = mapped_column(JSON)
    mac: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[Created]
