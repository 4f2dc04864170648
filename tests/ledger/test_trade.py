"""Accepted scans: goods move through three tiers, holdings are conserved, and every batch's hash chain, event
signature and outbox row agree with the stored events."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import epcis, packing, terms, trade
from ledger.event_hash import event_hash, hash_digest
from ledger.goods import BatchLine, Goods
from ledger.merkle import fold_heads
from ledger.models import Batch, Code, CodeStatus, Event, EventBatch, Holding, OutboxEntry, ShipmentStatus
from ledger.signing import EventSignature, verify_event_signature
from tests.ledger.network import Network, build_network
from tests.reference_hash import reference_ids


@pytest.fixture
def net(db: Session) -> Iterator[Network]:
    return build_network(db)


def holding(db: Session, org_id: int, batch_id: int) -> Holding:
    row = db.get(Holding, (org_id, batch_id))
    assert row is not None
    return row


def test_goods_move_through_three_tiers_and_quantities_are_conserved(db: Session, net: Network) -> None:
    imp, whs, ret = net.importer, net.wholesaler, net.retailer
    line = lambda q: Goods(lines=(BatchLine(net.beef_gtin, net.beef.lot, q),))  # noqa: E731
    _, s1 = trade.ship(
        db, net.signer, trade.ScanContext(imp), Goods(codes=(net.item(0), net.item(1))), to_org_id=whs.id
    )
    _, s2 = trade.ship(db, net.signer, trade.ScanContext(imp), line(40), to_org_id=whs.id)
    trade.receive(db, net.signer, trade.ScanContext(whs), shipment_id=s1.id)
    trade.receive(db, net.signer, trade.ScanContext(whs), shipment_id=s2.id, goods=line(25))
    _, s3 = trade.ship(
        db,
        net.signer,
        trade.ScanContext(whs),
        Goods(codes=(net.item(0),), lines=(BatchLine(net.beef_gtin, net.beef.lot, 10),)),
        to_org_id=ret.id,
    )
    trade.receive(db, net.signer, trade.ScanContext(ret), shipment_id=s3.id)
    trade.sell(db, net.signer, trade.ScanContext(ret), Goods(codes=(net.item(0),)))
    db.commit()

    assert (holding(db, imp.id, net.beef.id).on_hand, holding(db, whs.id, net.beef.id).on_hand) == (58, 16)
    retail = holding(db, ret.id, net.beef.id)
    assert (retail.received, retail.on_hand, retail.consumed) == (11, 10, 1)
    assert s2.status is ShipmentStatus.PARTIALLY_RECEIVED
    assert s1.status is ShipmentStatus.RECEIVED
    sold = db.scalar(select(Code).where(Code.serial == net.serials[0]))
    assert sold is not None
    assert sold.status is CodeStatus.SOLD
    # Units never appear or vanish: everything registered is on hand, in transit or consumed.
    on_hand = db.scalar(select(func.sum(Holding.on_hand)).where(Holding.batch_id == net.beef.id))
    assert on_hand + 15 + 1 == 100  # 15 still in transit on s2, 1 sold


def test_every_batch_head_is_the_fold_of_its_event_digests(db: Session, net: Network) -> None:
    trade.ship(
        db, net.signer, trade.ScanContext(net.importer), Goods(codes=(net.item(2),)), to_org_id=net.wholesaler.id
    )
    db.commit()
    for batch in db.scalars(select(Batch)):
        links = db.execute(
            select(EventBatch.position, Event.event_id)
            .join(Event, Event.seq == EventBatch.event_seq)
            .where(EventBatch.batch_id == batch.id)
            .order_by(EventBatch.position)
        ).all()
        assert [p for p, _ in links] == list(range(1, batch.event_count + 1))
        assert "0x" + fold_heads(hash_digest(e) for _, e in links).hex() == batch.chain_head


def test_stored_events_rehash_to_their_id_and_carry_a_valid_signature(db: Session, net: Network) -> None:
    # In commit order: nonces rise per signer in the order the events were written, not in a heap's row order.
    events = db.scalars(select(Event).order_by(Event.seq)).all()
    assert events
    nonce_seen: dict[str, int] = {}
    for event in events:
        document = {k: v for k, v in event.document.items() if k != "eventID"}
        assert event_hash(document) == event.event_id
        sig = EventSignature(event.signer, event.nonce, event.deadline, bytes.fromhex(event.signature[2:]))
        verify_event_signature(
            hash_digest(event.event_id),
            sig,
            net.signer.domain,
            expected_signer=event.signer,
            last_nonce=nonce_seen.get(event.signer),
            now=event.deadline - 1,
        )
        nonce_seen[event.signer] = event.nonce
    assert db.scalar(select(func.count()).select_from(OutboxEntry)) == len(events)


def test_a_pallet_ships_and_is_received_with_its_contents(db: Session, net: Network) -> None:
    ctx = trade.ScanContext(net.importer)
    packing.pack(db, net.signer, ctx, [net.item(3), net.item(4)], sscc="069700010000000016")
    from ledger.identifiers import DigitalLink

    pallet = DigitalLink(sscc="069700010000000016")
    _, shipment = trade.ship(db, net.signer, ctx, Goods(codes=(pallet,)), to_org_id=net.wholesaler.id)
    trade.receive(db, net.signer, trade.ScanContext(net.wholesaler), shipment_id=shipment.id)
    db.commit()
    moved = db.scalars(select(Code).where(Code.serial.in_([net.serials[3], net.serials[4]]))).all()
    assert {c.holder_org_id for c in moved} == {net.wholesaler.id}
    assert holding(db, net.wholesaler.id, net.beef.id).on_hand == 2
    # Each document names the pallet and, in quantityList, the lot it holds: an export stands alone.
    documents = db.scalars(select(Event.document).where(Event.biz_step.in_(["shipping", "receiving"]))).all()
    for document in documents:
        assert document["epcList"] == [terms.sscc_epc("069700010000000016")]
        assert document["quantityList"] == [terms.quantity_element(net.beef_gtin, net.beef.lot, 2, "EA")]
        assert event_hash({k: v for k, v in document.items() if k != "eventID"}) == document["eventID"]


def test_item_commissioning_names_the_lot_and_its_expiry_in_its_master_data(db: Session, net: Network) -> None:
    commissioning = db.scalars(select(Event.document).where(Event.biz_step == "commissioning")).all()
    [items] = [document for document in commissioning if "epcList" in document]
    assert net.beef.expiry_date is not None
    assert items["epcList"][0] == terms.item_epc(net.beef_gtin, net.serials[0])
    assert items["ilmd"] == {
        "cbvmda:lotNumber": net.beef.lot,
        "cbvmda:itemExpirationDate": net.beef.expiry_date.isoformat(),
    }
    body = {k: v for k, v in items.items() if k != "eventID"}
    assert reference_ids([epcis.epcis_document([body])]) == [[items["eventID"]]]


def test_a_transformation_consumes_inputs_into_a_new_batch(db: Session, net: Network) -> None:
    from ledger.models import Category
    from ledger.registry import create_product

    cuts = create_product(db, net.importer, name="牛排切块", category=Category.COLD_CHAIN, company_prefix="6970001")
    event, output = packing.transform(
        db,
        net.signer,
        trade.ScanContext(net.importer),
        Goods(lines=(BatchLine(net.beef_gtin, net.beef.lot, 20),)),
        output_gtin=cuts.gtin,
        output_lot="CUT-001",
        output_quantity=80,
    )
    db.commit()
    assert event.event_type == "TransformationEvent"
    assert holding(db, net.importer.id, net.beef.id).transformed == 20
    assert holding(db, net.importer.id, output.id).on_hand == 80
