"""The fixed station's outbox: scans wait in a local SQLite file until the server has answered for each.

Every scan gets its idempotency key when it is taken, and keeps it through every retry, so a sync cut off
after the server recorded it (the answer lost on the way back) is replayed by the server, never recorded twice.
A scan leaves the ``pending`` state only with the server's answer: ``accepted`` with the event id, or
``refused`` with the reason.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import uuid
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    scan TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    outcome TEXT
)
"""


class OutboxState(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    scan: dict[str, Any]
    state: OutboxState
    outcome: dict[str, Any] | None


class Outbox:
    """One SQLite file; each call is its own transaction, so a crash leaves every scan either queued or not."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a scan the station showed as queued survives a power cut
        self._db.execute(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def add(self, scan: dict[str, Any]) -> str:
        """Queue ``scan`` (an API scan body) with a fresh idempotency key and its event time, now if not set."""
        key = uuid.uuid4().hex
        body = {"event_time": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"), **scan}
        self._db.execute("INSERT INTO outbox (key, scan) VALUES (?, ?)", (key, json.dumps(body, ensure_ascii=False)))
        return key

    def pending(self, limit: int) -> list[Entry]:
        rows = self._db.execute(
            "SELECT key, scan, state, outcome FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT ?", (limit,)
        )
        return [_entry(row) for row in rows]

    def settle(self, key: str, state: OutboxState, outcome: dict[str, Any]) -> None:
        self._db.execute(
            "UPDATE outbox SET state = ?, outcome = ? WHERE key = ? AND state = 'pending'",
            (str(state), json.dumps(outcome, ensure_ascii=False), key),
        )

    def entries(self) -> list[Entry]:
        return [_entry(row) for row in self._db.execute("SELECT key, scan, state, outcome FROM outbox ORDER BY seq")]

    def counts(self) -> dict[OutboxState, int]:
        found = dict(self._db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
        return {state: int(found.get(str(state), 0)) for state in OutboxState}


def _entry(row: tuple[str, str, str, str | None]) -> Entry:
    key, scan, state, outcome = row
    return Entry(key, json.loads(scan), OutboxState(state), json.loads(outcome) if outcome else None)
