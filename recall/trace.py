"""What a walk of the trade graph answers: the holders of the goods, the edges between them and the paths.

Edges, positions and paths are named tuples rather than frozen dataclasses: a wide trace builds tens of thousands
of them, and a frozen dataclass's ``__init__`` (one ``object.__setattr__`` per field) costs twice a tuple's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, NewType

from ledger.models import MovementKind

# Organisations, batches and codes are all numbered from 1 in the ledger; these keep the walk from taking one
# for another (a position is (organisation, batch), a registrants map is batch → organisation).
OrgId = NewType("OrgId", int)
BatchId = NewType("BatchId", int)
CodeId = NewType("CodeId", int)

Position = tuple[OrgId, BatchId]
"""Where goods are: one organisation's stock of one batch; the nodes of the trade graph."""


class Edge(NamedTuple):
    from_org_id: OrgId | None
    to_org_id: OrgId | None
    batch_id: BatchId
    quantity: int
    kind: MovementKind
    event_seq: int


class HolderPosition(NamedTuple):
    org_id: OrgId
    batch_id: BatchId
    received: int
    on_hand: int
    shipped: int
    consumed: int
    destroyed: int
    transformed: int
    sent_to: tuple[tuple[OrgId, int], ...]  # (org_id, quantity) shipped onward, in the order goods first left


class HolderPath(NamedTuple):
    """One shortest chain from a start of the trace to a holder, as (org_id, batch_id) hops; a transformation is
    a hop from (org, input batch) to (org, output batch)."""

    org_id: OrgId
    batch_id: BatchId
    hops: tuple[Position, ...]

    @property
    def org_ids(self) -> tuple[int, ...]:
        """The organisations on the chain for display, a transformation's organisation shown once."""
        out: list[int] = []
        for org_id, _batch_id in self.hops:
            if not out or out[-1] != org_id:
                out.append(org_id)
        return tuple(out)


@dataclass(frozen=True)
class Trace:
    roots: tuple[BatchId, ...]
    batches: tuple[BatchId, ...]
    holders: tuple[HolderPosition, ...]
    edges: tuple[Edge, ...]
    paths: tuple[HolderPath, ...]

    @property
    def org_ids(self) -> frozenset[OrgId]:
        return frozenset(h.org_id for h in self.holders)

    def holder(self, org_id: int, batch_id: int) -> HolderPosition | None:
        return next((h for h in self.holders if (h.org_id, h.batch_id) == (org_id, batch_id)), None)

    def path(self, org_id: int, batch_id: int) -> HolderPath | None:
        return next((p for p in self.paths if (p.org_id, p.batch_id) == (org_id, batch_id)), None)
