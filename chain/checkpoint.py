"""Checkpoints of clean full verifications, and the incremental ``lotline verify --since-checkpoint``.

A full audit that finds nothing records a :class:`~ledger.models.VerifyCheckpoint`: the last event it verified
and each organisation's last nonce then. An incremental audit resumes after it: it rehashes and checks the
signatures and proofs of the newer events only, and checks anchors, batch chains and every derived table whole
(they are cheap beside rehashing every event). What it does not see is an edit of an event document older than
the checkpoint that keeps its event id and proof (its hash then no longer matches): a full run finds that.

The checkpoint is covered by an HMAC-SHA-256 under a key derived from ``LOTLINE_SECRET_KEY``: an insider who
moves it forward with SQL, to skip a forged event, writes a row whose MAC does not match, and the incremental
run reports ``checkpoint_invalid`` and verifies everything (docs/anchoring.md).
"""

from __future__ import annotations

import hashlib
import hmac
import json

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from chain.audit import AuditReport, Finding, FindingKind, Resume, audit
from chain.client import ChainClient
from ledger.models import Event, VerifyCheckpoint
from ledger.signing import SigningDomain


def checkpoint_key(secret_key: str) -> bytes:
    """The MAC key of checkpoints: derived from the ledger's secret, never stored."""
    return hashlib.sha256(b"lotline verify checkpoint\0" + secret_key.encode()).digest()


def _mac(key: bytes, last_event_seq: int, nonces: dict[str, int]) -> str:
    message = json.dumps({"last_event_seq": last_event_seq, "nonces": nonces}, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def verify_ledger(
    session: Session, client: ChainClient, domain: SigningDomain, key: bytes, *, since_checkpoint: bool = False
) -> AuditReport:
    """Audit the ledger (from the last checkpoint, if asked and it is genuine); a clean run records a checkpoint.

    The caller commits: the checkpoint is written in the audit's own transaction.
    """
    resume, invalid = _resume(session, key) if since_checkpoint else (None, None)
    report = audit(session, client, domain, resume)
    if invalid is not None:
        report.findings.insert(0, invalid)
    report.counts["verified_after_seq"] = resume.after_seq if resume else 0
    if report.ok:
        record_checkpoint(session, key, session.scalar(select(func.max(Event.seq))) or 0)
    return report


def record_checkpoint(session: Session, key: bytes, last_seq: int) -> VerifyCheckpoint:
    """A checkpoint after event ``last_seq``, with each organisation's last nonce up to it, MAC'd with ``key``."""
    nonces = {
        str(org_id): int(nonce)
        for org_id, nonce in session.execute(
            select(Event.org_id, func.max(Event.nonce)).where(Event.seq <= last_seq).group_by(Event.org_id)
        )
    }
    checkpoint = VerifyCheckpoint(last_event_seq=last_seq, nonces=nonces, mac=_mac(key, last_seq, nonces))
    session.add(checkpoint)
    return checkpoint


def _resume(session: Session, key: bytes) -> tuple[Resume | None, Finding | None]:
    latest = session.scalars(select(VerifyCheckpoint).order_by(VerifyCheckpoint.id.desc()).limit(1)).first()
    if latest is None:
        return None, None
    if not hmac.compare_digest(latest.mac, _mac(key, latest.last_event_seq, latest.nonces)):
        detail = f"checkpoint {latest.id} (after event {latest.last_event_seq}) is not one a verification recorded"
        found = Finding(FindingKind.CHECKPOINT_INVALID, detail, table="verify_checkpoints", row=f"id={latest.id}")
        return None, found
    return Resume(latest.last_event_seq, {int(org): nonce for org, nonce in latest.nonces.items()}), None
