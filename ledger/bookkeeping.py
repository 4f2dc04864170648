"""The books an accepted trade event is entered in: its movements and the holdings they change.

``movements`` are the edges of the trade graph (who moved how much of which batch to whom, in which event) and
``holdings`` the balance of each batch at each organisation; ``ledger.trade`` and ``ledger.packing`` enter every
event here after its rules passed and its EPCIS event was recorded, and the recall walks read only these books
(docs/data-model.md). A holding's counters only ever grow, except ``on_hand``: what arrived minus what left.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session

from ledger.goods import holding_for_update
from ledger.models import Batch, Movement, MovementKind, Shipment, ShipmentLine, Transformation


def enter_shipment(
    session: Session, event_seq: int, shipment: Shipment, quantities: Mapping[int, int], when: datetime
) -> None:
    """Goods left the sender: one line per batch on the shipment, off hand and counted as shipped."""
    for batch_id, quantity in quantities.items():
        session.add(ShipmentLine(shipment_id=shipment.id, batch_id=batch_id, quantity=quantity, received_quantity=0))
        session.add(_shipment_movement(event_seq, shipment, MovementKind.SHIP, batch_id, quantity))
        holding = holding_for_update(session, shipment.from_org_id, batch_id)
        holding.on_hand -= quantity
        holding.shipped += quantity
        holding.updated_at = when


def enter_receipt(
    session: Session,
    event_seq: int,
    shipment: Shipment,
    lines: Mapping[int, ShipmentLine],
    quantities: Mapping[int, int],
    when: datetime,
) -> None:
    """Goods of a shipment arrived at its receiver: its lines count them, the receiver has them on hand."""
    for batch_id, quantity in quantities.items():
        lines[batch_id].received_quantity += quantity
        session.add(_shipment_movement(event_seq, shipment, MovementKind.RECEIVE, batch_id, quantity))
        holding = holding_for_update(session, shipment.to_org_id, batch_id)
        holding.on_hand += quantity
        holding.received += quantity
        holding.updated_at = when


def _shipment_movement(
    event_seq: int, shipment: Shipment, kind: MovementKind, batch_id: int, quantity: int
) -> Movement:
    """An edge from the shipment's sender to its receiver: its leaving (ship) or its arrival (receive)."""
    return Movement(
        event_seq=event_seq,
        batch_id=batch_id,
        kind=kind,
        from_org_id=shipment.from_org_id,
        to_org_id=shipment.to_org_id,
        quantity=quantity,
        shipment_id=shipment.id,
    )


def enter_use(
    session: Session, event_seq: int, org_id: int, kind: MovementKind, quantities: Mapping[int, int], when: datetime
) -> None:
    """Goods sold, administered or destroyed by their holder: they leave the graph there."""
    for batch_id, quantity in quantities.items():
        session.add(Movement(event_seq=event_seq, batch_id=batch_id, kind=kind, from_org_id=org_id, quantity=quantity))
        holding = holding_for_update(session, org_id, batch_id)
        holding.on_hand -= quantity
        if kind is MovementKind.DESTROY:
            holding.destroyed += quantity
        else:
            holding.consumed += quantity
        holding.updated_at = when


def enter_transformation(
    session: Session,
    event_seq: int,
    org_id: int,
    inputs: Mapping[int, int],
    output: Batch,
    when: datetime,
) -> None:
    """Input batches consumed into a new output batch (all of ``output.quantity``), at the transforming holder."""
    for batch_id, quantity in inputs.items():
        session.add(
            Transformation(
                event_seq=event_seq,
                org_id=org_id,
                input_batch_id=batch_id,
                output_batch_id=output.id,
                input_quantity=quantity,
            )
        )
        session.add(
            Movement(
                event_seq=event_seq,
                batch_id=batch_id,
                kind=MovementKind.TRANSFORM_IN,
                from_org_id=org_id,
                quantity=quantity,
            )
        )
        holding = holding_for_update(session, org_id, batch_id)
        holding.on_hand -= quantity
        holding.transformed += quantity
        holding.updated_at = when
    session.add(
        Movement(
            event_seq=event_seq,
            batch_id=output.id,
            kind=MovementKind.TRANSFORM_OUT,
            to_org_id=org_id,
            quantity=output.quantity,
        )
    )
    holding = holding_for_update(session, org_id, output.id)
    holding.on_hand += output.quantity
    holding.received += output.quantity
    holding.updated_at = when
