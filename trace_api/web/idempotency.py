"""Idempotent writes: the first answer to an ``Idempotency-Key`` is stored with the write and replayed for
every retry, so a phone that resends a scan after a dropped connection never records it twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Header
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.errors import IdempotencyKeyReused, InvalidInput
from ledger.models import IdempotencyRecord, Organisation

Answer = TypeVar("Answer", bound=BaseModel)

IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=128,
        description="a client-chosen unique key per logical write (e.g. a UUID); retries reuse it",
    ),
]


def request_fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def run_once(
    session: Session,
    org: Organisation,
    key: str,
    request: Any,
    answer: type[Answer],
    write: Callable[[], tuple[int, Answer]],
) -> tuple[int, Answer]:
    """Run ``write`` at most once per (organisation, key); its status and answer, first time or replayed."""
    fingerprint = request_fingerprint(request)
    existing = session.get(IdempotencyRecord, (org.id, key))
    if existing is not None:
        return _replay(existing, fingerprint, answer)
    record = IdempotencyRecord(org_id=org.id, key=key, request_hash=fingerprint, status_code=0, response={})
    session.add(record)
    try:
        # Claim the key before writing: a concurrent duplicate blocks here (PostgreSQL) or on the write lock
        # (SQLite) until the first commits, then fails and replays the stored answer.
        session.flush()
    except IntegrityError:
        session.rollback()
        stored = session.scalar(
            select(IdempotencyRecord).where(IdempotencyRecord.org_id == org.id, IdempotencyRecord.key == key)
        )
        if stored is None:
            raise InvalidInput("idempotency key could not be claimed; retry", key=key) from None
        return _replay(stored, fingerprint, answer)
    status, body = write()
    record.status_code, record.response = status, body.model_dump(mode="json", by_alias=True)
    return status, body


def _replay(record: IdempotencyRecord, fingerprint: str, answer: type[Answer]) -> tuple[int, Answer]:
    if record.request_hash != fingerprint:
        raise IdempotencyKeyReused("this Idempotency-Key was already used for a different request", key=record.key)
    return record.status_code, answer.model_validate(record.response)
