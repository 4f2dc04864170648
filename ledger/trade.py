"""Trade scans: ship, receive, sell, administer, destroy, inspect.

Each function checks first that the organisation's roles allow the action (``ledger.policy``), then every rule
against locked rows (``ledger.goods`` + ``ledger.rules``), and only then writes the EPCIS event
(``ledger.epcis_events``, ``ledger.recorder``) and enters it in the books (``ledger.bookkeeping``), all in the
caller's transaction. A refusal raises before the first write, so nothing of a refused scan is ever stored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import epcis_events, terms
from ledger.bookkeeping import enter_receipt, enter_shipment, enter_use
from ledger.epcis import SensorElement
from ledger.errors import (
    AlreadyConsumed,
    InvalidTransition,
    NotHolder,
    RecalledGoods,
    UnknownOrganisation,
    UnknownShipment,
)
from ledger.goods import (
    BatchLine,
    Goods,
    ResolvedGoods,
    batch_state,
    code_label,
    item_state,
    lock_holding,
    recalled_codes,
    resolve,
)
from ledger.identifiers import DigitalLink
from ledger.models import (
    Batch,
    Category,
    Code,
    CodeStatus,
    Event,
    Hold,
    HoldKind,
    MovementKind,
    Organisation,
    Product,
    Role,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
)
from ledger.policy import TradeAction, require_trade_role
from ledger.recorder import Signer, record_event
from ledger.rules import (
    CONSUMED,
    ShipmentState,
    require_available,
    require_holder,
    require_on_hand,
    require_receivable,
    require_receive_matches,
)


@dataclass(frozen=True, slots=True)
class ScanContext:
    """Who scans, where and when, and what sensors said then (a logger read at receipt, a vial monitor's stage)."""

    org: Organisation
    location_id: int | None = None
    event_time: datetime | None = None
    sensors: tuple[SensorElement, ...] = ()

    def time(self) -> datetime:
        return self.event_time or datetime.now(UTC)


def record_scan_event(
    session: Session,
    signer: Signer,
    ctx: ScanContext,
    document: dict[str, Any],
    batches: Iterable[Batch],
    when: datetime,
) -> Event:
    """Record a scan's event as the scanning organisation, at its location, on the batches it touches."""
    return record_event(
        session, signer, org=ctx.org, document=document, batches=batches, event_time=when, location_id=ctx.location_id
    )


def check_outgoing(session: Session, ctx: ScanContext, goods: ResolvedGoods, *, action: str, available: bool) -> None:
    """The shared checks of every outgoing scan: holder, not consumed, available, enough on hand."""
    org_id = ctx.org.id
    for code in goods.top_codes + goods.items + goods.containers:
        require_holder(item_state(code, code_label(code, goods.batches, goods.products)), org_id)
    today = ctx.time().date()
    if available:
        for batch in goods.batches.values():
            require_available(
                batch_state(session, batch, goods.products[batch.product_id], org_id), today=today, action=action
            )
        for code_id, number in recalled_codes(session, [c.id for c in goods.items]).items():
            raise RecalledGoods(f"code {code_id} is under recall {number}: it cannot be {action}", code_id=code_id)
    for batch_id, quantity in goods.quantity_by_batch().items():
        batch = goods.batches[batch_id]
        holding = lock_holding(session, org_id, batch_id)
        require_on_hand(
            label=code_label_for_batch(goods, batch_id),
            on_hand=holding.on_hand if holding else 0,
            requested=quantity,
            batch_id=batch.id,
        )


def code_label_for_batch(goods: ResolvedGoods, batch_id: int) -> str:
    batch = goods.batches[batch_id]
    return f"(01){goods.products[batch.product_id].gtin}(10){batch.lot}"


def epcs_of(goods: ResolvedGoods) -> list[str]:
    out = []
    for code in goods.top_codes:
        if code.sscc is not None:
            out.append(terms.sscc_epc(code.sscc))
        else:
            batch = goods.batches[code.batch_id] if code.batch_id is not None else None
            assert batch is not None
            assert code.serial is not None
            out.append(terms.item_epc(goods.products[batch.product_id].gtin, code.serial))
    return out


def quantities_of(goods: ResolvedGoods) -> list[dict[str, object]]:
    """The batch lines named, then what the cases and pallets named hold, per lot in batch order: an SSCC alone
    says nothing of its lots to someone who has only this event (an export), so its contents are listed too."""
    named = {code.id for code in goods.top_codes}
    inside = Counter(code.batch_id for code in goods.items if code.id not in named and code.batch_id is not None)
    lines = [*goods.lines, *((goods.batches[batch_id], inside[batch_id]) for batch_id in sorted(inside))]
    return [
        terms.quantity_element(goods.products[b.product_id].gtin, b.lot, q, goods.products[b.product_id].unit)
        for b, q in lines
    ]


def read_point(ctx: ScanContext) -> str | None:
    return terms.location_uri(ctx.location_id) if ctx.location_id is not None else None


def ship(
    session: Session,
    signer: Signer,
    ctx: ScanContext,
    goods: Goods,
    *,
    to_org_id: int,
    document: dict[str, Any] | None = None,
) -> tuple[Event, Shipment]:
    """Ship goods to another organisation; they are in transit until it receives them.

    ``document``, when given, is recorded instead of the event this function builds (an EPCIS capture keeps the
    partner's own event and so its hash); every rule and write stays the same. So for the functions below.
    Each refuses first an organisation whose roles may not take the action (``ledger.policy``)."""
    require_trade_role(ctx.org, TradeAction.SHIP)
    receiver = session.get(Organisation, to_org_id)
    if receiver is None:
        raise UnknownOrganisation(f"no organisation {to_org_id}", org_id=to_org_id)
    if receiver.id == ctx.org.id:
        raise InvalidTransition("an organisation cannot ship to itself")
    resolved = resolve(session, goods)
    check_outgoing(session, ctx, resolved, action="shipped", available=True)
    when = ctx.time()
    if document is None:
        document = epcis_events.transfer(
            TradeAction.SHIP,
            event_time=when,
            epcs=epcs_of(resolved),
            quantities=quantities_of(resolved),
            sender=terms.owning_party(ctx.org.uscc, ctx.org.gln),
            receiver=terms.owning_party(receiver.uscc, receiver.gln),
            read_point=read_point(ctx),
            sensors=ctx.sensors,
        )
    event = record_scan_event(session, signer, ctx, document, resolved.batches.values(), when)
    shipment = Shipment(
        event_seq=event.seq, from_org_id=ctx.org.id, to_org_id=receiver.id, status=ShipmentStatus.IN_TRANSIT
    )
    session.add(shipment)
    session.flush()
    enter_shipment(session, event.seq, shipment, resolved.quantity_by_batch(), when)
    for code in resolved.items + resolved.containers:
        code.status, code.holder_org_id, code.shipment_id = CodeStatus.IN_TRANSIT, None, shipment.id
    return event, shipment


def receive(
    session: Session,
    signer: Signer,
    ctx: ScanContext,
    *,
    shipment_id: int,
    goods: Goods | None = None,
    document: dict[str, Any] | None = None,
) -> Event:
    """Receive a shipment addressed to the scanning organisation: all that is outstanding, or the goods named."""
    require_trade_role(ctx.org, TradeAction.RECEIVE)
    shipment, lines = _lock_shipment(session, shipment_id)
    state = ShipmentState(
        shipment_id=shipment.id,
        to_org_id=shipment.to_org_id,
        outstanding={bid: line.quantity - line.received_quantity for bid, line in lines.items()},
    )
    resolved = resolve(session, goods if goods is not None else _outstanding_goods(session, state))
    require_receive_matches(state, receiver_org_id=ctx.org.id, lines=dict(resolved.quantity_by_batch()))
    for code in resolved.top_codes:
        require_receivable(item_state(code, code_label(code, resolved.batches, resolved.products)), state)
    if not resolved.quantity_by_batch():
        raise InvalidTransition(f"shipment {shipment.id} has nothing left to receive", shipment_id=shipment.id)

    when = ctx.time()
    sender = session.get(Organisation, shipment.from_org_id)
    assert sender is not None
    if document is None:
        document = epcis_events.transfer(
            TradeAction.RECEIVE,
            event_time=when,
            epcs=epcs_of(resolved),
            quantities=quantities_of(resolved),
            sender=terms.owning_party(sender.uscc, sender.gln),
            receiver=terms.owning_party(ctx.org.uscc, ctx.org.gln),
            read_point=read_point(ctx),
            sensors=ctx.sensors,
        )
    event = record_scan_event(session, signer, ctx, document, resolved.batches.values(), when)
    enter_receipt(session, event.seq, shipment, lines, resolved.quantity_by_batch(), when)
    for code in resolved.items + resolved.containers:
        code.status, code.holder_org_id, code.shipment_id = CodeStatus.ACTIVE, ctx.org.id, None
    complete = all(line.received_quantity >= line.quantity for line in lines.values())
    shipment.status = ShipmentStatus.RECEIVED if complete else ShipmentStatus.PARTIALLY_RECEIVED
    return event


def _lock_shipment(session: Session, shipment_id: int) -> tuple[Shipment, dict[int, ShipmentLine]]:
    """The shipment and its lines by batch, locked: two receipts of one shipment must not both count a line."""
    shipment = session.scalar(select(Shipment).where(Shipment.id == shipment_id).with_for_update())
    if shipment is None:
        raise UnknownShipment(f"no shipment {shipment_id}", shipment_id=shipment_id)
    lines = session.scalars(select(ShipmentLine).where(ShipmentLine.shipment_id == shipment.id).with_for_update())
    return shipment, {line.batch_id: line for line in lines}


def _outstanding_goods(session: Session, state: ShipmentState) -> Goods:
    """Everything still expected on a shipment: top-level codes in transit, plus uncoded batch quantities."""
    rows = session.execute(
        select(Code, Batch.lot, Product.gtin)
        .outerjoin(Batch, Batch.id == Code.batch_id)
        .outerjoin(Product, Product.id == Batch.product_id)
        .where(Code.shipment_id == state.shipment_id, Code.status == CodeStatus.IN_TRANSIT)
    ).all()
    in_shipment = {code.id for code, _, _ in rows}
    coded: Counter[int] = Counter(code.batch_id for code, _, _ in rows if code.batch_id is not None)
    links = []
    for code, lot, gtin in rows:
        if code.parent_id is not None and code.parent_id in in_shipment:
            continue  # travels inside its case or pallet
        if code.sscc is not None:
            links.append(DigitalLink(gtin=None, lot=None, serial=None, sscc=code.sscc))
        else:
            links.append(DigitalLink(gtin=gtin, lot=lot, serial=code.serial, sscc=None))
    lines = []
    for batch_id, outstanding in sorted(state.outstanding.items()):
        uncoded = outstanding - coded.get(batch_id, 0)
        if uncoded > 0:
            lot, gtin = session.execute(
                select(Batch.lot, Product.gtin)
                .join(Product, Product.id == Batch.product_id)
                .where(Batch.id == batch_id)
            ).one()
            lines.append(BatchLine(gtin=gtin, lot=lot, quantity=uncoded))
    return Goods(codes=tuple(links), lines=tuple(lines))


# How each use of goods is named in a refusal, and which action and final code status it is.
_USES: Final = {
    MovementKind.SELL: ("sold", TradeAction.SELL, CodeStatus.SOLD),
    MovementKind.ADMINISTER: ("administered", TradeAction.ADMINISTER, CodeStatus.ADMINISTERED),
    MovementKind.DESTROY: ("destroyed", TradeAction.DESTROY, CodeStatus.DESTROYED),
}


def _consume(
    session: Session,
    signer: Signer,
    ctx: ScanContext,
    goods: Goods,
    *,
    kind: MovementKind,
    document: dict[str, Any] | None = None,
) -> Event:
    verb, action, status = _USES[kind]
    require_trade_role(ctx.org, action)
    resolved = resolve(session, goods)
    if kind is MovementKind.ADMINISTER:
        for product in resolved.products.values():
            if product.category is not Category.VACCINE:
                raise InvalidTransition(
                    f"{product.gtin} is not a vaccine and cannot be administered", gtin=product.gtin
                )
    # Destroying recalled or held goods is how a recall is closed; selling or administering them is refused.
    check_outgoing(session, ctx, resolved, action=verb, available=kind is not MovementKind.DESTROY)
    when = ctx.time()
    if document is None:
        document = epcis_events.consumption(
            action,
            event_time=when,
            epcs=epcs_of(resolved),
            quantities=quantities_of(resolved),
            holder=terms.owning_party(ctx.org.uscc, ctx.org.gln),
            read_point=read_point(ctx),
            sensors=ctx.sensors,
        )
    event = record_scan_event(session, signer, ctx, document, resolved.batches.values(), when)
    enter_use(session, event.seq, ctx.org.id, kind, resolved.quantity_by_batch(), when)
    for code in resolved.items + resolved.containers:
        code.status, code.consumed_at = status, when
    return event


def sell(
    session: Session, signer: Signer, ctx: ScanContext, goods: Goods, *, document: dict[str, Any] | None = None
) -> Event:
    return _consume(session, signer, ctx, goods, kind=MovementKind.SELL, document=document)


def administer(
    session: Session, signer: Signer, ctx: ScanContext, goods: Goods, *, document: dict[str, Any] | None = None
) -> Event:
    return _consume(session, signer, ctx, goods, kind=MovementKind.ADMINISTER, document=document)


def destroy(
    session: Session, signer: Signer, ctx: ScanContext, goods: Goods, *, document: dict[str, Any] | None = None
) -> Event:
    return _consume(session, signer, ctx, goods, kind=MovementKind.DESTROY, document=document)


def inspect(
    session: Session,
    signer: Signer,
    ctx: ScanContext,
    goods: Goods,
    *,
    passed: bool,
    reason: str = "",
    document: dict[str, Any] | None = None,
) -> tuple[Event, Hold | None]:
    """Record a sampling inspection (抽检). A failure holds the batch at every holder until a regulator acts."""
    require_trade_role(ctx.org, TradeAction.INSPECT)
    resolved = resolve(session, goods)
    is_regulator = ctx.org.has_role(Role.REGULATOR)
    for batch_id in resolved.batches:
        holding = lock_holding(session, ctx.org.id, batch_id)
        if not is_regulator and (holding is None or holding.on_hand <= 0):
            raise NotHolder("only a regulator or a holder of the goods records an inspection", batch_id=batch_id)
    for code in resolved.items:
        if code.status in CONSUMED:
            raise AlreadyConsumed(f"code {code.id} was already {code.status.value}", code_id=code.id)
    when = ctx.time()
    if document is None:
        document = epcis_events.inspection(
            passed=passed,
            event_time=when,
            epcs=epcs_of(resolved),
            quantities=quantities_of(resolved),
            read_point=read_point(ctx),
            sensors=ctx.sensors,
        )
    event = record_scan_event(session, signer, ctx, document, resolved.batches.values(), when)
    hold = None
    if not passed:
        for batch_id in resolved.batches:
            hold = Hold(
                batch_id=batch_id,
                org_id=None,
                kind=HoldKind.INSPECTION,
                reason=reason or "failed sampling inspection",
                event_seq=event.seq,
            )
            session.add(hold)
    return event, hold
