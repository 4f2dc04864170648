"""EPCIS capture on the ledger: events about lotline goods run the scan rules and keep their own hash; other
events are recorded as observations that move nothing; a refused document writes nothing."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from epcis_event_hash_generator import hash_generator, json_to_py
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from importers.epcis_capture import Outcome, capture, prepare, run_epcis_import
from ledger import epcis, terms
from ledger.errors import (
    Forbidden,
    InvalidEvent,
    InvalidTransition,
    QuantityExceeded,
    RoleRequired,
    UnknownCode,
    UnknownShipment,
)
from ledger.event_hash import STANDARD_CONTEXT, event_hash
from ledger.identifiers import make_sscc
from ledger.models import Batch, Code, CodeStatus, Event, EventBatch, Holding, Movement, Shipment, ShipmentStatus
from tests.ledger.network import Network, build_network, snapshot

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:epcis_event_hash_generator")
EXAMPLES = Path(__file__).parent.parent / "data" / "epcis"
WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def reference_hashes(document: dict[str, Any]) -> list[str]:
    json_to_py._namespaces.clear()  # the reference keeps prefixes from earlier documents in a global
    parsed = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(document))
    hashes: list[str] = hash_generator.epcis_hashes_from_events(parsed)
    return hashes


def party(org: Any) -> dict[str, str]:
    return terms.owning_party(org.uscc, org.gln)


def ship_event(net: Network, quantity: int, **extra: Any) -> dict[str, Any]:
    return epcis.object_event(
        action="OBSERVE",
        event_time=WHEN,
        quantity_list=[terms.quantity_element(net.beef_gtin, net.beef.lot, quantity, "EA")],
        biz_step="shipping",
        disposition="in_transit",
        source_list=[party(net.importer)],
        destination_list=[party(net.wholesaler)],
        **extra,
    )


def holding(db: Session, org_id: int, batch_id: int) -> int:
    db.expire_all()
    return db.scalar(select(Holding.on_hand).where(Holding.org_id == org_id, Holding.batch_id == batch_id)) or 0


def test_prepare_refuses_an_unknown_event_type_naming_the_field() -> None:
    document = epcis.epcis_document([{"type": "ShipEvent", "eventTime": "2026-03-01T09:30:00Z"}])
    with pytest.raises(InvalidEvent, match=r"epcisBody\.eventList\[0\]\.type") as refused:
        prepare(document)
    assert refused.value.context["field"] == "epcisBody.eventList[0].type"


@pytest.mark.parametrize(
    "epc",
    [
        "urn:epc:id:sgtin:0614141.ABC.2017",  # an item reference must be digits
        "urn:epc:id:sgtin:0614141.107346",  # no serial
        "https://id.gs1.org/01/1234/21/X1",  # a GTIN of four digits
        "https://example.com/01/09521234543214/21/X1",  # wrong check digit
    ],
)
def test_prepare_refuses_malformed_epcs_and_digital_links(epc: str) -> None:
    event = epcis.object_event(action="OBSERVE", event_time=WHEN, epc_list=["urn:epc:id:sgtin:0614141.107346.1", epc])
    with pytest.raises(InvalidEvent, match=r"epcList\[1\]"):
        prepare(epcis.epcis_document([event]))


def test_prepare_keeps_the_event_verbatim_with_its_document_context() -> None:
    document = json.loads((EXAMPLES / "Example_9.6.2-ObjectEvent.jsonld").read_text())
    [prepared] = prepare(document)
    body = document["epcisBody"]["eventList"][0]
    assert prepared.stored["@context"] == document["@context"]
    assert prepared.body == {k: v for k, v in body.items() if k not in ("eventID", "recordTime")}
    assert prepared.event_id == reference_hashes(document)[0] == event_hash(prepared.stored)


def test_a_captured_shipping_event_moves_the_goods_like_a_scan_and_keeps_its_hash(db: Session) -> None:
    net = build_network(db)
    event = ship_event(net, 10, biz_transaction_list=[("desadv", "urn:example:desadv:7")])
    document = epcis.epcis_document([event])
    [status] = capture(db, net.signer, net.importer, prepare(document))
    db.commit()
    assert (status.outcome, status.operation) == (Outcome.APPLIED, "ship")
    assert status.event_id == event_hash(event) == reference_hashes(document)[0]
    assert holding(db, net.importer.id, net.beef.id) == 90
    stored = db.scalar(select(Event).where(Event.event_id == status.event_id))
    assert stored is not None
    assert {k: v for k, v in stored.document.items() if k != "eventID"} == event
    shipment = db.scalar(select(Shipment).where(Shipment.event_seq == stored.seq))
    assert shipment is not None
    assert shipment.to_org_id == net.wholesaler.id


def test_shipping_more_than_on_hand_is_refused_and_the_whole_document_writes_nothing(db: Session) -> None:
    net = build_network(db)
    before = snapshot(db)
    document = epcis.epcis_document([ship_event(net, 5), ship_event(net, 500, read_point="urn:lotline:location:9")])
    with pytest.raises(QuantityExceeded):
        capture(db, net.signer, net.importer, prepare(document))
    db.rollback()
    assert snapshot(db) == before


def test_a_captured_event_is_held_to_the_ledger_role_table_before_its_parties(db: Session) -> None:
    """A clinic capturing the importer's shipment is refused for its role (no vaccinator ships), naming the event,
    before the event's source is found not to be the clinic; nothing is written."""
    net = build_network(db)
    before = snapshot(db)
    document = epcis.epcis_document([ship_event(net, 1), ship_event(net, 2)])
    with pytest.raises(RoleRequired, match=r"^epcisBody\.eventList\[0\]: only a .* may ship$") as refused:
        capture(db, net.signer, net.clinic, prepare(document))
    assert refused.value.context["required"] == ["producer", "distributor", "retailer", "carrier"]
    db.rollback()
    assert snapshot(db) == before


def test_a_receiving_event_closes_the_shipment_it_matches(db: Session) -> None:
    net = build_network(db)
    capture(db, net.signer, net.importer, prepare(epcis.epcis_document([ship_event(net, 10)])))
    receipt = epcis.object_event(
        action="OBSERVE",
        event_time=WHEN.replace(hour=15),
        quantity_list=[terms.quantity_element(net.beef_gtin, net.beef.lot, 10, "EA")],
        biz_step="receiving",
        disposition="in_progress",
        source_list=[party(net.importer)],
        destination_list=[party(net.wholesaler)],
    )
    [status] = capture(db, net.signer, net.wholesaler, prepare(epcis.epcis_document([receipt])))
    db.commit()
    assert (status.outcome, status.operation) == (Outcome.APPLIED, "receive")
    assert holding(db, net.wholesaler.id, net.beef.id) == 10
    assert db.scalar(select(Shipment.status)) is ShipmentStatus.RECEIVED


def test_receiving_goods_nobody_shipped_to_the_receiver_is_refused(db: Session) -> None:
    net = build_network(db)
    receipt = epcis.object_event(
        action="OBSERVE",
        event_time=WHEN,
        quantity_list=[terms.quantity_element(net.beef_gtin, net.beef.lot, 3, "EA")],
        biz_step="receiving",
        destination_list=[party(net.wholesaler)],
    )
    with pytest.raises(UnknownShipment):
        capture(db, net.signer, net.wholesaler, prepare(epcis.epcis_document([receipt])))


def test_only_the_source_party_may_capture_a_shipping_event(db: Session) -> None:
    net = build_network(db)
    with pytest.raises(Forbidden, match="to capture"):
        capture(db, net.signer, net.wholesaler, prepare(epcis.epcis_document([ship_event(net, 1)])))


def test_coded_items_are_packed_shipped_and_sold_through_the_rules(db: Session) -> None:
    net = build_network(db)
    items = [terms.item_epc(net.beef_gtin, net.serials[i]) for i in range(3)]
    pallet = terms.sscc_epc(make_sscc("6970001", 12))
    pack = epcis.aggregation_event(
        action="ADD", event_time=WHEN, parent_id=pallet, child_epcs=items[:2], biz_step="packing"
    )
    sell = epcis.object_event(
        action="OBSERVE",
        event_time=WHEN,
        epc_list=[items[2]],
        biz_step="retail_selling",
        disposition="retail_sold",
        source_list=[party(net.importer)],
    )
    statuses = capture(db, net.signer, net.importer, prepare(epcis.epcis_document([pack, sell])))
    db.commit()
    assert [s.operation for s in statuses] == ["pack", "sell"]
    codes = {c.serial: c for c in db.scalars(select(Code).where(Code.serial.in_(net.serials[:3])))}
    assert codes[net.serials[0]].parent_id is not None
    assert codes[net.serials[2]].status is CodeStatus.SOLD
    again = epcis.object_event(
        action="OBSERVE", event_time=WHEN.replace(minute=45), epc_list=[items[2]], biz_step="retail_selling"
    )
    with pytest.raises(Exception, match="sold") as refused:
        capture(db, net.signer, net.importer, prepare(epcis.epcis_document([again])))
    assert type(refused.value).__name__ in ("AlreadyConsumed", "NotHolder")


def test_a_transformation_of_lotline_goods_makes_the_new_lot(db: Session) -> None:
    net = build_network(db)
    event = epcis.transformation_event(
        event_time=WHEN,
        input_quantity_list=[terms.quantity_element(net.beef_gtin, net.beef.lot, 20, "EA")],
        output_quantity_list=[terms.quantity_element(net.beef_gtin, "CUT2026", 80, "EA")],
        biz_step="transforming",
    )
    [status] = capture(db, net.signer, net.importer, prepare(epcis.epcis_document([event])))
    db.commit()
    assert status.operation == "transform"
    assert holding(db, net.importer.id, net.beef.id) == 100 - 20
    output = db.scalar(select(Batch).where(Batch.lot == "CUT2026"))
    assert output is not None
    assert holding(db, net.importer.id, output.id) == 80


def test_commissioning_lotline_goods_is_refused_because_codes_are_issued_by_the_api(db: Session) -> None:
    net = build_network(db)
    event = epcis.object_event(
        action="ADD",
        event_time=WHEN,
        epc_list=[terms.item_epc(net.beef_gtin, "NEWSERIAL1")],
        biz_step="commissioning",
    )
    with pytest.raises(InvalidTransition, match="codes are issued by the codes API"):
        capture(db, net.signer, net.importer, prepare(epcis.epcis_document([event])))


def test_an_event_mixing_lotline_goods_with_unknown_ones_is_refused_whole(db: Session) -> None:
    net = build_network(db)
    event = ship_event(net, 1)
    event["epcList"] = ["urn:epc:id:sgtin:0614141.107346.2017"]
    with pytest.raises(UnknownCode, match=r"epcList\[0\]"):
        capture(db, net.signer, net.importer, prepare(epcis.epcis_document([event])))


def test_gs1_examples_are_recorded_as_observations_that_move_nothing(db: Session) -> None:
    net = build_network(db)
    movements = db.scalar(select(func.count()).select_from(Movement))
    document = json.loads((EXAMPLES / "Example_9.6.3-AggregationEvent.jsonld").read_text())
    [status] = capture(db, net.signer, net.wholesaler, prepare(document))
    db.commit()
    assert status.outcome is Outcome.RECORDED
    assert status.event_id == reference_hashes(document)[0]
    stored = db.scalar(select(Event).where(Event.event_id == status.event_id))
    assert stored is not None
    # What `lotline verify` does: the stored document alone (its context travels with it) gives back its id.
    assert event_hash({k: v for k, v in stored.document.items() if k != "eventID"}) == status.event_id
    seq = stored.seq
    assert db.scalar(select(func.count()).select_from(EventBatch).where(EventBatch.event_seq == seq)) == 0
    assert db.scalar(select(func.count()).select_from(Movement)) == movements
    [again] = capture(db, net.signer, net.wholesaler, prepare(document))
    assert again.outcome is Outcome.DUPLICATE


def test_run_epcis_import_captures_a_file_as_the_named_organisation(
    db: Session, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = build_network(db)
    monkeypatch.setenv("LOTLINE_SECRET_KEY", "test-master-secret")
    monkeypatch.setenv("LOTLINE_ENVIRONMENT", "test")
    from ledger.settings import get_settings

    get_settings.cache_clear()
    try:
        statuses = run_epcis_import(database_url, EXAMPLES / "SensorDataExample1.jsonld", net.retailer.uscc)
    finally:
        get_settings.cache_clear()
    document = json.loads((EXAMPLES / "SensorDataExample1.jsonld").read_text())
    assert [s.event_id for s in statuses] == reference_hashes(document)
    db.expire_all()
    author = db.scalar(select(Event.org_id).where(Event.event_id == statuses[0].event_id))
    assert author == net.retailer.id


def test_the_standard_context_alone_is_not_copied_into_stored_events() -> None:
    event = epcis.object_event(action="OBSERVE", event_time=WHEN, epc_list=["urn:epc:id:sgtin:0614141.107346.1"])
    [prepared] = prepare({**epcis.epcis_document([event]), "@context": STANDARD_CONTEXT})
    assert "@context" not in prepared.stored
