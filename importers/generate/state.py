"""The generator's in-memory ledger: ids, holdings, codes, open shipments, and the rows of the current chunk.

The simulation decides what happens; this module books it exactly as the ledger services would (movements,
shipments and their lines, holdings, transformations, holds, code states), so the projections written to the
database agree with the events by construction. Ids are assigned here, not by the database: the generator
writes into empty tables and knows every id before the row exists, which is what lets a chunk's rows go in with
plain bulk inserts.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from importers.generate.events import Spec
from importers.generate.topology import Org, Product
from ledger.models import Category, CodeKind, CodeStatus, MovementKind
from ledger.registry import BatchAttributes

Row = tuple[Any, ...]
# Which holding column an outgoing movement adds to (after on_hand: received, shipped, consumed, destroyed,
# transformed); incoming movements (commission, receive, transform_out) add to ``received``.
_DEBIT = {MovementKind.SHIP: 2, MovementKind.SELL: 3, MovementKind.ADMINISTER: 3, MovementKind.DESTROY: 4,
          MovementKind.TRANSFORM_IN: 5}  # fmt: skip
Stamp = Callable[[int], Any]
"""Milliseconds since the epoch → the value the database driver takes for a timestamp column."""


@dataclass(slots=True)
class Case:
    """A case of coded doses (SSCC); ``items`` index :attr:`Ledger.codes`."""

    code: int
    sscc: str
    items: list[int]


@dataclass(slots=True)
class BatchState:
    id: int
    product: Product
    lot: str
    quantity: int
    registrant: Org
    national: bool = False
    transformed_from: int | None = None  # its registration hash is then the transformation event's digest
    held: bool = False
    attrs: BatchAttributes | None = None  # what the registrant declared (None for a transformation's output)
    expiry_date: date | None = None
    registration_hash: str = "0x" + "00" * 32
    created_ms: int = 0  # the time of its first event
    cases: list[Case] = field(default_factory=list)
    cases_to_pack: int = 0

    @property
    def line(self) -> tuple[str, str, int, str]:
        return (self.product.gtin, self.lot, self.quantity, self.product.unit)

    def quantity_line(self, quantity: int) -> tuple[str, str, int, str]:
        return (self.product.gtin, self.lot, quantity, self.product.unit)

    @property
    def category(self) -> Category:
        return self.product.category


@dataclass
class Chunk:
    """Events [first_seq, first_seq + len(specs)) and the projection rows they produced."""

    first_seq: int
    specs: list[Spec] = field(default_factory=list)
    touched: list[tuple[int, ...]] = field(default_factory=list)  # batch ids per event, ascending
    orgs: list[Org] = field(default_factory=list)
    batches: list[BatchState] = field(default_factory=list)  # new this chunk
    shipments: list[Row] = field(default_factory=list)
    shipment_lines: list[Row] = field(default_factory=list)
    movements: list[Row] = field(default_factory=list)
    transformations: list[Row] = field(default_factory=list)
    holds: list[dict[str, Any]] = field(default_factory=list)
    code_issues: dict[int, tuple[int, int]] = field(default_factory=dict)  # seq → (first code index, count)
    transformed: dict[int, BatchState] = field(default_factory=dict)  # seq → output batch


@dataclass
class Shipment:
    id: int
    seq: int
    sender: Org
    receiver: Org
    batch: BatchState
    quantity: int
    returnable: bool
    cases: list[Case]


class Ledger:
    """Ids, holdings and code states so far, and the rows of the chunk being filled."""

    def __init__(self, rng: random.Random, stamp: Stamp, *, start_ms: int, step_ms: int, first_seq: int) -> None:
        self.rng = rng
        self.stamp = stamp
        self.t_ms = start_ms
        self._step = (max(1, step_ms // 2), max(1, step_ms * 3 // 2))
        self.next_seq = first_seq
        self.next_batch = 1
        self.next_shipment = 1
        self.next_movement = 1
        self.next_transformation = 1
        self.next_hold = 1
        self.batches: list[BatchState] = []
        self.holdings: dict[tuple[int, int], list[int]] = {}
        # [kind, batch_id, serial, sscc, parent index, status, holder, shipment, issuer, signature, created, consumed]
        self.codes: list[list[Any]] = []
        self.open_shipments: dict[int, Shipment] = {}
        self.shipments_received = 0
        self.chunk = Chunk(first_seq)

    @property
    def emitted(self) -> int:
        return self.next_seq - 1

    def take_chunk(self) -> Chunk:
        chunk, self.chunk = self.chunk, Chunk(self.next_seq)
        return chunk

    def emit(self, kind: str, org: Org, args: tuple[Any, ...], *batches: BatchState) -> int:
        """Book one event by ``org`` on ``batches``; event times strictly increase, so every batch chain is ordered."""
        self.t_ms += self.rng.randint(*self._step)
        org.nonce += 1
        seq = self.next_seq
        self.next_seq += 1
        self.chunk.specs.append((kind, org.index, org.nonce, self.t_ms, args))
        self.chunk.touched.append(tuple(sorted({b.id for b in batches})))
        self.chunk.orgs.append(org)
        return seq

    def new_batch(self, product: Product, lot: str, quantity: int, registrant: Org, **kw: Any) -> BatchState:
        batch = BatchState(self.next_batch, product, lot, quantity, registrant, **kw)
        self.next_batch += 1
        self.batches.append(batch)
        return batch

    def holding(self, org: Org, batch: BatchState) -> list[int]:
        """[on_hand, received, shipped, consumed, destroyed, transformed, updated ms] of ``org`` for ``batch``."""
        key = (org.id, batch.id)
        found = self.holdings.get(key)
        if found is None:
            found = self.holdings[key] = [0, 0, 0, 0, 0, 0, self.t_ms]
        return found

    def move(
        self,
        seq: int,
        kind: MovementKind,
        batch: BatchState,
        quantity: int,
        *,
        sender: Org | None = None,
        receiver: Org | None = None,
        shipment: int | None = None,
    ) -> None:
        """One trade-graph edge, and the holding it changes, as ``ledger.trade`` / ``ledger.packing`` book them."""
        self.chunk.movements.append((
            self.next_movement, seq, batch.id, kind.value, sender.id if sender else None,
            receiver.id if receiver else None, quantity, shipment,
        ))  # fmt: skip
        self.next_movement += 1
        column = _DEBIT.get(kind)
        if column is not None:
            assert sender is not None
            held = self.holding(sender, batch)
            assert held[0] >= quantity, f"{sender.name} would hold less than nothing of batch {batch.id}"
            held[0] -= quantity
        else:
            assert receiver is not None
            held = self.holding(receiver, batch)
            held[0] += quantity
            column = 1
        held[column] += quantity
        held[6] = self.t_ms

    def open_shipment(
        self,
        seq: int,
        sender: Org,
        receiver: Org,
        batch: BatchState,
        quantity: int,
        returnable: bool,
        cases: list[Case],
    ) -> Shipment:
        shipment = Shipment(self.next_shipment, seq, sender, receiver, batch, quantity, returnable, cases)
        self.next_shipment += 1
        self.open_shipments[shipment.id] = shipment
        self.chunk.shipments.append((shipment.id, seq, sender.id, receiver.id, "in_transit", self.stamp(self.t_ms)))
        self.chunk.shipment_lines.append((shipment.id, batch.id, quantity, 0))
        self.move(seq, MovementKind.SHIP, batch, quantity, sender=sender, receiver=receiver, shipment=shipment.id)
        self.set_codes(cases, CodeStatus.IN_TRANSIT, holder=None, shipment=shipment.id)
        return shipment

    def close_shipment(self, seq: int, shipment: Shipment) -> None:
        del self.open_shipments[shipment.id]
        self.shipments_received += 1
        self.move(
            seq,
            MovementKind.RECEIVE,
            shipment.batch,
            shipment.quantity,
            sender=shipment.sender,
            receiver=shipment.receiver,
            shipment=shipment.id,
        )
        self.set_codes(shipment.cases, CodeStatus.ACTIVE, holder=shipment.receiver.id, shipment=None)

    def set_codes(self, cases: list[Case], status: CodeStatus, *, holder: int | None, shipment: int | None) -> None:
        for case in cases:
            for index in (case.code, *case.items):
                code = self.codes[index]
                code[5], code[6], code[7] = status.value, holder, shipment

    def new_code(self, kind: CodeKind, batch_id: int | None, serial: str | None, sscc: str | None, org: Org) -> int:
        self.codes.append([kind.value, batch_id, serial, sscc, None, CodeStatus.ACTIVE.value, org.id, None, org.id,
                           None, self.t_ms, None])  # fmt: skip
        return len(self.codes) - 1
