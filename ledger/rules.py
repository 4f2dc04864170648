"""The rules that accept or refuse a trade event, as pure functions over snapshots of ledger state.

They read nothing and write nothing: ``ledger.trade`` loads the state (locking the rows it will change), asks
these functions, and only then writes. A refusal is a typed error from ``ledger.errors``; because every check runs
before the first write, a refused event leaves the ledger exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from ledger.errors import (
    AlreadyConsumed,
    ExpiredGoods,
    HeldGoods,
    InvalidQuantity,
    NotHolder,
    QuantityExceeded,
    RecalledGoods,
    ShipmentMismatch,
)
from ledger.models import CodeStatus

CONSUMED = frozenset({CodeStatus.SOLD, CodeStatus.ADMINISTERED, CodeStatus.DESTROYED, CodeStatus.TRANSFORMED})


@dataclass(frozen=True, slots=True)
class BatchState:
    batch_id: int
    label: str  # "(01)gtin(10)lot", for messages
    expiry_date: date | None
    open_recall_numbers: tuple[str, ...]
    held_for_org: bool  # a hold covers this holder (or every holder)
    hold_reasons: tuple[str, ...] = ()  # why, oldest first (a failed inspection, an excursion's number)


@dataclass(frozen=True, slots=True)
class ItemState:
    code_id: int
    label: str
    batch_id: int | None
    status: CodeStatus
    holder_org_id: int | None
    shipment_id: int | None


@dataclass(frozen=True, slots=True)
class ShipmentState:
    shipment_id: int
    to_org_id: int
    # batch_id → quantity still expected (shipped minus already received)
    outstanding: Mapping[int, int]


def require_quantity(quantity: object, *, what: str = "quantity") -> int:
    """Quantities are whole, positive units of the product (pieces, doses, cases, kg as declared)."""
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise InvalidQuantity(f"{what} must be a whole number, got {quantity!r}", quantity=repr(quantity))
    if quantity <= 0:
        raise InvalidQuantity(f"{what} must be positive, got {quantity}", quantity=quantity)
    return quantity


def require_available(batch: BatchState, *, today: date, action: str) -> None:
    """Recalled, held or expired goods may not be shipped onward, sold or administered."""
    if batch.open_recall_numbers:
        numbers = ", ".join(batch.open_recall_numbers)
        raise RecalledGoods(
            f"{batch.label} is under recall {numbers}: it cannot be {action}",
            batch_id=batch.batch_id,
            recalls=list(batch.open_recall_numbers),
        )
    if batch.held_for_org:
        why = f" ({'; '.join(batch.hold_reasons)})" if batch.hold_reasons else ""
        raise HeldGoods(
            f"{batch.label} is on hold{why}: it cannot be {action}",
            batch_id=batch.batch_id,
            holds=list(batch.hold_reasons),
        )
    if batch.expiry_date is not None and batch.expiry_date < today:
        raise ExpiredGoods(
            f"{batch.label} expired on {batch.expiry_date.isoformat()}: it cannot be {action}",
            batch_id=batch.batch_id,
            expiry_date=batch.expiry_date.isoformat(),
        )


def require_on_hand(*, label: str, on_hand: int, requested: int, batch_id: int) -> None:
    """Batch-level conservation: nobody ships, sells or destroys more than they hold."""
    if requested > on_hand:
        raise QuantityExceeded(
            f"{label}: {requested} requested but only {on_hand} on hand",
            batch_id=batch_id,
            requested=requested,
            on_hand=on_hand,
        )


def require_holder(item: ItemState, org_id: int) -> None:
    """Only the current holder moves, sells or administers an item."""
    if item.status in CONSUMED:
        raise AlreadyConsumed(
            f"{item.label} was already {item.status.value}", code_id=item.code_id, status=item.status.value
        )
    if item.status is CodeStatus.IN_TRANSIT:
        raise NotHolder(f"{item.label} is in transit and not held by anyone", code_id=item.code_id)
    if item.holder_org_id != org_id:
        raise NotHolder(f"{item.label} is not held by the scanning organisation", code_id=item.code_id)


def require_receivable(item: ItemState, shipment: ShipmentState) -> None:
    """A received item must be in transit on exactly the shipment being received."""
    if item.status is not CodeStatus.IN_TRANSIT or item.shipment_id != shipment.shipment_id:
        raise ShipmentMismatch(
            f"{item.label} is not part of shipment {shipment.shipment_id}",
            code_id=item.code_id,
            shipment_id=shipment.shipment_id,
        )


def require_receive_matches(shipment: ShipmentState, *, receiver_org_id: int, lines: Mapping[int, int]) -> None:
    """A receive matches a shipment addressed to the receiver, for no more than is still outstanding."""
    if shipment.to_org_id != receiver_org_id:
        raise ShipmentMismatch(
            f"shipment {shipment.shipment_id} is not addressed to the receiving organisation",
            shipment_id=shipment.shipment_id,
        )
    for batch_id, quantity in lines.items():
        outstanding = shipment.outstanding.get(batch_id, 0)
        if quantity > outstanding:
            raise ShipmentMismatch(
                f"shipment {shipment.shipment_id} has {outstanding} outstanding of batch {batch_id}, "
                f"{quantity} received",
                shipment_id=shipment.shipment_id,
                batch_id=batch_id,
                outstanding=outstanding,
                received=quantity,
            )


def require_distinct(values: Iterable[str], *, what: str) -> None:
    """The same code twice in one scan would count it twice."""
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise InvalidQuantity(f"{what} {value} appears twice in one request", value=value)
        seen.add(value)
