"""What happened: signed EPCIS events, each batch's hash chain, and the trade graph derived from them.

``events`` keeps the EPCIS 2.0 document verbatim (its CBV 2.0 hash is the event id). ``movements``,
``transformations``, ``holdings`` and ``shipments`` are indexed projections of the same events, written in the
same transaction, so rules and recall walks never parse JSON.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import (
    Base,
    BigId,
    Created,
    Hex32,
    IdPK,
    MovementKind,
    ShipmentStatus,
    UTCDateTime,
    enum_column,
)


class Event(Base):
    __tablename__ = "events"

    seq: Mapped[IdPK]
    event_id: Mapped[str] = mapped_column(String(96), unique=True)  # ni:///sha-256;…?ver=CBV2.0
    event_type: Mapped[str] = mapped_column(String(32))
    action: Mapped[str | None] = mapped_column(String(8))
    biz_step: Mapped[str | None] = mapped_column(String(64))
    disposition: Mapped[str | None] = mapped_column(String(64))
    event_time: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"), index=True)
    location_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("locations.id"), index=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    # EIP-712 signature of the event digest by the organisation's key.
    signer: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int] = mapped_column(BigInteger)
    deadline: Mapped[int] = mapped_column(BigInteger)
    signature: Mapped[str] = mapped_column(String(132))
    anchor_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("anchors.id"), index=True)
    merkle_index: Mapped[int | None] = mapped_column(Integer)
    merkle_proof: Mapped[list[str] | None] = mapped_column(JSON)
    recorded_at: Mapped[Created]


class EventBatch(Base):
    """One link of a batch's hash chain: head_n = keccak256(head_{n-1} ‖ digest_n)."""

    __tablename__ = "event_batches"
    __table_args__ = (UniqueConstraint("event_seq", "batch_id"),)

    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("batches.id"), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    event_seq: Mapped[int] = mapped_column(BigId, ForeignKey("events.seq"), index=True)
    head: Mapped[Hex32]


class EventEpc(Base):
    """An EPC an event names and its role there (``ledger.epc_index``): how an item's events are found by its EPC."""

    __tablename__ = "event_epcs"
    __table_args__ = (Index("ix_event_epcs_event_role", "event_seq", "role"),)

    epc: Mapped[str] = mapped_column(Text, primary_key=True)
    event_seq: Mapped[int] = mapped_column(BigId, ForeignKey("events.seq"), primary_key=True)
    role: Mapped[str] = mapped_column(String(8), primary_key=True)


class Shipment(Base):
    __tablename__ = "shipments"

    id: Mapped[IdPK]
    event_seq: Mapped[int] = mapped_column(BigId, ForeignKey("events.seq"), unique=True)
    from_org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"), index=True)
    to_org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"), index=True)
    status: Mapped[ShipmentStatus] = enum_column(ShipmentStatus)
    created_at: Mapped[Created]


class ShipmentLine(Base):
    __tablename__ = "shipment_lines"
    __table_args__ = (Index("ix_shipment_lines_batch", "batch_id"),)  # what is in transit of a batch (recalls)

    shipment_id: Mapped[int] = mapped_column(BigId, ForeignKey("shipments.id"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("batches.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    received_quantity: Mapped[int] = mapped_column(BigInteger, default=0)


class Movement(Base):
    """An edge of the trade graph: ``quantity`` of ``batch_id`` went from one holder to another (or out)."""

    __tablename__ = "movements"
    __table_args__ = (
        Index("ix_movements_batch_kind", "batch_id", "kind"),
        Index("ix_movements_from_batch", "from_org_id", "batch_id"),
        Index("ix_movements_to_batch", "to_org_id", "batch_id"),
    )

    id: Mapped[IdPK]
    event_seq: Mapped[int] = mapped_column(BigId, ForeignKey("events.seq"), index=True)
    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("batches.id"))
    kind: Mapped[MovementKind] = enum_column(MovementKind)
    from_org_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))
    to_org_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))
    quantity: Mapped[int] = mapped_column(BigInteger)
    shipment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("shipments.id"))


class Transformation(Base):
    """Input batch → output batch through a TransformationEvent (e.g. carcasses cut into packs)."""

    __tablename__ = "transformations"
    __table_args__ = (Index("ix_transformations_input", "input_batch_id"),)

    id: Mapped[IdPK]
    event_seq: Mapped[int] = mapped_column(BigId, ForeignKey("events.seq"), index=True)
    org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"))
    input_batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("batches.id"))
    output_batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("batches.id"), index=True)
    input_quantity: Mapped[int] = mapped_column(BigInteger)


class Holding(Base):
    """How much of a batch an organisation holds now, and how it got there."""

    __tablename__ = "holdings"
    __table_args__ = (Index("ix_holdings_batch", "batch_id"),)

    org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("batches.id"), primary_key=True)
    on_hand: Mapped[int] = mapped_column(BigInteger, default=0)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    shipped: Mapped[int] = mapped_column(BigInteger, default=0)
    consumed: Mapped[int] = mapped_column(BigInteger, default=0)  # sold or administered
    destroyed: Mapped[int] = mapped_column(BigInteger, default=0)
    transformed: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
