"""Undoing a mistaken sale: the till scanned the wrong pack, or the customer changed their mind at the counter
(docs/events.md, "Undoing a sale").

Bounded as the EU's Falsified Medicines Directive bounds the reversal of a decommissioned pack (Delegated
Regulation 2016/161, art. 13): within ten days of the sale, by the organisation that sold it, and only for a pack
that is still "sold" (not already undone, recalled goods stay refused as at any sale).

The undo is its own event, never an edit: an ObjectEvent, ``observe``, CBV step ``stocking`` and disposition
``sellable_accessible`` (the pack is back where it can be sold), with the voided sale's event id as a business
transaction of lotline's type ``urn:lotline:btt:voided_sale``. Why not EPCIS 2.0's error declaration: it is made
by capturing the erroneous event again with the same eventID plus an ``errorDeclaration``, and in this ledger
an event id is the CBV 2.0 hash of the event, recorded once, chained per batch and anchored; a correction must be
a new event beside it. CBV 2.0 has no "void retail selling" step (only ``void_shipping`` for shipments), and
``stocking`` with ``sellable_accessible`` states exactly the pack's new condition.

In the trade graph the sale is reversed by a sale movement of minus the quantity, so every sum over sales (the
holder's consumed count, a recall's "sold before it opened", an investigation's balance) stays right.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.orm import Session

from ledger import epcis
from ledger.errors import InvalidTransition, NotHolder
from ledger.goods import Goods, holding_for_update, resolve
from ledger.journey import item_journey
from ledger.models import Code, CodeStatus, Event, Movement, MovementKind
from ledger.policy import TradeAction, require_trade_role
from ledger.recorder import Signer
from ledger.trade import ScanContext, epcs_of, read_point, record_scan_event

UNDO_WINDOW: Final = timedelta(days=10)
VOIDED_SALE_TYPE: Final = "urn:lotline:btt:voided_sale"


def undo_sale(session: Session, signer: Signer, ctx: ScanContext, goods: Goods) -> Event:
    """Put sold packs back on sale, as their seller, within :data:`UNDO_WINDOW` of the sale."""
    require_trade_role(ctx.org, TradeAction.SELL)
    if goods.lines:
        raise InvalidTransition("a sale is undone pack by pack: name the codes, not quantities")
    resolved = resolve(session, goods)
    if resolved.containers:
        raise InvalidTransition("a sale is undone pack by pack, not by case or pallet")
    when = ctx.time()
    voided = [_voided_sale(session, ctx, code, when) for code in resolved.items]
    document = epcis.object_event(
        action=epcis.Action.OBSERVE,
        event_time=when,
        epc_list=epcs_of(resolved),
        biz_step=epcis.BizStep.STOCKING,
        disposition=epcis.Disposition.SELLABLE_ACCESSIBLE,
        read_point=read_point(ctx),
        biz_transaction_list=[(VOIDED_SALE_TYPE, event_id) for event_id in dict.fromkeys(voided) if event_id],
    )
    event = record_scan_event(session, signer, ctx, document, resolved.batches.values(), when)
    for batch_id, quantity in resolved.quantity_by_batch().items():
        reversal = Movement(
            event_seq=event.seq, batch_id=batch_id, kind=MovementKind.SELL, from_org_id=ctx.org.id, quantity=-quantity
        )
        session.add(reversal)
        holding = holding_for_update(session, ctx.org.id, batch_id)
        holding.on_hand += quantity
        holding.consumed -= quantity
        holding.updated_at = when
    for code in resolved.items:
        code.status, code.consumed_at = CodeStatus.ACTIVE, None
    return event


def _voided_sale(session: Session, ctx: ScanContext, code: Code, when: datetime) -> str | None:
    """The id of the sale ``code``'s undo voids, once the rules allow it: sold, by this organisation, lately."""
    if code.status is not CodeStatus.SOLD or code.consumed_at is None:
        raise InvalidTransition(f"code {code.id} is {code.status.value}, not sold", code_id=code.id)
    if code.holder_org_id != ctx.org.id:
        raise NotHolder("only the organisation that sold a pack undoes its sale", code_id=code.id)
    if when - code.consumed_at > UNDO_WINDOW:
        raise InvalidTransition(
            f"code {code.id} was sold more than {UNDO_WINDOW.days} days ago; its sale stands",
            code_id=code.id,
            sold_at=code.consumed_at.isoformat(),
        )
    sale = next((s for s in reversed(item_journey(session, code)) if s.what == "retail_selling"), None)
    return sale.event_id if sale else None
