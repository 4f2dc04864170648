"""Readings into a log, excursions found and recorded once, the holds they place, and how they end."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import trade
from ledger.coldchain import excursions
from ledger.coldchain.errors import ExcursionClosed, ExcursionOngoing, NotRecorder
from ledger.coldchain.ingest import Ingested, Source, ingest
from ledger.coldchain.readings import Reading, Scope, prepare_series
from ledger.epcis_schema import validate_event
from ledger.errors import HeldGoods, InvalidTransition, RoleRequired
from ledger.event_hash import STANDARD_CONTEXT
from ledger.goods import BatchLine, Goods
from ledger.models import (
    Event,
    EventBatch,
    Excursion,
    ExcursionKind,
    ExcursionStatus,
    Hold,
    Holding,
    IngestKind,
    LogScope,
    Organisation,
    Shipment,
    TemperatureReading,
)
from ledger.registry import create_location
from tests.ledger.network import Network, build_network
from tests.ledger.test_event_hash import reference_hash

# The reference hash generator still calls importlib.resources.open_text; its deprecation warning is not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:epcis_event_hash_generator")
T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def net(db: Session) -> Iterator[Network]:
    return build_network(db)


def vaccine(net: Network, quantity: int) -> Goods:
    return Goods(lines=(BatchLine(net.vaccine_gtin, net.vaccine.lot, quantity),))


def beef(net: Network, quantity: int) -> Goods:
    return Goods(lines=(BatchLine(net.beef_gtin, net.beef.lot, quantity),))


def ship(db: Session, net: Network, goods: Goods, to: Organisation, at: datetime = T0) -> Shipment:
    _, shipment = trade.ship(db, net.signer, trade.ScanContext(net.importer, event_time=at), goods, to_org_id=to.id)
    return shipment


def receive(db: Session, net: Network, org: Organisation, shipment: Shipment, at: datetime) -> None:
    trade.receive(db, net.signer, trade.ScanContext(org, event_time=at), shipment_id=shipment.id)


def readings(*spells: tuple[int, int, float], every: int = 5) -> list[Reading]:
    """(from minute, to minute, °C) spells after T0, one reading every ``every`` minutes."""
    return [
        Reading(round((T0 + m * MINUTE).timestamp() * 1000), celsius)
        for start, end, celsius in spells
        for m in range(start, end, every)
    ]


def upload(
    db: Session, net: Network, org: Organisation, scope: Scope, rows: list[Reading], device: str = "RC5-2001"
) -> Ingested:
    """Store readings as a logger file's would be."""
    series, _ = prepare_series(device, rows)
    content = "\n".join(f"{r.taken_ms},{r.value_c}" for r in rows).encode()
    source = Source(IngestKind.FILE, content, "log.csv", "text/csv")
    return ingest(db, net.signer, org, scope, series, source=source)


def open_holds(db: Session, batch_id: int, org_id: int) -> int:
    return (
        db.scalar(
            select(func.count())
            .select_from(Hold)
            .where(Hold.batch_id == batch_id, Hold.org_id == org_id, Hold.released_at.is_(None))
        )
        or 0
    )


def test_three_hours_at_12c_holds_the_vaccines_at_the_receiver_until_released(db: Session, net: Network) -> None:
    shipment = ship(db, net, vaccine(net, 20), net.clinic)
    done = upload(
        db,
        net,
        net.importer,
        Scope(LogScope.SHIPMENT, shipment.id),
        readings((0, 60, 5.0), (60, 240, 12.0), (240, 300, 5.0)),
    )
    [excursion] = done.outcome.new
    assert (excursion.kind, excursion.rules, excursion.duration_s) == (
        ExcursionKind.HOT,
        ["above_range", "above_range_total"],
        3 * 3600,
    )
    assert (excursion.started_at, excursion.ended_at) == (T0 + 60 * MINUTE, T0 + 240 * MINUTE)
    assert (excursion.max_c, excursion.holder_org_id, excursion.status) == (12.0, net.clinic.id, ExcursionStatus.OPEN)
    assert excursion.number.startswith("EX-2026-")
    assert open_holds(db, net.vaccine.id, net.clinic.id) == 1

    receive(db, net, net.clinic, shipment, T0 + 6 * 60 * MINUTE)
    with pytest.raises(HeldGoods):
        trade.administer(db, net.signer, trade.ScanContext(net.clinic), vaccine(net, 1))

    with pytest.raises(RoleRequired):  # the holder may not clear its own goods
        excursions.release(db, net.signer, net.clinic, excursion, reason="看起来还好", evidence=evidence())
    excursions.acknowledge(db, net.clinic, excursion)
    excursions.release(
        db, net.signer, net.importer, excursion, reason="稳定性数据支持 12℃ 下 3 小时", evidence=evidence()
    )
    assert (excursion.status, excursion.disposed_by_org_id, excursion.acknowledged_by_org_id) == (
        ExcursionStatus.RELEASED,
        net.importer.id,
        net.clinic.id,
    )
    assert excursion.evidence_sha256 is not None
    release_event = db.get(Event, excursion.disposition_event_seq)
    assert release_event is not None
    assert release_event.document["certificationInfo"] == [
        f"ni:///sha-256;{excursion.evidence_sha256}?type=excursion_release"
    ]
    assert open_holds(db, net.vaccine.id, net.clinic.id) == 0
    trade.administer(db, net.signer, trade.ScanContext(net.clinic), vaccine(net, 1))


def evidence() -> excursions.Evidence:
    return excursions.Evidence("stability.pdf", "application/pdf", b"%PDF-1.7 stability data")


def test_destroying_the_goods_ends_the_excursion_and_what_is_left_moves_again(db: Session, net: Network) -> None:
    shipment = ship(db, net, vaccine(net, 20), net.clinic)
    [excursion] = upload(
        db, net, net.importer, Scope(LogScope.SHIPMENT, shipment.id), readings((0, 60, 5.0), (60, 240, 12.0))
    ).outcome.new
    assert excursion.ended_at is None  # still above range at the last reading
    with pytest.raises(ExcursionOngoing):
        excursions.release(db, net.signer, net.regulator, excursion, reason="ok", evidence=evidence())
    with pytest.raises(InvalidTransition, match="received first"):
        excursions.destroy(db, net.signer, net.clinic, excursion, reason="超温报废")
    receive(db, net, net.clinic, shipment, T0 + 6 * 60 * MINUTE)
    excursions.destroy(db, net.signer, net.clinic, excursion, reason="超温报废")
    held = db.get(Holding, (net.clinic.id, net.vaccine.id))
    assert held is not None
    assert (held.on_hand, held.destroyed) == (0, 20)
    assert excursion.status is ExcursionStatus.DESTROYED
    assert open_holds(db, net.vaccine.id, net.clinic.id) == 0
    with pytest.raises(ExcursionClosed):
        excursions.destroy(db, net.signer, net.clinic, excursion, reason="again")


def test_a_forty_minute_gap_in_a_frozen_shipment_is_a_data_gap_excursion(db: Session, net: Network) -> None:
    shipment = ship(db, net, beef(net, 30), net.wholesaler)
    done = upload(
        db, net, net.importer, Scope(LogScope.SHIPMENT, shipment.id), readings((0, 60, -20.0), (100, 180, -20.5))
    )
    [gap] = done.outcome.new
    assert (gap.kind, gap.rules, gap.profile_key) == (ExcursionKind.DATA_GAP, ["data_gap"], "")
    assert (gap.started_at, gap.ended_at, gap.duration_s) == (T0 + 55 * MINUTE, T0 + 100 * MINUTE, 45 * 60)
    assert open_holds(db, net.beef.id, net.wholesaler.id) == 1


def test_an_excursion_seen_again_by_a_later_upload_is_updated_not_repeated(db: Session, net: Network) -> None:
    shipment = ship(db, net, vaccine(net, 20), net.clinic)
    scope = Scope(LogScope.SHIPMENT, shipment.id)
    [first] = upload(db, net, net.importer, scope, readings((0, 60, 5.0), (60, 120, 12.0))).outcome.new
    assert first.ended_at is None
    later = upload(db, net, net.importer, scope, readings((120, 180, 12.0), (180, 200, 5.0)))
    assert (later.outcome.new, later.outcome.updated) == ([], [first])
    assert (first.ended_at, first.duration_s) == (T0 + 180 * MINUTE, 2 * 3600)
    assert db.scalar(select(func.count()).select_from(Excursion)) == 1


def test_readings_arriving_out_of_order_are_judged_with_the_whole_series(db: Session, net: Network) -> None:
    shipment = ship(db, net, vaccine(net, 20), net.clinic)
    scope = Scope(LogScope.SHIPMENT, shipment.id)
    assert upload(db, net, net.importer, scope, readings((0, 30, 5.0), (90, 120, 5.0))).outcome.new[0].kind is (
        ExcursionKind.DATA_GAP
    )
    # The missing hour turns up, and it was warm: a hot excursion inside what looked like a gap.
    [hot] = upload(db, net, net.importer, scope, readings((30, 90, 11.0))).outcome.new
    assert (hot.kind, hot.started_at, hot.ended_at) == (ExcursionKind.HOT, T0 + 30 * MINUTE, T0 + 90 * MINUTE)


def test_a_second_download_of_the_same_logger_stores_nothing_twice(db: Session, net: Network) -> None:
    shipment = ship(db, net, vaccine(net, 20), net.clinic)
    scope = Scope(LogScope.SHIPMENT, shipment.id)
    upload(db, net, net.importer, scope, readings((0, 60, 5.0)))
    again = upload(db, net, net.importer, scope, readings((0, 90, 5.0)))
    assert (again.stored, again.duplicates) == (6, 12)
    assert db.scalar(select(func.count()).select_from(TemperatureReading)) == 18


def test_a_logger_started_in_a_warm_dock_before_shipping_does_not_count(db: Session, net: Network) -> None:
    shipment = ship(db, net, vaccine(net, 20), net.clinic, at=T0 + 60 * MINUTE)
    done = upload(db, net, net.importer, Scope(LogScope.SHIPMENT, shipment.id), readings((0, 60, 22.0), (60, 180, 5.0)))
    assert done.outcome.new == []


def test_only_the_parties_to_a_shipment_record_its_temperature(db: Session, net: Network) -> None:
    shipment = ship(db, net, vaccine(net, 20), net.clinic)
    with pytest.raises(NotRecorder):
        upload(db, net, net.retailer, Scope(LogScope.SHIPMENT, shipment.id), readings((0, 60, 5.0)))


def test_a_logger_file_is_kept_and_its_sha256_anchored_on_the_chains_of_the_goods(db: Session, net: Network) -> None:
    shipment = ship(db, net, vaccine(net, 20), net.clinic)
    done = upload(db, net, net.importer, Scope(LogScope.SHIPMENT, shipment.id), readings((0, 60, 5.0)))
    anchor = db.get(Event, done.ingest.event_seq)
    assert anchor is not None
    assert anchor.document["certificationInfo"] == [f"ni:///sha-256;{done.ingest.sha256}?type=temperature_file"]
    assert anchor.document["bizStep"] == "sensor_reporting"
    chained = db.scalar(select(EventBatch.batch_id).where(EventBatch.event_seq == anchor.seq))
    assert chained == net.vaccine.id
    assert done.ingest.content is not None
    assert hashlib.sha256(done.ingest.content).hexdigest() == done.ingest.sha256
    assert (done.ingest.reading_count, done.log.interval_s) == (12, 300)


def test_a_logger_started_late_or_stopped_early_leaves_the_trip_uncovered(db: Session, net: Network) -> None:
    shipment = ship(db, net, vaccine(net, 20), net.clinic)
    receive(db, net, net.clinic, shipment, T0 + 300 * MINUTE)
    found = upload(db, net, net.importer, Scope(LogScope.SHIPMENT, shipment.id), readings((60, 180, 5.0)))
    gaps = sorted((e.started_at, e.ended_at) for e in found.outcome.new)
    assert [e.kind for e in found.outcome.new] == [ExcursionKind.DATA_GAP] * 2
    assert gaps == [(T0, T0 + 60 * MINUTE), (T0 + 175 * MINUTE, T0 + 300 * MINUTE)]


def test_a_trip_covered_from_shipping_to_receipt_has_no_gap(db: Session, net: Network) -> None:
    shipment = ship(db, net, vaccine(net, 20), net.clinic)
    receive(db, net, net.clinic, shipment, T0 + 120 * MINUTE)
    done = upload(db, net, net.importer, Scope(LogScope.SHIPMENT, shipment.id), readings((0, 125, 5.0)))
    assert done.outcome.new == []


def test_readings_after_the_receipt_do_not_count_for_the_shipment(db: Session, net: Network) -> None:
    shipment = ship(db, net, vaccine(net, 20), net.clinic)
    scope = Scope(LogScope.SHIPMENT, shipment.id)
    upload(db, net, net.importer, scope, readings((0, 60, 5.0)))
    receive(db, net, net.clinic, shipment, T0 + 120 * MINUTE)
    # The logger lay in the clinic's warm office after unloading; its next download says so.
    done = upload(db, net, net.importer, scope, readings((60, 125, 5.0), (125, 300, 24.0)))
    assert done.outcome.new == []


def test_the_anchoring_event_is_valid_epcis_and_hashes_as_gs1_s_reference(db: Session, net: Network) -> None:
    shipment = ship(db, net, vaccine(net, 20), net.clinic)
    done = upload(db, net, net.importer, Scope(LogScope.SHIPMENT, shipment.id), readings((0, 60, 5.0), (60, 70, 9.0)))
    anchor = db.get(Event, done.ingest.event_seq)
    assert anchor is not None
    document = {k: v for k, v in anchor.document.items() if k != "eventID"}
    validate_event(document)
    assert reference_hash(document, STANDARD_CONTEXT) == anchor.event_id
    [element] = document["sensorElementList"]
    assert element["sensorMetadata"]["deviceID"] == f"urn:lotline:device:{net.importer.uscc}:RC5-2001"
    assert element["sensorReport"] == [
        {"type": "Temperature", "minValue": 5.0, "maxValue": 9.0, "meanValue": 5.571, "uom": "CEL"}
    ]


def test_a_cold_store_s_logger_is_anchored_even_when_the_store_holds_nothing(db: Session, net: Network) -> None:
    store = create_location(db, net.wholesaler, name="2号冷库", kind="cold_store")
    done = upload(db, net, net.wholesaler, Scope(LogScope.LOCATION, store.id), readings((0, 60, -20.0)))
    anchor = db.get(Event, done.ingest.event_seq)
    assert anchor is not None
    assert "quantityList" not in anchor.document
    assert anchor.document["readPoint"] == {"id": f"urn:lotline:location:{store.id}"}
    validate_event({k: v for k, v in anchor.document.items() if k != "eventID"})
    assert (done.stored, done.outcome.new) == (12, [])
