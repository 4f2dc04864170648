"""Every rule of the ledger refuses what it must, with a typed error, and writes nothing when it does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session

from ledger import errors, packing, trade
from ledger.goods import BatchLine, Goods
from ledger.identifiers import DigitalLink
from ledger.models import Hold, HoldKind, Recall, RecallStatus, RecallTarget, utcnow
from tests.ledger.network import Network, build_network, refused


@pytest.fixture
def net(db: Session) -> Iterator[Network]:
    return build_network(db)


def ctx(org: object) -> trade.ScanContext:
    return trade.ScanContext(org=org)  # type: ignore[arg-type]


def ship_beef(db: Session, net: Network, qty: int, to: object | None = None) -> int:
    to_org = to or net.wholesaler
    _event, shipment = trade.ship(
        db,
        net.signer,
        ctx(net.importer),
        Goods(lines=(BatchLine(net.beef_gtin, net.beef.lot, qty),)),
        to_org_id=to_org.id,
    )  # type: ignore[attr-defined]
    db.commit()
    return shipment.id


def stock_clinic(db: Session, net: Network, doses: int) -> None:
    """Vaccine doses shipped to the clinic and received: only a vaccinator administers them."""
    vaccine = Goods(lines=(BatchLine(net.vaccine_gtin, net.vaccine.lot, doses),))
    _event, shipment = trade.ship(db, net.signer, ctx(net.importer), vaccine, to_org_id=net.clinic.id)
    trade.receive(db, net.signer, ctx(net.clinic), shipment_id=shipment.id)
    db.commit()


def test_only_the_current_holder_ships_an_item_and_nothing_is_written(db: Session, net: Network) -> None:
    err = refused(
        db,
        errors.NotHolder,
        lambda: trade.ship(db, net.signer, ctx(net.wholesaler), Goods(codes=(net.item(0),)), to_org_id=net.retailer.id),
    )
    assert "not held" in err.detail


def test_shipping_more_than_on_hand_is_refused_and_writes_nothing(db: Session, net: Network) -> None:
    err = refused(
        db,
        errors.QuantityExceeded,
        lambda: trade.ship(
            db,
            net.signer,
            ctx(net.importer),
            Goods(lines=(BatchLine(net.beef_gtin, net.beef.lot, 101),)),
            to_org_id=net.wholesaler.id,
        ),
    )
    assert err.context["on_hand"] == 100
    assert err.context["requested"] == 101


def test_selling_more_than_received_is_refused(db: Session, net: Network) -> None:
    shipment = ship_beef(db, net, 30)
    trade.receive(db, net.signer, ctx(net.wholesaler), shipment_id=shipment)
    db.commit()
    refused(
        db,
        errors.QuantityExceeded,
        lambda: trade.sell(
            db, net.signer, ctx(net.wholesaler), Goods(lines=(BatchLine(net.beef_gtin, net.beef.lot, 31),))
        ),
    )


def test_a_receive_must_match_a_shipment_to_the_receiver(db: Session, net: Network) -> None:
    shipment = ship_beef(db, net, 20)
    refused(
        db,
        errors.ShipmentMismatch,
        lambda: trade.receive(db, net.signer, ctx(net.retailer), shipment_id=shipment),
    )


def test_receiving_more_than_was_shipped_is_refused(db: Session, net: Network) -> None:
    shipment = ship_beef(db, net, 20)
    refused(
        db,
        errors.ShipmentMismatch,
        lambda: trade.receive(
            db,
            net.signer,
            ctx(net.wholesaler),
            shipment_id=shipment,
            goods=Goods(lines=(BatchLine(net.beef_gtin, net.beef.lot, 21),)),
        ),
    )


def test_receiving_an_unknown_shipment_is_refused(db: Session, net: Network) -> None:
    refused(
        db,
        errors.UnknownShipment,
        lambda: trade.receive(db, net.signer, ctx(net.wholesaler), shipment_id=999),
    )


def test_an_item_not_on_the_shipment_cannot_be_received_on_it(db: Session, net: Network) -> None:
    shipment = ship_beef(db, net, 5)
    refused(
        db,
        errors.ShipmentMismatch,
        lambda: trade.receive(
            db, net.signer, ctx(net.wholesaler), shipment_id=shipment, goods=Goods(codes=(net.item(0),))
        ),
    )


def test_recalled_goods_cannot_be_shipped_sold_or_administered(db: Session, net: Network) -> None:
    stock_clinic(db, net, 1)
    recall = Recall(
        number="RC-2026-0001",
        recall_class=1,
        reason="Listeria",
        status=RecallStatus.OPEN,
        opened_by_org_id=net.regulator.id,
        opened_at=utcnow(),
    )
    db.add(recall)
    db.flush()
    db.add(RecallTarget(recall_id=recall.id, batch_id=net.beef.id))
    db.add(RecallTarget(recall_id=recall.id, batch_id=net.vaccine.id))
    db.commit()
    err = refused(
        db,
        errors.RecalledGoods,
        lambda: trade.ship(db, net.signer, ctx(net.importer), Goods(codes=(net.item(1),)), to_org_id=net.wholesaler.id),
    )
    assert err.context["recalls"] == ["RC-2026-0001"]
    refused(
        db,
        errors.RecalledGoods,
        lambda: trade.sell(db, net.signer, ctx(net.importer), Goods(codes=(net.item(1),))),
    )
    refused(
        db,
        errors.RecalledGoods,
        lambda: trade.administer(
            db, net.signer, ctx(net.clinic), Goods(lines=(BatchLine(net.vaccine_gtin, net.vaccine.lot, 1),))
        ),
    )
    # Destroying recalled goods is how the recall closes: it is accepted.
    trade.destroy(db, net.signer, ctx(net.importer), Goods(codes=(net.item(1),)))
    db.commit()


def test_held_goods_cannot_be_sold_until_released(db: Session, net: Network) -> None:
    hold = Hold(batch_id=net.beef.id, org_id=net.importer.id, kind=HoldKind.EXCURSION, reason="-12 °C for 3 h")
    db.add(hold)
    db.commit()
    refused(
        db,
        errors.HeldGoods,
        lambda: trade.sell(db, net.signer, ctx(net.importer), Goods(codes=(net.item(2),))),
    )
    hold.released_at, hold.release_reason = utcnow(), "QA tested, within spec"
    db.commit()
    trade.sell(db, net.signer, ctx(net.importer), Goods(codes=(net.item(2),)))
    db.commit()


def test_expired_goods_cannot_be_administered(db: Session, net: Network) -> None:
    stock_clinic(db, net, 1)
    net.vaccine.expiry_date = date.today() - timedelta(days=1)
    db.commit()
    err = refused(
        db,
        errors.ExpiredGoods,
        lambda: trade.administer(
            db, net.signer, ctx(net.clinic), Goods(lines=(BatchLine(net.vaccine_gtin, net.vaccine.lot, 1),))
        ),
    )
    assert "expired" in err.detail


def test_an_item_is_sold_only_once(db: Session, net: Network) -> None:
    trade.sell(db, net.signer, ctx(net.importer), Goods(codes=(net.item(3),)))
    db.commit()
    err = refused(
        db,
        errors.AlreadyConsumed,
        lambda: trade.sell(db, net.signer, ctx(net.importer), Goods(codes=(net.item(3),))),
    )
    assert err.context["status"] == "sold"


def test_a_dose_is_administered_only_once(db: Session, net: Network) -> None:
    shipment = trade.ship(
        db,
        net.signer,
        ctx(net.importer),
        Goods(lines=(BatchLine(net.vaccine_gtin, net.vaccine.lot, 1),)),
        to_org_id=net.clinic.id,
    )[1]
    trade.receive(db, net.signer, ctx(net.clinic), shipment_id=shipment.id)
    trade.administer(db, net.signer, ctx(net.clinic), Goods(lines=(BatchLine(net.vaccine_gtin, net.vaccine.lot, 1),)))
    db.commit()
    refused(
        db,
        errors.QuantityExceeded,
        lambda: trade.administer(
            db, net.signer, ctx(net.clinic), Goods(lines=(BatchLine(net.vaccine_gtin, net.vaccine.lot, 1),))
        ),
    )


def test_only_vaccines_are_administered(db: Session, net: Network) -> None:
    refused(
        db,
        errors.InvalidTransition,
        lambda: trade.administer(db, net.signer, ctx(net.clinic), Goods(codes=(net.item(4),))),
    )


def test_an_item_in_transit_cannot_be_sold_by_the_sender(db: Session, net: Network) -> None:
    trade.ship(db, net.signer, ctx(net.importer), Goods(codes=(net.item(5),)), to_org_id=net.wholesaler.id)
    db.commit()
    refused(
        db,
        errors.NotHolder,
        lambda: trade.sell(db, net.signer, ctx(net.importer), Goods(codes=(net.item(5),))),
    )


@pytest.mark.parametrize("quantity", [0, -3, 1.5, True])
def test_negative_zero_or_fractional_quantities_are_refused(db: Session, net: Network, quantity: object) -> None:
    refused(
        db,
        errors.InvalidQuantity,
        lambda: trade.ship(
            db,
            net.signer,
            ctx(net.importer),
            Goods(lines=(BatchLine(net.beef_gtin, net.beef.lot, quantity),)),  # type: ignore[arg-type]
            to_org_id=net.wholesaler.id,
        ),
    )


def test_a_code_that_was_never_issued_is_unknown(db: Session, net: Network) -> None:
    forged = DigitalLink(gtin=net.beef_gtin, lot=net.beef.lot, serial="FAKE000001")
    refused(db, errors.UnknownCode, lambda: trade.sell(db, net.signer, ctx(net.importer), Goods(codes=(forged,))))


def test_a_real_serial_printed_with_another_lot_is_unknown(db: Session, net: Network) -> None:
    forged = DigitalLink(gtin=net.beef_gtin, lot="OTHERLOT", serial=net.serials[0])
    refused(db, errors.UnknownCode, lambda: trade.sell(db, net.signer, ctx(net.importer), Goods(codes=(forged,))))


def test_the_same_code_twice_in_one_scan_is_refused(db: Session, net: Network) -> None:
    refused(
        db,
        errors.InvalidQuantity,
        lambda: trade.sell(db, net.signer, ctx(net.importer), Goods(codes=(net.item(6), net.item(6)))),
    )


def test_a_packed_item_cannot_be_packed_again(db: Session, net: Network) -> None:
    packing.pack(db, net.signer, ctx(net.importer), [net.item(7)], sscc="069700010000000016")
    db.commit()
    refused(
        db,
        errors.InvalidTransition,
        lambda: packing.pack(db, net.signer, ctx(net.importer), [net.item(7)], sscc="069700010000000023"),
    )


def test_a_failed_inspection_holds_the_batch_at_every_holder(db: Session, net: Network) -> None:
    shipment = ship_beef(db, net, 10)
    trade.receive(db, net.signer, ctx(net.wholesaler), shipment_id=shipment)
    trade.inspect(
        db,
        net.signer,
        ctx(net.regulator),
        Goods(lines=(BatchLine(net.beef_gtin, net.beef.lot, 2),)),
        passed=False,
        reason="瘦肉精 positive",
    )
    db.commit()
    refused(
        db,
        errors.HeldGoods,
        lambda: trade.sell(
            db, net.signer, ctx(net.wholesaler), Goods(lines=(BatchLine(net.beef_gtin, net.beef.lot, 1),))
        ),
    )
    refused(
        db,
        errors.HeldGoods,
        lambda: trade.ship(
            db,
            net.signer,
            ctx(net.importer),
            Goods(lines=(BatchLine(net.beef_gtin, net.beef.lot, 1),)),
            to_org_id=net.retailer.id,
        ),
    )
