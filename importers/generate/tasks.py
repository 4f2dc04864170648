"""The tasks of the simulation, each recording exactly one event the way its ledger service does.

``ship``/``receive``/``consume``/``destroy``/``inspect`` follow ``ledger.trade``; ``transform``, ``pack`` and
``unpack`` follow ``ledger.packing``; ``issue_codes`` follows ``ledger.codes``. After an event that hands goods
to someone (a receive, a transformation, the last case packed), :meth:`Tasks.dispatch` plans what they do next.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from typing import Any

from importers.generate import events as ev
from importers.generate.events import GoodsSpec
from importers.generate.state import BatchState, Case, Ledger, Shipment
from importers.generate.topology import Kind, Org, Topology
from ledger.identifiers import SERIAL_ALPHABET, make_sscc
from ledger.models import CodeKind, CodeStatus, MovementKind

Task = tuple[Callable[..., None], tuple[Any, ...]]
INSPECTION_FAILED = "抽检不合格：农药残留超标"


class Tasks(ABC):
    def __init__(self, topology: Topology, rng: random.Random, ledger: Ledger) -> None:
        self.t = topology
        self.rng = rng
        self.ledger = ledger
        self.pool: list[Task] = []
        self.stats: Counter[str] = Counter()
        self.next_sscc = 1
        self.inspector = topology.orgs[topology.of(Kind.REGULATOR)[0]]

    def push(self, fn: Callable[..., None], *args: Any) -> None:
        self.pool.append((fn, args))

    @abstractmethod
    def dispatch(
        self, org: Org, batch: BatchState, quantity: int, *, returnable: bool = True, sender: Org | None = None,
        cases: list[Case] | None = None,
    ) -> None:  # fmt: skip
        """Plan what ``org`` does with ``quantity`` of ``batch`` it was just handed."""

    def ship(self, org: Org, to: Org, batch: BatchState, quantity: int, returnable: bool, cases: list[Case]) -> None:
        if batch.held:
            self.destroy(org, batch, quantity)
            return
        seq = self.ledger.emit(ev.SHIP, org, (to.index, _goods(batch, quantity, cases)), batch)
        shipment = self.ledger.open_shipment(seq, org, to, batch, quantity, returnable, cases)
        if not returnable and org.kind is Kind.WHOLESALE_2:
            self.stats["returns"] += 1
        self.push(self.receive, shipment)

    def receive(self, shipment: Shipment) -> None:
        batch, quantity = shipment.batch, shipment.quantity
        goods = _goods(batch, quantity, shipment.cases)
        seq = self.ledger.emit(ev.RECEIVE, shipment.receiver, (shipment.sender.index, goods), batch)
        self.ledger.close_shipment(seq, shipment)
        self.dispatch(
            shipment.receiver,
            batch,
            quantity,
            returnable=shipment.returnable,
            sender=shipment.sender,
            cases=shipment.cases,
        )

    def consume(self, org: Org, batch: BatchState, quantity: int, kind: MovementKind) -> None:
        """Sell or administer a batch quantity (``trade.sell`` / ``trade.administer``)."""
        if batch.held:
            self.destroy(org, batch, quantity)
            return
        spec = ev.SELL if kind is MovementKind.SELL else ev.ADMINISTER
        seq = self.ledger.emit(spec, org, (_goods(batch, quantity, []),), batch)
        self.ledger.move(seq, kind, batch, quantity, sender=org)

    def destroy(self, org: Org, batch: BatchState, quantity: int) -> None:
        seq = self.ledger.emit(ev.DESTROY, org, (_goods(batch, quantity, []),), batch)
        self.ledger.move(seq, MovementKind.DESTROY, batch, quantity, sender=org)

    def inspect(self, batch: BatchState, quantity: int, passed: bool) -> None:
        """A regulator's sampling inspection (抽检); a failure holds the batch at every holder (``trade.inspect``)."""
        ledger = self.ledger
        seq = ledger.emit(ev.INSPECT, self.inspector, (_goods(batch, quantity, []), passed), batch)
        self.stats["inspections"] += 1
        if not passed and not batch.held:
            batch.held = True
            self.stats["failed_inspections"] += 1
            ledger.chunk.holds.append({
                "batch_id": batch.id, "org_id": None, "reason": INSPECTION_FAILED,
                "event_seq": seq, "placed_at": ledger.t_ms,
            })  # fmt: skip

    def transform(self, org: Org, batch: BatchState, quantity: int) -> None:
        """A wholesaler cuts part of a carcass batch into packs: a new batch it holds (``packing.transform``)."""
        if batch.held:
            self.destroy(org, batch, quantity)
            return
        ledger = self.ledger
        product = self.t.products[self.t.cut_product_of[org.index]]
        lot = f"CUT{batch.id:x}".upper() + f"N{ledger.next_batch}"
        output = ledger.new_batch(product, lot, quantity * 2, org, transformed_from=batch.id)
        output.expiry_date = batch.expiry_date
        args = (_goods(batch, quantity, []), output.line)
        seq = ledger.emit(ev.TRANSFORM, org, args, batch, output)
        ledger.chunk.batches.append(output)
        ledger.chunk.transformed[seq] = output
        ledger.chunk.transformations.append((ledger.next_transformation, seq, org.id, batch.id, output.id, quantity))
        ledger.next_transformation += 1
        ledger.move(seq, MovementKind.TRANSFORM_IN, batch, quantity, sender=org)
        ledger.move(seq, MovementKind.TRANSFORM_OUT, output, output.quantity, receiver=org)
        self.stats["transformations"] += 1
        self.dispatch(org, output, output.quantity)

    def issue_codes(self, org: Org, batch: BatchState) -> None:
        """One code per dose, then a pack task per case (``codes.issue_item_codes``: ≤10,000 codes per event)."""
        ledger = self.ledger
        unique: dict[str, None] = {}
        while len(unique) < batch.quantity:
            unique["".join(self.rng.choices(SERIAL_ALPHABET, k=12))] = None
        serials = tuple(unique)
        expiry = batch.expiry_date.isoformat() if batch.expiry_date else None
        seq = ledger.emit(ev.CODES, org, (batch.product.gtin, batch.lot, serials, expiry), batch)
        first = len(ledger.codes)
        for serial in serials:
            ledger.new_code(CodeKind.ITEM, batch.id, serial, None, org)
        ledger.chunk.code_issues[seq] = (first, len(serials))
        size = batch.quantity // batch.cases_to_pack
        for start in range(first, first + len(serials), size):
            self.push(self.pack, org, batch, list(range(start, start + size)))

    def pack(self, org: Org, batch: BatchState, items: list[int]) -> None:
        ledger = self.ledger
        assert org.company_prefix is not None
        sscc = make_sscc(org.company_prefix, self.next_sscc)
        self.next_sscc += 1
        args = (sscc, batch.product.gtin, tuple(ledger.codes[i][2] for i in items))
        ledger.emit(ev.PACK, org, args, batch)
        case = Case(ledger.new_code(CodeKind.SSCC, None, None, sscc, org), sscc, items)
        for i in items:
            ledger.codes[i][4] = case.code
        batch.cases.append(case)
        self.stats["cases"] += 1
        batch.cases_to_pack -= 1
        if batch.cases_to_pack == 0:
            self.dispatch(org, batch, batch.quantity, cases=list(batch.cases))

    def unpack(self, org: Org, batch: BatchState, case: Case) -> None:
        """A vaccination site opens a case; most doses are then administered one scan each, a few broken."""
        ledger = self.ledger
        ledger.emit(
            ev.UNPACK, org, (case.sscc, batch.product.gtin, tuple(ledger.codes[i][2] for i in case.items)), batch
        )
        for i in case.items:
            ledger.codes[i][4] = None
            roll = self.rng.random()
            if roll < 0.01:
                self.push(self.use_item, org, batch, i, MovementKind.DESTROY)
            elif roll < 0.93:
                self.push(self.use_item, org, batch, i, MovementKind.ADMINISTER)

    def use_item(self, org: Org, batch: BatchState, item: int, kind: MovementKind) -> None:
        ledger = self.ledger
        code = ledger.codes[item]
        goods = GoodsSpec(item_gtin=batch.product.gtin, item_serials=(code[2],))
        seq = ledger.emit(ev.ADMINISTER if kind is MovementKind.ADMINISTER else ev.DESTROY, org, (goods,), batch)
        ledger.move(seq, kind, batch, 1, sender=org)
        status = CodeStatus.ADMINISTERED if kind is MovementKind.ADMINISTER else CodeStatus.DESTROYED
        code[5], code[11] = status.value, ledger.t_ms


def _goods(batch: BatchState, quantity: int, cases: list[Case]) -> GoodsSpec:
    if cases:
        contents = batch.quantity_line(sum(len(case.items) for case in cases))
        return GoodsSpec(ssccs=tuple(case.sscc for case in cases), contents=(contents,))
    return GoodsSpec(lines=(batch.quantity_line(quantity),))
