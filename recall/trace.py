"""What a walk of the trade graph answers: the holders of the goods, the edges between them and the paths.

Edges, positions and paths are named tuples rather than frozen dataclasses: a wide trace builds tens of thousands
of them, and a frozen dataclass's ``__init__`` (one ``object.__setattr__`` per field) costs twice a tuple's."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from ledger.models import MovementKind

Node = tuple[int, int]  # (org_id, batch_id)


class Edge(NamedTuple):
    from_org_id: int | None
    to_org_id: int | None
    batch_id: int
    quantity: int
    kind: MovementKind
    event_seq: int


class HolderPosition(NamedTuple):
    org_id: int
    batch_id: int
    received: int
    on_hand: int
    shipped: int
    consumed: int
    destroyed: int
    transformed: int
    sent_to: tuple[tuple[int, int], ...]  # (org_id, quantity) shipped onward, in the order goods first left


class HolderPath(NamedTuple):
    """One shortest chain from a start of the trace to a holder, as (org_id, batch_id) hops; a transformation is
    a hop from (org, input batch) to (org, output batch)."""

    org_id: int
    batch_id: int
    hops: tuple[Node, ...]

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
    roots: tuple[int, ...]
    batches: tuple[int, ...]
    holders: tuple[HolderPosition, ...]
    edges: tuple[Edge, ...]
    paths: tuple[HolderPath, ...]

    @property
    def org_ids(self) -> frozenset[int]:
        return frozenset(h.org_id for h in self.holders)

    def holder(self, org_id: int, batch_id: int) -> HolderPosition | None:
        return next((h for h in self.holders if (h.org_id, h.batch_id) == (org_id, batch_id)), None)

    def path(self, org_id: int, batch_id: int) -> HolderPath | None:
        return next((p for p in self.paths if (p.org_id, p.batch_id) == (org_id, batch_id)), None)
