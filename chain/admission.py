"""Admission to anchoring: an outbox row is anchored only if its event's signature is its organisation's.

Before a claim, the oldest outbox rows not yet anchored have their events' signatures checked against their
organisations' registered addresses, with nonce and deadline (``ledger.signature_check``). A row that fails is
refused (``outbox.refused_at`` and ``refusal``), logged, and never anchored; it does not hold up the rows behind
it, and ``lotline verify`` reports it (docs/anchoring.md).
"""

from __future__ import annotations

import logging

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from ledger.models import Event, Organisation, OutboxEntry, utcnow
from ledger.signature_check import SIGNED_COLUMNS, NonceBook, SignedRow
from ledger.signing import SigningDomain

logger = logging.getLogger(__name__)


def admit(session_factory: sessionmaker[Session], domain: SigningDomain, *, max_events: int = 20_000) -> set[int]:
    """Check the signatures of the oldest unanchored events; refuse the bad rows, return the good ones' ``seq``.

    The rows a run refuses are skipped, so the check goes on over the rows behind them until it has found
    good ones or the outbox has nothing left to check. The check runs outside the claim's transaction: on
    SQLite that transaction holds the write lock every scan waits for.
    """
    while True:
        rows, addresses, last_nonces = _unchecked(session_factory, max_events)
        if not rows:
            return set()
        problems = NonceBook(last_nonces).check(rows, domain, addresses)
        if problems:
            _refuse(session_factory, problems)
        admitted = {row.seq for row in rows} - problems.keys()
        if admitted:
            return admitted


def _unchecked(
    session_factory: sessionmaker[Session], max_events: int
) -> tuple[list[SignedRow], dict[int, str], dict[int, int]]:
    """The oldest unanchored, unrefused events; their organisations' addresses and last anchored nonces."""
    with session_factory() as session:
        rows = [
            SignedRow(*row)
            for row in session.execute(
                select(*SIGNED_COLUMNS)
                .join(OutboxEntry, OutboxEntry.event_seq == Event.seq)
                .where(OutboxEntry.anchor_id.is_(None), OutboxEntry.refused_at.is_(None))
                .order_by(OutboxEntry.event_seq)
                .limit(max_events)
            )
        ]
        org_ids = {row.org_id for row in rows}
        addresses = {
            org_id: str(address)
            for org_id, address in session.execute(
                select(Organisation.id, Organisation.chain_address).where(Organisation.id.in_(org_ids))
            )
        }
        last_nonces: dict[int, int] = {
            org_id: int(nonce)
            for org_id, nonce in session.execute(
                select(Event.org_id, func.max(Event.nonce))
                .join(OutboxEntry, OutboxEntry.event_seq == Event.seq)
                .where(Event.org_id.in_(org_ids), OutboxEntry.anchor_id.is_not(None))
                .group_by(Event.org_id)
            )
        }
        session.commit()
    return rows, addresses, last_nonces


def _refuse(session_factory: sessionmaker[Session], problems: dict[int, str]) -> None:
    """Quarantine each refused event's outbox row with its reason; it is never claimed again."""
    now = utcnow()
    with session_factory() as session:
        for seq, problem in sorted(problems.items()):
            logger.error("anchoring refused event seq %s: %s", seq, problem)
            session.execute(
                update(OutboxEntry)
                .where(OutboxEntry.event_seq == seq, OutboxEntry.anchor_id.is_(None))
                .values(refused_at=now, refusal=problem[:300])
            )
        session.commit()
