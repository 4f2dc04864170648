"""A recall's follow-up: who held what when it opened, what they report, and the webhooks that told them.

``recalls`` and ``recall_targets`` (``control.py``) are what the trade rules read; the tables here are what the
recall lifecycle (``recall.service``) and its notifier (``recall.notify``) need on top, so a scan never reads them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, BigId, Created, IdPK, UTCDateTime, enum_column


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # due at next_attempt_at
    DELIVERED = "delivered"  # the receiver answered 2xx
    FAILED = "failed"  # attempts exhausted, or the receiver's answer says a retry cannot help
    NO_ENDPOINT = "no_endpoint"  # the organisation has no webhook URL: nothing is sent, the regulator sees it


class RecallDetail(Base):
    """What a recall carries beyond its ``recalls`` row: its on-chain identity and chain jobs, the failed
    inspection it was confirmed from, and who closed it (a regulator, or nobody when every unit was
    accounted for)."""

    __tablename__ = "recall_details"

    recall_id: Mapped[int] = mapped_column(BigId, ForeignKey("recalls.id"), primary_key=True)
    chain_recall_id: Mapped[str] = mapped_column(String(66), unique=True)  # keccak256 of the number
    reason_hash: Mapped[str] = mapped_column(String(66))
    open_job_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("chain_jobs.id"))
    close_job_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("chain_jobs.id"))
    # Unique: a failed inspection becomes at most one recall, however often "confirm" is clicked.
    source_hold_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("holds.id"), unique=True)
    closed_by_org_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))


class RecallHolder(Base):
    """One organisation's position in one recalled batch as of the recall's opening, and what it reported.

    ``quantity_at_open`` is what it had to account for: on hand plus what was on its way to it. The reported
    quantities are running totals (a new report replaces the last), so units can move from quarantined to
    destroyed without being counted twice.
    """

    __tablename__ = "recall_holders"
    __table_args__ = (
        UniqueConstraint("recall_id", "org_id", "batch_id"),
        Index("ix_recall_holders_org", "org_id", "recall_id"),
    )

    id: Mapped[IdPK]
    recall_id: Mapped[int] = mapped_column(BigId, ForeignKey("recalls.id"), index=True)
    org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"))
    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("batches.id"))
    quantity_at_open: Mapped[int] = mapped_column(BigInteger)
    # Sold or administered before the recall: nothing to quarantine, but the holder must reach its customers.
    consumed_at_open: Mapped[int] = mapped_column(BigInteger)
    quarantined: Mapped[int] = mapped_column(BigInteger, default=0)
    returned: Mapped[int] = mapped_column(BigInteger, default=0)
    destroyed: Mapped[int] = mapped_column(BigInteger, default=0)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by_org_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))

    @property
    def accounted(self) -> int:
        return self.quarantined + self.returned + self.destroyed

    @property
    def settled(self) -> bool:
        """Acknowledged, with every unit it held at opening accounted for."""
        return self.acknowledged_at is not None and self.accounted >= self.quantity_at_open


class WebhookDelivery(Base):
    """One webhook message to one organisation, retried with backoff until it is delivered or given up.

    ``body`` is the exact bytes sent (the signature covers them), so every retry sends the same message. A message
    announces a recall, a cold-chain excursion or an alert: one of ``recall_id``, ``excursion_id`` and ``alert_id``
    is set.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[IdPK]
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True)  # X-Lotline-Delivery, a UUID
    recall_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("recalls.id"), index=True)
    excursion_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("excursions.id"), index=True)
    alert_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("alerts.id"), index=True)
    org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"))
    event_type: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[DeliveryStatus] = enum_column(DeliveryStatus)
    url: Mapped[str | None] = mapped_column(String(500))  # where the last attempt went
    signature: Mapped[str | None] = mapped_column(String(80))  # of the last attempt
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status_code: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[Created]
