"""Telling holders about a recall: HMAC-signed webhooks, queued with the recall and delivered by the worker.

A delivery is written in the same transaction as what it announces, so a committed recall always has its
messages queued; the worker sends them (:func:`deliver_pending`) and retries with exponential backoff. Delivery
is at least once: a worker that dies after sending but before recording sends again, so receivers deduplicate
by the ``X-Lotline-Delivery`` id.

How a receiver checks a message (the secret is the ``whsec_…`` string it was given once)::

    signed = f"{X-Lotline-Timestamp}.{X-Lotline-Delivery}.".encode() + raw_body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()

and compares with ``X-Lotline-Signature`` in constant time, refusing timestamps older than a few minutes (a
captured message replayed later then fails, and the delivery id cannot be swapped: both are signed).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Mapping, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from ledger.errors import InvalidInput
from ledger.keys import KeyVault
from ledger.models import (
    Alert,
    AlertStatus,
    DeliveryStatus,
    Excursion,
    ExcursionStatus,
    Organisation,
    Recall,
    RecallStatus,
    WebhookDelivery,
    utcnow,
)
from ledger.webhooks import queue_messages
from recall.endpoints import AddressPolicy, EndpointRefused

logger = logging.getLogger(__name__)

SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - a public marker, not a secret
# After the n-th failed attempt the next one waits BACKOFF[n-1]; after the last, the delivery is given up.
BACKOFF: Final = (
    timedelta(seconds=5),
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=6),
)
MAX_ATTEMPTS: Final = len(BACKOFF) + 1
# A claimed delivery is not due again for this long: long enough for one request to time out, short enough
# that a worker killed mid-request delays the message by minutes, not hours.
CLAIM: Final = timedelta(minutes=2)
REQUEST_TIMEOUT: Final = 10.0
REPLAY_WINDOW_SECONDS: Final = 300


@dataclass(frozen=True)
class DeliveryCounts:
    """What one :func:`deliver_pending` run did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def _vault_ref(org: Organisation) -> str:
    # Not the bare USCC the org's signing key is sealed under: a key blob copied into the secret column (or
    # the reverse) fails to decrypt instead of being used for the wrong purpose.
    return f"{org.uscc}/webhook"


def set_webhook(
    session: Session, vault: KeyVault, org: Organisation, url: str | None, *, policy: AddressPolicy
) -> str | None:
    """Set (or clear, with None) the organisation's webhook URL with a fresh secret; returns the secret, which
    is shown this once. Messages that found no URL while their recall or excursion is still open are queued
    again. A URL at an address ``policy`` does not allow is refused (see :mod:`recall.endpoints`)."""
    if url is None:
        org.webhook_url, org.webhook_secret_encrypted = None, None
        return None
    if not url.startswith(("https://", "http://")) or len(url) > 500:
        raise InvalidInput("a webhook URL is an http(s) URL of at most 500 characters", url=url[:100])
    policy.check_url(url)
    raw = secrets.token_bytes(32)
    org.webhook_url = url
    org.webhook_secret_encrypted = vault.encrypt(raw, org_ref=_vault_ref(org))
    open_recalls = select(Recall.id).where(Recall.status == RecallStatus.OPEN)
    open_excursions = select(Excursion.id).where(Excursion.status == ExcursionStatus.OPEN)
    open_alerts = select(Alert.id).where(Alert.status == AlertStatus.OPEN)
    session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.org_id == org.id,
            WebhookDelivery.status == DeliveryStatus.NO_ENDPOINT,
            or_(
                WebhookDelivery.recall_id.in_(open_recalls),
                WebhookDelivery.excursion_id.in_(open_excursions),
                WebhookDelivery.alert_id.in_(open_alerts),
            ),
        )
        .values(status=DeliveryStatus.PENDING, next_attempt_at=utcnow())
    )
    return SECRET_PREFIX + raw.hex()


def webhook_secret(vault: KeyVault, org: Organisation) -> str | None:
    if org.webhook_secret_encrypted is None:
        return None
    return SECRET_PREFIX + vault.decrypt(org.webhook_secret_encrypted, org_ref=_vault_ref(org)).hex()


def signed_string(timestamp: int, delivery_id: str, body: bytes) -> bytes:
    return f"{timestamp}.{delivery_id}.".encode() + body


def sign(secret: str, timestamp: int, delivery_id: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), signed_string(timestamp, delivery_id, body), hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(
    secret: str, *, signature: str, timestamp: int, delivery_id: str, body: bytes, now: float | None = None
) -> bool:
    """A receiver's check: the signature matches and the message is recent."""
    if abs((time.time() if now is None else now) - timestamp) > REPLAY_WINDOW_SECONDS:
        return False
    return hmac.compare_digest(sign(secret, timestamp, delivery_id, body), signature)


def queue(session: Session, *, recall: Recall, org: Organisation, event_type: str, payload: dict[str, Any]) -> None:
    """Queue one message; its body is fixed now, so every retry sends the same bytes."""
    queue_many(
        session,
        recall=recall,
        event_type=event_type,
        payloads={org.id: payload},
        endpoints={org.id} if org.webhook_url else set(),
    )


def queue_many(
    session: Session, *, recall: Recall, event_type: str, payloads: Mapping[int, dict[str, Any]], endpoints: Set[int]
) -> None:
    """Queue a message about ``recall`` to each organisation in ``payloads`` (``ledger.webhooks``); those not in
    ``endpoints`` (no webhook URL) get a ``no_endpoint`` row for the regulator to see."""
    queue_messages(session, event_type=event_type, payloads=payloads, endpoints=endpoints, recall_id=recall.id)


@dataclass(frozen=True)
class _Claimed:
    url: str
    secret: str
    body: bytes
    delivery_id: str
    event_type: str


def deliver_pending(
    session_factory: sessionmaker[Session],
    *,
    transport: httpx.Client,
    vault: KeyVault,
    policy: AddressPolicy,
    now: datetime | None = None,
    max_batch: int = 100,
) -> DeliveryCounts:
    """Send up to ``max_batch`` deliveries that are due at ``now`` (default: the current time).

    Each is claimed first with a conditional update, so two workers never send the same attempt; no database
    transaction stays open during a request. Non-2xx answers, transport errors and hosts at addresses ``policy``
    refuses are retried per ``BACKOFF`` (an organisation may fix its URL or its DNS meanwhile).
    """
    now = now or utcnow()
    with session_factory() as session:
        due = list(
            session.scalars(
                select(WebhookDelivery.id)
                .where(WebhookDelivery.status == DeliveryStatus.PENDING, WebhookDelivery.next_attempt_at <= now)
                .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
                .limit(max_batch)
            )
        )
        session.commit()
    outcomes = []
    for delivery_id in due:
        claimed = _claim(session_factory, vault, delivery_id, now)
        if claimed is None:
            continue
        timestamp = int(time.time())
        signature = sign(claimed.secret, timestamp, claimed.delivery_id, claimed.body)
        try:
            status_code, error = _post(transport, policy, claimed, timestamp, signature)
        except Exception as exc:  # a bug costs this message an attempt; it must not hold up every message after it
            logger.exception("webhook delivery %s failed unexpectedly", claimed.delivery_id)
            status_code, error = None, f"internal error: {type(exc).__name__}"
        outcomes.append(_record(session_factory, delivery_id, claimed.url, signature, status_code, error, now))
    return DeliveryCounts(
        delivered=outcomes.count(DeliveryStatus.DELIVERED),
        retrying=outcomes.count(DeliveryStatus.PENDING),
        failed=outcomes.count(DeliveryStatus.FAILED),
    )


def _claim(session_factory: sessionmaker[Session], vault: KeyVault, row_id: int, now: datetime) -> _Claimed | None:
    with session_factory() as session:
        taken = session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == row_id,
                WebhookDelivery.status == DeliveryStatus.PENDING,
                WebhookDelivery.next_attempt_at <= now,
            )
            .values(next_attempt_at=now + CLAIM)
            .execution_options(synchronize_session=False)
        )
        if getattr(taken, "rowcount", 0) != 1:
            session.rollback()
            return None
        delivery = session.get(WebhookDelivery, row_id)
        assert delivery is not None
        org = session.get(Organisation, delivery.org_id)
        assert org is not None
        # The URL and secret are read at send time: a rotation applies to messages still being retried.
        secret = webhook_secret(vault, org) if org.webhook_url else None
        if org.webhook_url is None or secret is None:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.NO_ENDPOINT, None
            session.commit()
            return None
        claimed = _Claimed(org.webhook_url, secret, delivery.body.encode(), delivery.delivery_id, delivery.event_type)
        session.commit()
    return claimed


def _post(
    transport: httpx.Client, policy: AddressPolicy, claimed: _Claimed, timestamp: int, signature: str
) -> tuple[int | None, str | None]:
    try:
        destinations = policy.destinations(claimed.url)
    except EndpointRefused as exc:
        return None, exc.detail[:500]
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "lotline-webhooks/1",
        "Host": destinations[0].host_header,
        # No connection reuse: a pooled connection is keyed by address, and one opened (and its certificate
        # checked) for one organisation's host must not carry another's message to the same address.
        "Connection": "close",
        "X-Lotline-Event": claimed.event_type,
        "X-Lotline-Delivery": claimed.delivery_id,
        "X-Lotline-Timestamp": str(timestamp),
        "X-Lotline-Signature": signature,
    }
    error = "no address"
    for destination in destinations:
        extensions = {"sni_hostname": destination.sni_hostname} if destination.sni_hostname else None
        try:
            # Streamed and never read: the receiver's answer body is not ours to buffer, only its status.
            with transport.stream(
                "POST",
                destination.url,
                content=claimed.body,
                headers=headers,
                timeout=REQUEST_TIMEOUT,
                extensions=extensions,
            ) as reply:
                code = reply.status_code
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # nothing was sent: the next address may answer
            error = f"{type(exc).__name__}: {exc}"[:500]
            continue
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:500]
        return code, None if 200 <= code < 300 else f"HTTP {code}"
    return None, error


def _record(
    session_factory: sessionmaker[Session],
    row_id: int,
    url: str,
    signature: str,
    status_code: int | None,
    error: str | None,
    now: datetime,
) -> DeliveryStatus:
    with session_factory() as session:
        delivery = session.get(WebhookDelivery, row_id)
        assert delivery is not None
        delivery.attempts += 1
        delivery.url, delivery.signature = url, signature
        delivery.last_status_code, delivery.last_error = status_code, error
        if error is None:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
                DeliveryStatus.DELIVERED,
                utcnow(),
                None,
            )
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
        else:
            delivery.next_attempt_at = now + BACKOFF[delivery.attempts - 1]
        status = delivery.status
        session.commit()
    return status
