"""What ``lotline verify`` reports: each finding names its kind and the event, batch, anchor or row it is about.

The kinds are listed in docs/anchoring.md. ``--json`` prints :meth:`AuditReport.as_dict`; the text form prints one
line per finding (:meth:`Finding.as_text`): the kind, where (table and row, event, batch, position, anchor) and
what differs.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Final


class FindingKind(StrEnum):
    EVENT_EDITED = "event_edited"
    """The stored document no longer hashes to the event id (or names another id)."""
    PROOF_INVALID = "proof_invalid"
    """An anchored event's proof does not lead from its digest to its anchor's root."""
    ANCHOR_MISMATCH = "anchor_mismatch"
    """A confirmed root is not on chain, carries another event total, or lost events in the ledger."""
    BATCH_CHAIN_BROKEN = "batch_chain_broken"
    """A batch's links are missing, out of order or altered from ``position`` on."""
    BATCH_HEAD_MISMATCH = "batch_head_mismatch"
    """The batch row's head or count is not where its links end."""
    CHAIN_HEAD_MISMATCH = "chain_head_mismatch"
    """The ledger's head at the chain's count is not the head on chain."""
    REGISTRATION_MISMATCH = "registration_mismatch"
    """The batch's registration hash is not the one registered on chain."""
    SIGNATURE_INVALID = "signature_invalid"
    """The event's signature is not its organisation's, or its nonce or deadline is out of order."""
    EVENT_REFUSED = "event_refused"
    """The anchoring worker refused the event (its signature did not verify): it is quarantined, not anchored."""
    REGISTRATION_EDITED = "registration_edited"
    """The batch row no longer hashes to its registration hash: quantity or declarations were edited."""
    MOVEMENT_MISSING = "movement_missing"
    """An event that moves goods has no movement in the books."""
    HOLDING_MISMATCH = "holding_mismatch"
    """A holding is not what its batch's movements add up to."""
    CODE_MISMATCH = "code_mismatch"
    """An item code's serial was never commissioned, or an event consumed it and it is back in circulation."""
    UNHASHED_CONTENT = "unhashed_content"
    """The stored document carries a field outside its hash (``errorDeclaration``, ``recordTime``)."""
    CHECKPOINT_INVALID = "checkpoint_invalid"
    """The last verification checkpoint's MAC does not match: it was not written by a verification."""
    RECALL_TARGET_MISMATCH = "recall_target_mismatch"
    """A recall's batches in the ledger are not the batches of its record on chain."""


KIND_OF_TABLE: Final = {
    "batches": FindingKind.REGISTRATION_EDITED,
    "movements": FindingKind.MOVEMENT_MISSING,
    "holdings": FindingKind.HOLDING_MISMATCH,
    "codes": FindingKind.CODE_MISMATCH,
}


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    detail: str
    event_id: str | None = None
    batch_id: int | None = None
    batch: str | None = None
    """The batch as people name it: ``GTIN/lot``."""
    position: int | None = None
    anchor_id: int | None = None
    table: str | None = None
    """The stored row that is wrong, for the derived tables: its table and its key (``row``)."""
    row: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if k == "kind" else v) for k, v in asdict(self).items() if v is not None}

    def as_text(self) -> str:
        where = {k: v for k, v in self.as_dict().items() if k not in ("kind", "detail")}
        return f"{self.kind}: {' '.join(f'{k}={v}' for k, v in where.items())}: {self.detail}"


@dataclass
class AuditReport:
    findings: list[Finding] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.findings

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "counts": dict(sorted(self.counts.items())),
            "findings": [f.as_dict() for f in self.findings],
        }
