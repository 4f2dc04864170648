"""Many clients selling and shipping the same batches at once, each in its own session and transaction: no item is
sold twice, no unit is sold or shipped beyond what was on hand, quantities are conserved, every batch's hash chain
stays one chain, and one organisation's concurrent events get distinct, consecutive signature nonces.

The point is PostgreSQL (``make test`` runs the db-marked tests there too), where nothing but row locks orders
concurrent requests; on SQLite the write lock serialises them and the same assertions hold.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger import trade
from ledger.errors import LotlineError
from ledger.goods import BatchLine, Goods
from ledger.models import Batch, Code, CodeStatus, Event, EventBatch, Holding, Organisation, Shipment
from tests.ledger.network import Network, build_network

CLIENTS = 8
ATTEMPTS = 12
STOCKED = 40
"""Units of beef the wholesaler holds before the clients start (besides the 10 coded items)."""


def _stock_the_wholesaler(db: Session, net: Network) -> None:
    imp, whs = trade.ScanContext(net.importer), trade.ScanContext(net.wholesaler)
    goods = Goods(
        codes=tuple(net.item(i) for i in range(10)),
        lines=(BatchLine(net.beef_gtin, net.beef.lot, STOCKED),),
    )
    _, shipment = trade.ship(db, net.signer, imp, goods, to_org_id=net.wholesaler.id)
    trade.receive(db, net.signer, whs, shipment_id=shipment.id)
    db.commit()


def _run_clients(factory: sessionmaker[Session], client: Callable[[Session, int, random.Random], str]) -> Counter[str]:
    """Start every client at once; each attempt runs in a transaction of its own and commits or rolls back."""
    outcomes: Counter[str] = Counter()
    lock, start = threading.Lock(), threading.Barrier(CLIENTS)
    crashes: list[BaseException] = []

    def run(number: int) -> None:
        rng = random.Random(number)
        start.wait()
        for attempt in range(ATTEMPTS):
            with factory() as session:
                try:
                    outcome = client(session, attempt, rng)
                    session.commit()
                except LotlineError as refusal:
                    session.rollback()
                    outcome = type(refusal).__name__
                except BaseException as crash:  # anything but a typed refusal fails the test below
                    session.rollback()
                    crashes.append(crash)
                    return
            with lock:
                outcomes[outcome] += 1

    threads = [threading.Thread(target=run, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not crashes, crashes
    return outcomes


def test_concurrent_sales_and_shipments_never_sell_twice_and_conserve_quantities(
    db: Session, session_factory: sessionmaker[Session]
) -> None:
    net = build_network(db)
    _stock_the_wholesaler(db, net)
    whs_id, ret_id, beef_id = net.wholesaler.id, net.retailer.id, net.beef.id
    nonce_before = net.wholesaler.signature_nonce

    def client(session: Session, attempt: int, rng: random.Random) -> str:
        """The wholesaler's scanners: sell a coded item (the same ten for everyone), sell one unit, ship one unit."""
        whs = session.get(Organisation, whs_id)
        assert whs is not None
        ctx = trade.ScanContext(whs)
        one_unit = Goods(lines=(BatchLine(net.beef_gtin, net.beef.lot, 1),))
        match attempt % 3:
            case 0:
                trade.sell(session, net.signer, ctx, Goods(codes=(net.item(rng.randrange(10)),)))
                return "item sold"
            case 1:
                trade.sell(session, net.signer, ctx, one_unit)
                return "unit sold"
            case _:
                trade.ship(session, net.signer, ctx, one_unit, to_org_id=ret_id)
                return "unit shipped"

    outcomes = _run_clients(session_factory, client)

    db.expire_all()
    assert sum(outcomes.values()) == CLIENTS * ATTEMPTS
    assert set(outcomes) <= {
        "item sold",
        "unit sold",
        "unit shipped",
        "NotHolder",
        "AlreadyConsumed",
        "QuantityExceeded",
    }
    sales, shipped = outcomes["item sold"] + outcomes["unit sold"], outcomes["unit shipped"]
    # No double sale: as many items sold as sales of items acknowledged, each item at most once (it has one status).
    sold_items = db.scalar(select(func.count()).select_from(Code).where(Code.status == CodeStatus.SOLD))
    assert sold_items == outcomes["item sold"] <= 10
    # Conserved: what the wholesaler received is what it still has plus what it sold and shipped, never below zero.
    holding = db.get(Holding, (whs_id, beef_id))
    assert holding is not None
    assert holding.received == STOCKED + 10
    assert holding.on_hand >= 0
    assert holding.on_hand + holding.consumed + holding.shipped == holding.received
    assert (holding.consumed, holding.shipped) == (sales, shipped)
    assert db.scalar(select(func.count()).select_from(Shipment).where(Shipment.from_org_id == whs_id)) == shipped
    # The batch's hash chain is one chain: positions 1..n, none taken twice.
    batch = db.get(Batch, beef_id)
    assert batch is not None
    positions = list(db.scalars(select(EventBatch.position).where(EventBatch.batch_id == beef_id)))
    assert sorted(positions) == list(range(1, batch.event_count + 1))
    # Nonces: one per acknowledged event of the wholesaler, consecutive, none reused.
    nonces = sorted(db.scalars(select(Event.nonce).where(Event.org_id == whs_id, Event.nonce > nonce_before)))
    assert nonces == list(range(nonce_before + 1, nonce_before + sales + shipped + 1))


def test_each_item_sold_concurrently_by_many_clients_is_sold_once(
    db: Session, session_factory: sessionmaker[Session]
) -> None:
    net = build_network(db)
    _stock_the_wholesaler(db, net)
    whs_id = net.wholesaler.id

    def client(session: Session, attempt: int, _rng: random.Random) -> str:
        whs = session.get(Organisation, whs_id)
        assert whs is not None
        trade.sell(session, net.signer, trade.ScanContext(whs), Goods(codes=(net.item(attempt % 10),)))
        return f"sold {attempt % 10}"

    outcomes = _run_clients(session_factory, client)

    sold = {name: count for name, count in outcomes.items() if name.startswith("sold")}
    assert sold == {f"sold {i}": 1 for i in range(10)}
    assert outcomes["AlreadyConsumed"] + outcomes["NotHolder"] == CLIENTS * ATTEMPTS - 10
    db.expire_all()
    sold_items = db.scalar(select(func.count()).select_from(Code).where(Code.status == CodeStatus.SOLD))
    assert sold_items == 10
