"""What a new excursion does at once: it holds the goods at their holder, and tells the holder and every regulator
by webhook (the recalls' signed, retried messages: ``ledger.webhooks``), in the transaction that found it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from ledger.models import Batch, Excursion, ExcursionGoods, Hold, HoldKind, Organisation, Product, Role
from ledger.webhooks import queue_messages

EVENT_TYPE: Final = "excursion.opened"


def hold_and_tell(session: Session, excursion: Excursion, quantities: Mapping[int, int]) -> None:
    """Hold each batch with something of it at the holder (no shipping, selling or administering it there), and
    queue a message to the holder and to every regulator."""
    held = {batch_id: quantity for batch_id, quantity in sorted(quantities.items()) if quantity > 0}
    for batch_id, quantity in held.items():
        hold = Hold(
            batch_id=batch_id,
            org_id=excursion.holder_org_id,
            kind=HoldKind.EXCURSION,
            reason=f"cold-chain excursion {excursion.number}",
            event_seq=excursion.event_seq,
        )
        session.add(hold)
        session.flush()
        session.add(ExcursionGoods(excursion_id=excursion.id, batch_id=batch_id, quantity=quantity, hold_id=hold.id))
    message = _message(session, excursion, held)
    # Roles are a JSON list; its text is searched the same way on SQLite and PostgreSQL.
    regulator = cast(Organisation.roles, String).like(f'%"{Role.REGULATOR.value}"%')
    regulators = session.scalars(select(Organisation.id).where(regulator))
    told = {excursion.holder_org_id, *regulators}
    queue_messages(
        session, event_type=EVENT_TYPE, payloads=dict.fromkeys(sorted(told), message), excursion_id=excursion.id
    )


def _message(session: Session, excursion: Excursion, held: Mapping[int, int]) -> dict[str, Any]:
    holder = session.get(Organisation, excursion.holder_org_id)
    assert holder is not None
    lots = session.execute(
        select(Batch.id, Product.gtin, Batch.lot)
        .join(Product, Product.id == Batch.product_id)
        .where(Batch.id.in_(held))
    )
    return {
        "excursion": {
            "number": excursion.number,
            "kind": excursion.kind.value,
            "rules": list(excursion.rules),
            "started_at": excursion.started_at.isoformat(),
            "ended_at": excursion.ended_at.isoformat() if excursion.ended_at else None,
            "min_c": excursion.min_c,
            "max_c": excursion.max_c,
            "holder": {"uscc": holder.uscc, "name": holder.name},
            "shipment_id": excursion.shipment_id,
            "location_id": excursion.location_id,
            "goods": [{"gtin": gtin, "lot": lot, "quantity": held[batch_id]} for batch_id, gtin, lot in lots],
        }
    }
