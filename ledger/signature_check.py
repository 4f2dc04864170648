"""Checking the signatures of stored events: what the anchoring worker and ``lotline verify`` both apply.

An event row carries its EIP-712 signature (signer, nonce, deadline, ``r ‖ s ‖ v``, docs/events.md). A row is
accepted when the signature recovers to its organisation's registered address (not merely to the ``signer``
column, which an insider can write too), its deadline had not passed when the ledger recorded it, and its nonce
exceeds every nonce already accepted from that organisation, in ledger order. The worker refuses to anchor a row
that fails (docs/anchoring.md); ``lotline verify`` reports it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from ledger.errors import LotlineError
from ledger.event_hash import hash_digest
from ledger.models import Event
from ledger.signing import EventSignature, SigningDomain, verify_event_signature


@dataclass(frozen=True, slots=True)
class SignedRow:
    """The columns of an ``events`` row that its signature covers or is checked against."""

    seq: int
    event_id: str
    org_id: int
    signer: str
    nonce: int
    deadline: int
    signature: str
    recorded_at: datetime

    @classmethod
    def of(cls, event: Event) -> SignedRow:
        return cls(*(getattr(event, column.key) for column in SIGNED_COLUMNS))


SIGNED_COLUMNS: Final[tuple[Any, ...]] = (
    Event.seq,
    Event.event_id,
    Event.org_id,
    Event.signer,
    Event.nonce,
    Event.deadline,
    Event.signature,
    Event.recorded_at,
)
"""What to select for :class:`SignedRow`, in its field order."""


def signature_problem(
    row: SignedRow, domain: SigningDomain, org_address: str | None, last_nonce: int | None
) -> str | None:
    """Why ``row``'s signature is not its organisation's, in one sentence; None when it is."""
    if org_address is None:
        return f"organisation {row.org_id} is not registered"
    try:
        raw = bytes.fromhex(row.signature[2:]) if row.signature.startswith("0x") else b""
        signature = EventSignature(row.signer, int(row.nonce), int(row.deadline), raw)
        verify_event_signature(
            hash_digest(row.event_id),
            signature,
            domain,
            expected_signer=org_address,
            last_nonce=last_nonce,
            now=int(row.recorded_at.timestamp()),
        )
    except LotlineError as error:
        return f"{error.reason}: {error.detail}"
    except ValueError:
        return "InvalidSignature: the signature is not hex"
    return None


@dataclass
class NonceBook:
    """The highest nonce accepted so far from each organisation, moved forward row by row in ledger order."""

    last: dict[int, int]

    def check(self, rows: Iterable[SignedRow], domain: SigningDomain, addresses: Mapping[int, str]) -> dict[int, str]:
        """The problem of each bad row by ``seq``; accepted rows move their organisation's nonce forward."""
        problems: dict[int, str] = {}
        for row in rows:
            problem = signature_problem(row, domain, addresses.get(row.org_id), self.last.get(row.org_id))
            if problem is None:
                self.last[row.org_id] = int(row.nonce)
            else:
                problems[row.seq] = problem
        return problems
