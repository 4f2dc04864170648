"""Queueing webhook messages: rows of ``webhook_deliveries`` that the worker signs, sends and retries
(``recall.notify.deliver_pending``). A message is queued in the transaction of what it announces (a recall, a
cold-chain excursion, an alert), so a committed announcement always has its messages; its body is fixed now, so
every retry sends the same bytes."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Set
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ledger.models import DeliveryStatus, Organisation, WebhookDelivery, utcnow


def queue_messages(
    session: Session,
    *,
    event_type: str,
    payloads: Mapping[int, dict[str, Any]],
    endpoints: Set[int] | None = None,
    recall_id: int | None = None,
    excursion_id: int | None = None,
    alert_id: int | None = None,
) -> None:
    """Queue a message to each organisation in ``payloads`` (by id) in one statement: a national recall tells
    thousands of them. Those without a webhook URL (not in ``endpoints``, when the caller knows them; looked up
    otherwise) get a ``no_endpoint`` row for the regulator to see."""
    if endpoints is None:
        with_url = select(Organisation.id).where(
            Organisation.id.in_(list(payloads)), Organisation.webhook_url.is_not(None)
        )
        endpoints = set(session.scalars(with_url))
    now = utcnow()
    rows = []
    for org_id, payload in payloads.items():
        delivery_id = str(uuid.uuid4())
        message = {"type": event_type, "delivery_id": delivery_id, **payload}
        rows.append(
            {
                "delivery_id": delivery_id,
                "recall_id": recall_id,
                "excursion_id": excursion_id,
                "alert_id": alert_id,
                "org_id": org_id,
                "event_type": event_type,
                "body": json.dumps(message, ensure_ascii=False, separators=(",", ":"), sort_keys=True),
                "status": DeliveryStatus.PENDING if org_id in endpoints else DeliveryStatus.NO_ENDPOINT,
                "attempts": 0,
                "next_attempt_at": now,
            }
        )
    if rows:
        session.execute(insert(WebhookDelivery), rows)
