"""Scans applied one by one, each answered on its own line: the offline queue's way in (docs/station.md).

A phone or fixed station that worked without signal sends its queue as one list, but the scans in it are
independent acts, made minutes or days apart: one refusal (a code already sold) must not throw away the other 49.
Each scan carries its own idempotency key and runs in its own savepoint; its answer, accepted with the event or
refused with the reason, is stored under that key. A resent list replays (the list's own Idempotency-Key), and a
scan resent in another list (the queue re-cut after a dropped connection) replays its own first answer: no scan
is ever recorded twice.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger.alert_signals import refusal_signals
from ledger.alerts import raise_alert
from ledger.errors import IdempotencyKeyReused, InvalidInput, LotlineError
from ledger.models import IdempotencyRecord, Organisation, utcnow
from ledger.recorder import Signer
from trace_api.scans.schemas import LineOutcome, LineOutcomes, Scan, ScanLine
from trace_api.scans.service import lock_all_batches, record_scan
from trace_api.web.errors import status_of
from trace_api.web.idempotency import request_fingerprint

ACCEPTED_STATUS = 201


def name_the_line(error: LotlineError, index: int, scan: Scan) -> None:
    """Say which scan of an all-or-nothing list a refusal concerns: its index, and its code."""
    error.context.setdefault("scan", index)
    name_the_code(error, scan)


def name_the_code(error: LotlineError, scan: Scan) -> None:
    """A refusal of a scan of one code names that code, whichever rule refused it."""
    if "code" not in error.context and len(scan.codes) == 1:
        error.context["code"] = scan.codes[0]


def record_lines(session: Session, signer: Signer, org: Organisation, lines: list[ScanLine]) -> LineOutcomes:
    keys = [line.key for line in lines]
    if len(set(keys)) != len(keys):
        raise InvalidInput("each scan of a list needs its own key; a key appears twice")
    scans = [_parse(line) for line in lines]
    lock_all_batches(session, [scan for scan in scans if isinstance(scan, Scan)])
    outcomes = [
        _record_line(session, signer, org, index, line, scan)
        for index, (line, scan) in enumerate(zip(lines, scans, strict=True))
    ]
    accepted = sum(outcome.outcome == "accepted" for outcome in outcomes)
    return LineOutcomes(lines=outcomes, accepted=accepted, refused=len(outcomes) - accepted)


def _parse(line: ScanLine) -> Scan | dict[str, Any]:
    """The scan, or the refusal of a malformed one (a phone's clock far ahead, a field missing)."""
    try:
        return Scan.model_validate(line.scan)
    except ValidationError as exc:
        problems = [
            {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")} for e in exc.errors()
        ]
        first = problems[0]
        detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        return {"error": "InvalidRequest", "detail": detail, "context": {"problems": problems}}


def _record_line(
    session: Session, signer: Signer, org: Organisation, index: int, line: ScanLine, scan: Scan | dict[str, Any]
) -> LineOutcome:
    fingerprint = request_fingerprint({"scan_line": line.scan})
    claim = _claim(session, org, line.key, fingerprint)
    if not isinstance(claim, IdempotencyRecord):
        return LineOutcome(index=index, key=line.key, **claim)
    if isinstance(scan, dict):
        answer, status = {"outcome": "refused", **scan}, 422
    else:
        answer, status = _apply(session, signer, org, scan)
    claim.status_code, claim.response = status, answer
    return LineOutcome(index=index, key=line.key, **answer)


def _apply(session: Session, signer: Signer, org: Organisation, scan: Scan) -> tuple[dict[str, Any], int]:
    try:
        with session.begin_nested():
            result = record_scan(session, signer, org, scan)
    except LotlineError as error:
        name_the_code(error, scan)
        # Answered 200 line by line, so the alert joins this transaction (the refused line's savepoint is gone).
        for signal in refusal_signals(
            session, org, error, location_id=scan.location_id, at=scan.event_time or utcnow()
        ):
            raise_alert(session, signer, signal)
        return {"outcome": "refused", **error.as_dict()}, status_of(error)
    return {"outcome": "accepted", "result": result.model_dump(mode="json")}, ACCEPTED_STATUS


def _claim(session: Session, org: Organisation, key: str, fingerprint: str) -> IdempotencyRecord | dict[str, Any]:
    """Claim ``key`` for this scan (the record to fill), or the answer stored under it by an earlier request."""
    stored = session.get(IdempotencyRecord, (org.id, key))
    if stored is None:
        record = IdempotencyRecord(org_id=org.id, key=key, request_hash=fingerprint, status_code=0, response={})
        try:
            # A concurrent request sending the same scan waits here (PostgreSQL) or on the write lock (SQLite)
            # until the first commits, then finds its answer.
            with session.begin_nested():
                session.add(record)
            return record
        except IntegrityError:
            stored = session.get(IdempotencyRecord, (org.id, key))
            if stored is None:
                raise InvalidInput("a scan's key could not be claimed; retry", key=key) from None
    if stored.request_hash != fingerprint:
        error = IdempotencyKeyReused("this scan's key was already used for a different scan", key=key)
        return {"outcome": "refused", **error.as_dict()}
    return dict(stored.response)
