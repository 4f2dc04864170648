"""Vaccine vial monitors: stages 3 and 4 mean do not use."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import trade
from ledger.coldchain import vvm
from ledger.coldchain.errors import VialMonitorSpent
from ledger.errors import HeldGoods, InvalidInput
from ledger.goods import BatchLine, Goods
from ledger.models import ExcursionKind, Hold, VialMonitorReading
from tests.ledger.network import Network, build_network


@pytest.fixture
def net(db: Session) -> Iterator[Network]:
    return build_network(db)


@pytest.mark.parametrize("stage", [0, 5, True, "2", None])
def test_a_stage_is_one_to_four(stage: object) -> None:
    with pytest.raises(InvalidInput, match="1, 2, 3 or 4"):
        vvm.require_stage(stage)


def test_stages_three_and_four_are_not_to_be_used() -> None:
    vvm.require_usable(2, "vial")
    for stage in (3, 4):
        with pytest.raises(VialMonitorSpent, match=f"stage {stage}: do not use"):
            vvm.require_usable(stage, "vial")


def test_the_stage_is_a_sensor_report_of_lotline_s_own_measurement_type() -> None:
    element = vvm.sensor_element(2)
    assert element.reports[0].type == vvm.VVM_MEASUREMENT
    assert (element.reports[0].value, element.reports[0].uom) == (2, None)


def test_a_spent_monitor_at_receipt_is_kept_and_holds_the_vials_received(db: Session, net: Network) -> None:
    goods = Goods(lines=(BatchLine(net.vaccine_gtin, net.vaccine.lot, 10),))
    _, shipment = trade.ship(db, net.signer, trade.ScanContext(net.importer), goods, to_org_id=net.clinic.id)
    event = trade.receive(db, net.signer, trade.ScanContext(net.clinic), shipment_id=shipment.id)
    excursion = vvm.record(db, event, net.clinic, {net.vaccine.id: 10}, 3, event.event_time, hold=True)
    assert excursion is not None
    assert (excursion.kind, excursion.rules, excursion.holder_org_id) == (
        ExcursionKind.VVM,
        ["vvm_stage_3"],
        net.clinic.id,
    )
    assert db.scalar(select(VialMonitorReading.stage).where(VialMonitorReading.event_seq == event.seq)) == 3
    hold = db.scalar(select(Hold).where(Hold.batch_id == net.vaccine.id, Hold.org_id == net.clinic.id))
    assert hold is not None
    with pytest.raises(HeldGoods):
        trade.administer(
            db,
            net.signer,
            trade.ScanContext(net.clinic),
            Goods(lines=(BatchLine(net.vaccine_gtin, net.vaccine.lot, 1),)),
        )


def test_a_usable_monitor_at_receipt_is_kept_and_holds_nothing(db: Session, net: Network) -> None:
    goods = Goods(lines=(BatchLine(net.vaccine_gtin, net.vaccine.lot, 10),))
    _, shipment = trade.ship(db, net.signer, trade.ScanContext(net.importer), goods, to_org_id=net.clinic.id)
    event = trade.receive(db, net.signer, trade.ScanContext(net.clinic), shipment_id=shipment.id)
    assert vvm.record(db, event, net.clinic, {net.vaccine.id: 10}, 1, event.event_time, hold=True) is None
    assert db.scalar(select(Hold)) is None
