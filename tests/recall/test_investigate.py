"""One-click investigation: which batches were at a place in a window, by event times, and who else has them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from ledger import trade
from ledger.errors import InvalidInput, NotFound
from ledger.goods import BatchLine, Goods
from ledger.models import Location, Organisation, Role
from ledger.registry import create_location, register_batch
from recall.investigate import describe_investigation, format_report, investigate, trace_report
from tests.ledger.network import COLD_ATTRS, Network, build_network, org

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)


def hours(n: float) -> datetime:
    return T0 + timedelta(hours=n)


def move(
    db: Session, net: Network, src: Organisation, dst: Organisation, quantity: int, at: float, where: int | None = None
) -> None:
    """Ship at ``at`` hours and receive an hour later, at ``where`` (the receiver's location)."""
    goods = Goods(lines=(BatchLine(net.beef_gtin, net.beef.lot, quantity),))
    _, shipment = trade.ship(db, net.signer, trade.ScanContext(src, event_time=hours(at)), goods, to_org_id=dst.id)
    ctx = trade.ScanContext(dst, location_id=where, event_time=hours(at + 1))
    trade.receive(db, net.signer, ctx, shipment_id=shipment.id)


@pytest.fixture
def net(db: Session) -> Network:
    return build_network(db)


@pytest.fixture
def stalls(db: Session, net: Network) -> tuple[Location, Location]:
    return (
        create_location(db, net.retailer, name="A 区 12 号摊位", kind="market_stall"),
        create_location(db, net.retailer, name="B 区 3 号摊位", kind="market_stall"),
    )


def test_a_batch_received_during_the_window_is_present_with_its_other_holders(db: Session, net: Network) -> None:
    move(db, net, net.importer, net.wholesaler, 30, at=0)
    move(db, net, net.wholesaler, net.retailer, 10, at=2)
    found = investigate(db, org_id=net.retailer.id, since=hours(2), until=hours(4))
    assert [(p.batch_id, p.arrived_in_window, p.on_hand_at_since) for p in found.present] == [(net.beef.id, 10, 0)]
    assert found.other_holders == tuple(sorted((net.importer.id, net.wholesaler.id)))
    assert found.sources.org_ids == {net.importer.id, net.wholesaler.id, net.retailer.id}


def test_a_batch_on_hand_when_the_window_opens_is_present(db: Session, net: Network) -> None:
    move(db, net, net.importer, net.wholesaler, 30, at=0)
    found = investigate(db, org_id=net.wholesaler.id, since=hours(10), until=hours(11))
    assert [(p.batch_id, p.on_hand_at_since, p.arrived_in_window) for p in found.present] == [(net.beef.id, 30, 0)]


def test_a_batch_gone_before_the_window_or_arriving_after_it_is_absent(db: Session, net: Network) -> None:
    move(db, net, net.importer, net.wholesaler, 30, at=0)
    move(db, net, net.wholesaler, net.retailer, 30, at=2)  # the wholesaler ships everything at 02:00
    assert investigate(db, org_id=net.wholesaler.id, since=hours(5), until=hours(6)).present == ()
    assert investigate(db, org_id=net.retailer.id, since=hours(0), until=hours(3)).present == ()
    late = investigate(db, org_id=net.retailer.id, since=hours(0), until=hours(3) + timedelta(seconds=1))
    assert [p.batch_id for p in late.present] == [net.beef.id]


def test_goods_in_transit_to_the_place_were_not_there_yet(db: Session, net: Network) -> None:
    goods = Goods(lines=(BatchLine(net.beef_gtin, net.beef.lot, 5),))
    trade.ship(db, net.signer, trade.ScanContext(net.importer, event_time=hours(1)), goods, to_org_id=net.retailer.id)
    assert investigate(db, org_id=net.retailer.id, since=hours(0), until=hours(5)).present == ()


def test_a_location_only_finds_batches_scanned_there(
    db: Session, net: Network, stalls: tuple[Location, Location]
) -> None:
    here, elsewhere = stalls
    move(db, net, net.importer, net.retailer, 8, at=1, where=here.id)
    assert [p.batch_id for p in investigate(db, location_id=here.id, since=hours(0), until=hours(5)).present] == [
        net.beef.id
    ]
    assert investigate(db, location_id=elsewhere.id, since=hours(0), until=hours(5)).present == ()


def test_a_batch_made_there_is_present_from_its_registration(db: Session, net: Network) -> None:
    batch = register_batch(
        db,
        net.signer,
        net.importer,
        gtin=net.beef_gtin,
        lot="BR2026B",
        quantity=5,
        attrs=COLD_ATTRS,
        event_time=hours(1),
    )
    found = investigate(db, org_id=net.importer.id, since=hours(0), until=hours(2))
    assert batch.id in [p.batch_id for p in found.present]
    assert found.other_holders == ()


def test_an_investigation_needs_one_real_place_and_a_real_window(
    db: Session, net: Network, stalls: tuple[Location, Location]
) -> None:
    with pytest.raises(InvalidInput):
        investigate(db, since=hours(0), until=hours(1))
    with pytest.raises(InvalidInput):
        investigate(db, org_id=net.retailer.id, since=hours(1), until=hours(1))
    with pytest.raises(InvalidInput):
        investigate(db, org_id=net.retailer.id, since=hours(0).replace(tzinfo=None), until=hours(1))
    with pytest.raises(InvalidInput):
        investigate(db, location_id=stalls[0].id, org_id=net.importer.id, since=hours(0), until=hours(1))
    with pytest.raises(NotFound):
        investigate(db, location_id=stalls[1].id + 1000, since=hours(0), until=hours(1))


def test_a_trace_report_names_every_holder_and_reads_as_text(db: Session, net: Network) -> None:
    move(db, net, net.importer, net.wholesaler, 30, at=0)
    report = trace_report(db, net.beef_gtin, net.beef.lot, "forward")
    importer = next(h for h in report["holders"] if h["org"]["name"] == net.importer.name)
    assert [(s["org"]["name"], s["quantity"]) for s in importer["sent_to"]] == [(net.wholesaler.name, 30)]
    assert [h["path"] for h in report["holders"]] == [[net.importer.name], [net.importer.name, net.wholesaler.name]]
    text = format_report(report)
    assert f"{net.importer.name} ({net.importer.uscc}) lot {net.beef.lot}: received 100" in text
    assert f"shipped 30 → {net.wholesaler.name} 30" in text


def test_a_capped_description_names_every_hand_on_a_listed_holders_path(db: Session, net: Network) -> None:
    # importer → wholesaler → retailer; the retailer holds the most, so it alone is listed, and its path runs
    # through the wholesaler, which is neither listed nor anyone's onward shipment in the list.
    move(db, net, net.importer, net.wholesaler, 60, at=0)
    move(db, net, net.wholesaler, net.retailer, 50, at=2)
    found = investigate(db, org_id=net.retailer.id, since=hours(2), until=hours(4))

    described = describe_investigation(db, found, edges=False, max_holders=1, leave_out_self=False)

    [listed] = described["spread"]["holders"]
    assert (listed["org"]["id"], listed["on_hand"]) == (net.retailer.id, 50)
    assert listed["path"] == [net.importer.name, net.wholesaler.name, net.retailer.name]
    assert described["spread"]["holders_total"] == len(found.spread.holders) == 3


def test_the_sources_of_a_place_are_only_the_chain_that_reached_it(db: Session, net: Network) -> None:
    # importer → wholesaler → supermarket, and wholesaler → restaurant: the restaurant holds the same batch but
    # never supplied the supermarket, so it is one of the other holders, not a source.
    restaurant = org(db, net.signer, 9, "知味观湖滨店", Role.RETAILER)
    move(db, net, net.importer, net.wholesaler, 30, at=0)
    move(db, net, net.wholesaler, net.retailer, 10, at=2)
    move(db, net, net.wholesaler, restaurant, 5, at=3)
    found = investigate(db, org_id=net.retailer.id, since=hours(0), until=hours(10))
    assert found.sources.org_ids == {net.importer.id, net.wholesaler.id, net.retailer.id}
    assert restaurant.id in found.other_holders
    described = describe_investigation(db, found, leave_out_self=False)
    assert restaurant.name not in {h["org"]["name"] for h in described["sources"]["holders"]}
