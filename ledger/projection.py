"""The derived tables replayed from what the ledger commits to, and compared row by row with what is stored.

``lotline verify`` (docs/anchoring.md) proves the events themselves: their hashes, signatures, batch chains
and anchors. This module carries that proof over to what is derived from them (docs/data-model.md):

* **batches** — a registered batch's registration hash is recomputed from its row (product, lot, registrant,
  quantity, declarations); a transformation's output batch is registered by its transforming event's digest;
* **movements** — every event that moves goods (commissioning a lot, ship, receive, sell, administer, destroy,
  transform) has its movements;
* **holdings** — every holding is replayed from the movements, counter by counter;
* **codes** — every item code's serial was commissioned for its batch by an event, and a code an event
  sold, administered, destroyed or transformed is not back in circulation.

Each check reads the ledger once, in the caller's transaction, and returns one :class:`Discrepancy` per bad
row: the table, the row's key, what differs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, fields
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.event_hash import hash_digest
from ledger.models import (
    Batch,
    Code,
    CodeKind,
    Event,
    EventBatch,
    Holding,
    Movement,
    MovementKind,
    Organisation,
    Product,
    Transformation,
)
from ledger.registry import BatchAttributes, registration_hash
from ledger.rules import CONSUMED
from ledger.terms import item_epc

_STREAM: Final = 2_000
_COUNTERS: Final = ("on_hand", "received", "shipped", "consumed", "destroyed", "transformed")
_MOVING_STEPS: Final = frozenset({"shipping", "receiving", "retail_selling", "dispensing", "destroying"})
_CONSUMING_STEPS: Final = frozenset({"retail_selling", "dispensing", "destroying"})
_ATTRIBUTES: Final = tuple(f.name for f in fields(BatchAttributes) if f.name != "extra")


@dataclass(frozen=True)
class Discrepancy:
    """One stored row that is not what the ledger's commitments say it must be."""

    table: str
    row: str
    """The row's key as ``column=value`` pairs, e.g. ``org_id=3,batch_id=7``."""
    detail: str
    batch_id: int | None = None
    """The batch the row belongs to, when it belongs to one."""


def check_projections(session: Session) -> list[Discrepancy]:
    """Every discrepancy between the derived tables and what the events and registrations commit to."""
    return [
        *batch_registrations(session),
        *missing_movements(session),
        *holdings_against_movements(session),
        *codes_against_events(session),
    ]


def _step(biz_step: str | None) -> str:
    """A business step's bare CBV name, whether stored compact or as a full URI."""
    return (biz_step or "").rsplit("/", 1)[-1].rsplit(":", 1)[-1]


def batch_registrations(session: Session) -> Iterator[Discrepancy]:
    """Each batch's registration hash, recomputed from its row (or from its transforming event)."""
    outputs = dict(
        session.execute(
            select(Transformation.output_batch_id, Event.event_id).join(Event, Event.seq == Transformation.event_seq)
        ).all()
    )
    rows = session.execute(
        select(Batch, Product, Organisation)
        .join(Product, Product.id == Batch.product_id)
        .join(Organisation, Organisation.id == Batch.registrant_org_id)
        .order_by(Batch.id)
    )
    for batch, product, registrant in rows:
        if batch.id in outputs:
            expected = "0x" + hash_digest(outputs[batch.id]).hex()
        else:
            attrs = BatchAttributes(**{name: getattr(batch, name) for name in _ATTRIBUTES})
            expected = registration_hash(product, batch.lot, registrant, batch.quantity, attrs)
        if expected != batch.registration_hash:
            yield Discrepancy(
                "batches",
                f"id={batch.id}",
                f"its row hashes to {expected}, not to its registration hash {batch.registration_hash}: "
                "quantity or declarations were edited",
                batch.id,
            )


def missing_movements(session: Session) -> Iterator[Discrepancy]:
    """Events on a batch that move goods but have no movement left in the books."""
    moved = set(session.scalars(select(Movement.event_seq).distinct()))
    rows = session.execute(
        select(Event.seq, Event.event_id, Event.event_type, Event.action, Event.biz_step, Event.document)
        .where(Event.seq.in_(select(EventBatch.event_seq)))
        .order_by(Event.seq)
        .execution_options(yield_per=_STREAM)
    )
    for seq, event_id, event_type, action, biz_step, document in rows:
        step = _step(biz_step)
        lot_commissioning = step == "commissioning" and action == "ADD" and "quantityList" in document
        moves = step in _MOVING_STEPS or lot_commissioning or event_type == "TransformationEvent"
        if moves and seq not in moved:
            yield Discrepancy("movements", f"event_seq={seq}", f"event {event_id} ({step}) has no movement")


def holdings_against_movements(session: Session) -> Iterator[Discrepancy]:
    """Each holding replayed from the movements: what arrived, what left and how, and what is on hand."""
    replayed: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: dict.fromkeys(_COUNTERS, 0))
    rows = session.execute(
        select(Movement.kind, Movement.batch_id, Movement.from_org_id, Movement.to_org_id, Movement.quantity)
        .order_by(Movement.id)
        .execution_options(yield_per=_STREAM)
    )
    for kind, batch_id, from_org, to_org, quantity in rows:
        for org_id, counter, sign in _entries(MovementKind(kind), from_org, to_org):
            book = replayed[(org_id, batch_id)]
            book[counter] += quantity
            book["on_hand"] += sign * quantity
    stored = {(h.org_id, h.batch_id): {c: getattr(h, c) for c in _COUNTERS} for h in session.scalars(select(Holding))}
    zero = dict.fromkeys(_COUNTERS, 0)
    for key in sorted(replayed.keys() | stored.keys()):
        expected, actual = replayed.get(key, zero), stored.get(key, zero)
        if expected != actual:
            differs = ", ".join(
                f"{c} {actual[c]} (movements say {expected[c]})" for c in _COUNTERS if expected[c] != actual[c]
            )
            yield Discrepancy("holdings", f"org_id={key[0]},batch_id={key[1]}", differs, key[1])


def _entries(kind: MovementKind, from_org: int | None, to_org: int | None) -> list[tuple[int, str, int]]:
    """``(organisation, counter, on-hand sign)`` a movement enters, as ``ledger.bookkeeping`` enters it."""
    arriving = (to_org, "received", 1)
    leaving = {
        MovementKind.SHIP: "shipped",
        MovementKind.SELL: "consumed",
        MovementKind.ADMINISTER: "consumed",
        MovementKind.DESTROY: "destroyed",
        MovementKind.TRANSFORM_IN: "transformed",
    }
    if kind in (MovementKind.COMMISSION, MovementKind.RECEIVE, MovementKind.TRANSFORM_OUT):
        entries = [arriving]
    else:
        entries = [(from_org, leaving[kind], -1)]
    return [(org, counter, sign) for org, counter, sign in entries if org is not None]


def codes_against_events(session: Session) -> Iterator[Discrepancy]:
    """Item codes against the events that commissioned them and the events that consumed them."""
    commissioned: set[tuple[int, str]] = set()
    consumed: set[str] = set()
    rows = session.execute(
        select(Event.seq, Event.biz_step, Event.event_type, Event.document, EventBatch.batch_id)
        .join(EventBatch, EventBatch.event_seq == Event.seq)
        .order_by(Event.seq)
        .execution_options(yield_per=_STREAM)
    )
    for _seq, biz_step, event_type, document, batch_id in rows:
        step = _step(biz_step)
        if step == "commissioning":
            commissioned.update((batch_id, epc) for epc in document.get("epcList", ()))
        elif step in _CONSUMING_STEPS:
            consumed.update(document.get("epcList", ()))
        elif event_type == "TransformationEvent":
            consumed.update(document.get("inputEPCList", ()))
    codes = session.execute(
        select(Code.id, Code.batch_id, Code.serial, Code.status, Code.consumed_at, Product.gtin)
        .join(Batch, Batch.id == Code.batch_id)
        .join(Product, Product.id == Batch.product_id)
        .where(Code.kind == CodeKind.ITEM)
        .order_by(Code.id)
        .execution_options(yield_per=_STREAM)
    )
    for code_id, batch_id, serial, status, consumed_at, gtin in codes:
        epc = item_epc(gtin, serial or "")
        if (batch_id, epc) not in commissioned:
            detail = f"serial {serial} was never commissioned for batch {batch_id}"
            yield Discrepancy("codes", f"id={code_id}", detail, batch_id)
        elif epc in consumed and (status not in CONSUMED or consumed_at is None):
            yield Discrepancy("codes", f"id={code_id}", f"status {status}, but an event consumed {epc}", batch_id)
