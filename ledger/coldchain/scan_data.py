"""What the sensor data of a scan, or of a captured event about lotline goods, does once the event is recorded.

Its temperature readings go into the logs of the goods it concerns: the shipment's, for a shipping or receiving
event; otherwise the scanning organisation's holdings of each batch (an organisation that holds none of them, a
regulator inspecting say, keeps its readings in the event only). They are anchored by the event itself, whose
hash covers them. A vial monitor's stage is kept, and a spent one at receipt holds the vials received.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import terms
from ledger.coldchain import vvm
from ledger.coldchain.ingest import Source, ingest
from ledger.coldchain.readings import Scope, prepare_series
from ledger.coldchain.sensors import temperature_readings
from ledger.epcis import BizStep
from ledger.models import Event, EventBatch, Excursion, Holding, IngestKind, LogScope, Movement, Organisation
from ledger.recorder import Signer

UNNAMED_DEVICE: Final = "unnamed"


def record_sensor_data(
    session: Session, signer: Signer, org: Organisation, event: Event, *, shipment_id: int | None
) -> list[Excursion]:
    """Store the event's readings and vial monitor stage; the excursions they raise (new ones only)."""
    found: list[Excursion] = []
    for device, readings in temperature_readings(event.document).items():
        series, _ = prepare_series(terms.device_id(org.uscc, device) or UNNAMED_DEVICE, readings)
        for scope in _scopes(session, org, event.seq, shipment_id):
            done = ingest(session, signer, org, scope, series, source=Source(IngestKind.EPCIS), anchor=event)
            found += done.outcome.new
    stage = vvm.stage_in(event.document)
    if stage is not None:
        quantities = _moved(session, event.seq)
        receipt = _step(event.biz_step) is BizStep.RECEIVING
        spent = vvm.record(session, event, org, quantities, stage, event.event_time, hold=receipt)
        found += [spent] if spent else []
    return found


def _scopes(session: Session, org: Organisation, event_seq: int, shipment_id: int | None) -> list[Scope]:
    if shipment_id is not None:
        return [Scope(LogScope.SHIPMENT, shipment_id)]
    batches = select(EventBatch.batch_id).where(EventBatch.event_seq == event_seq)
    held = session.scalars(select(Holding.batch_id).where(Holding.org_id == org.id, Holding.batch_id.in_(batches)))
    return [Scope(LogScope.HOLDING, batch_id) for batch_id in sorted(held)]


def _step(biz_step: str | None) -> BizStep | None:
    try:
        return BizStep(biz_step) if biz_step else None
    except ValueError:
        return None


def _moved(session: Session, event_seq: int) -> dict[int, int]:
    """The batches an event moved (received, used, destroyed) and how much of each."""
    rows = session.execute(
        select(Movement.batch_id, func.sum(Movement.quantity))
        .where(Movement.event_seq == event_seq)
        .group_by(Movement.batch_id)
    )
    return {batch_id: int(quantity) for batch_id, quantity in rows}
