"""Vaccine vial monitors (VVM): the heat-sensitive square on a vial's cap, read at receipt and at administration.

Stages 1 and 2 mean usable; at stage 3 the discard point is reached and at 4 passed: do not use. The stage read
goes into the scan's event as a sensor report of a lotline measurement type (EPCIS allows any URI there), so the
event's hash covers it, and into ``vvm_observations``. Administering at stage 3 or 4 is refused; a receipt at
stage 3 or 4 is recorded (the vials did arrive) and holds them as an excursion of kind ``vvm``, to be destroyed
or, on the maker's evidence, released.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from sqlalchemy.orm import Session

from ledger import epcis
from ledger.coldchain.errors import VialMonitorSpent
from ledger.coldchain.holds import hold_and_tell
from ledger.coldchain.sensors import reports_of
from ledger.errors import InvalidInput
from ledger.models import Event, Excursion, ExcursionKind, ExcursionStatus, Organisation, VialMonitorReading

VVM_MEASUREMENT: Final = "urn:lotline:measurement:vvm-stage"
STAGES: Final = (1, 2, 3, 4)
DISCARD_STAGE: Final = 3


def require_stage(stage: object) -> int:
    if isinstance(stage, bool) or not isinstance(stage, int) or stage not in STAGES:
        raise InvalidInput(f"a vial monitor's stage is 1, 2, 3 or 4, not {stage!r}", vvm_stage=repr(stage))
    return stage


def require_usable(stage: int, label: str) -> None:
    """Stage 3 or 4: the vials may not be administered."""
    if require_stage(stage) >= DISCARD_STAGE:
        raise VialMonitorSpent(
            f"{label}: the vial monitor is at stage {stage}: do not use", vvm_stage=stage, label=label
        )


def sensor_element(stage: int) -> epcis.SensorElement:
    """The stage as a sensor report in the scan's event (dimensionless: no unit), read when the event happened."""
    return epcis.SensorElement(
        reports=(epcis.SensorReport(value=require_stage(stage), type=VVM_MEASUREMENT, uom=None),)
    )


def stage_in(event: Mapping[str, Any]) -> int | None:
    """The vial monitor stage an event reports, if any (the last, should it report several)."""
    stages = [r.get("value") for r in reports_of(event) if r.get("type") == VVM_MEASUREMENT]
    if not stages:
        return None
    return require_stage(stages[-1])


def record(
    session: Session,
    event: Event,
    org: Organisation,
    quantities: Mapping[int, int],
    stage: int,
    when: datetime,
    *,
    hold: bool,
) -> Excursion | None:
    """Keep the stage seen on each batch of a scan; with ``hold`` (a receipt), a spent monitor holds the batches
    received."""
    for batch_id in sorted(quantities):
        session.add(
            VialMonitorReading(event_seq=event.seq, org_id=org.id, batch_id=batch_id, stage=stage, observed_at=when)
        )
    if stage < DISCARD_STAGE or not hold:
        return None
    excursion = Excursion(
        number=f"pending-{uuid.uuid4().hex[:24]}",
        log_id=None,
        profile_key="",
        kind=ExcursionKind.VVM,
        rules=[f"vvm_stage_{stage}"],
        started_at=when,
        ended_at=when,
        duration_s=0,
        holder_org_id=org.id,
        recorded_by_org_id=org.id,
        event_seq=event.seq,
        status=ExcursionStatus.OPEN,
    )
    session.add(excursion)
    session.flush()
    excursion.number = f"EX-{when.year}-{excursion.id:06d}"
    hold_and_tell(session, excursion, quantities)
    return excursion
