"""The fixed scanning station: a wedge scanner on a counter or a dock door, one line per code, no screen needed.

Each line is read and checked offline against the issuers' key set at once (a forged code is reported and not
queued), then queued in the outbox with its event time and idempotency key, and sent when the server can be
reached, as ``POST /api/v1/scans/lines``: each scan applied on its own, each answer kept (docs/station.md).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import httpx

from ledger.errors import InvalidInput, NotAuthenticated
from scanner.outbox import Outbox, OutboxState
from scanner.reading import verdict
from scanner.verify import OfflineVerifier, ScanCheck, ScanReason

LINES_PATH: Final = "/api/v1/scans/lines"
SYNC_CHUNK: Final = 200
# Not forged, only not checkable here: the ledger checks these when the scan arrives.
QUEUED_REASONS: Final = frozenset({ScanReason.GENUINE, ScanReason.MISSING_SIGNATURE})


@dataclass(frozen=True, slots=True)
class Taken:
    check: ScanCheck
    key: str | None  # None: not queued (forged, or not a code)


@dataclass
class SyncReport:
    accepted: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)
    offline: bool = False
    pending: int = 0


def sync_key(keys: Iterable[str]) -> str:
    """The list's Idempotency-Key: the same scans resent (a retry) replay the first answer."""
    return hashlib.sha256(("lotline-station-sync:" + ",".join(keys)).encode()).hexdigest()[:40]


class Station:
    def __init__(self, outbox: Outbox, client: httpx.Client, verifier: OfflineVerifier, scan: dict[str, Any]) -> None:
        """``scan`` holds what every scan of this station shares: the action and its parameters."""
        self._outbox = outbox
        self._client = client
        self._verifier = verifier
        self._scan = scan

    def take(self, line: str) -> Taken:
        check = verdict(self._verifier, line)
        if check.reason not in QUEUED_REASONS:
            return Taken(check, None)
        return Taken(check, self._outbox.add({**self._scan, "codes": [check.text]}))

    def sync(self) -> SyncReport:
        """Send what is pending, chunk by chunk, until it is all answered or the server cannot be reached."""
        report = SyncReport()
        for chunk in self._chunks():
            try:
                reply = self._client.post(
                    LINES_PATH,
                    json={"scans": [{"key": entry.key, "scan": entry.scan} for entry in chunk]},
                    headers={"Idempotency-Key": sync_key(entry.key for entry in chunk)},
                )
            except httpx.TransportError:
                report.offline = True
                break
            if reply.status_code == 401:
                raise NotAuthenticated("the server refused the station's token", answer=reply.json())
            if reply.status_code >= 500:
                report.offline = True
                break
            if reply.status_code != 200:
                raise InvalidInput(
                    "the server refused the outbox's list", status=reply.status_code, answer=reply.text[:500]
                )
            lines = reply.json()["lines"]
            if [line["key"] for line in lines] != [entry.key for entry in chunk]:
                raise InvalidInput("the server answered for other scans than those sent", sent=len(chunk))
            self._settle(lines, report)
        report.pending = self._outbox.counts()[OutboxState.PENDING]
        return report

    def _chunks(self) -> Iterator[list[Any]]:
        while chunk := self._outbox.pending(SYNC_CHUNK):
            yield chunk

    def _settle(self, lines: list[dict[str, Any]], report: SyncReport) -> None:
        for line in lines:
            if line["outcome"] == "accepted":
                self._outbox.settle(line["key"], OutboxState.ACCEPTED, line["result"])
                report.accepted += 1
            else:
                self._outbox.settle(line["key"], OutboxState.REFUSED, line)
                report.refused.append(line)


def run(station: Station, lines: Iterable[str], report: Callable[[str], None], *, retry_every: float = 30.0) -> int:
    """Take every line a wedge scanner types, sending the outbox as it goes; return how many stay pending.

    After a failed sync the station waits ``retry_every`` seconds before trying again, so a dead network does not
    hold up every scan by a connection attempt. Whatever is left is sent at the end, or by the next run.
    """
    next_try = 0.0
    for line in lines:
        if not line.strip():
            continue
        taken = station.take(line)
        report(f"{taken.check.reason}: {taken.check.detail}" + ("" if taken.key else " (not queued)"))
        if time.monotonic() >= next_try:
            synced = station.sync()
            _report_sync(synced, report)
            next_try = time.monotonic() + retry_every if synced.offline else 0.0
    final = station.sync()
    _report_sync(final, report)
    return final.pending


def _report_sync(synced: SyncReport, report: Callable[[str], None]) -> None:
    for line in synced.refused:
        report(f"refused: {line['error']}: {line['detail']}")
    if synced.accepted:
        report(f"sent: {synced.accepted} accepted")
    if synced.offline:
        report(f"offline: {synced.pending} waiting in the outbox")
