"""A traded network for the recall lifecycle tests: the beef batch of ``tests.ledger.network`` moved through
three tiers, partly sold, partly cut into a new batch, partly still on a truck.

At the end the beef batch (100 units) stands so:

    importer    65 on hand   (shipped 30 to the wholesaler and 5 to the retailer)
    wholesaler  15 on hand   (received 30, shipped 10 to the retailer, cut 5 into 20 steak packs it holds)
    retailer     8 on hand   (received 10, sold 2) and 5 more in transit to it from the importer
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger import packing, trade
from ledger.goods import BatchLine, Goods
from ledger.models import Batch, Category, Organisation
from ledger.registry import create_product
from tests.ledger.network import PREFIX, Network, build_network

STEAK_LOT = "CUT2026-01"


@dataclass
class Traded:
    net: Network
    steaks: Batch
    steak_gtin: str

    @property
    def beef_line(self) -> tuple[str, str]:
        return self.net.beef_gtin, self.net.beef.lot


def beef(net: Network, quantity: int) -> Goods:
    return Goods(lines=(BatchLine(net.beef_gtin, net.beef.lot, quantity),))


def ship_and_receive(db: Session, net: Network, goods: Goods, sender: Organisation, receiver: Organisation) -> None:
    _, shipment = trade.ship(db, net.signer, trade.ScanContext(sender), goods, to_org_id=receiver.id)
    trade.receive(db, net.signer, trade.ScanContext(receiver), shipment_id=shipment.id)


def build_traded(db: Session) -> Traded:
    net = build_network(db)
    ship_and_receive(db, net, beef(net, 30), net.importer, net.wholesaler)
    ship_and_receive(db, net, beef(net, 10), net.wholesaler, net.retailer)
    trade.sell(db, net.signer, trade.ScanContext(net.retailer), beef(net, 2))
    steak = create_product(
        db, net.wholesaler, name="牛排", name_en="Beef steak", category=Category.COLD_CHAIN, company_prefix=PREFIX
    )
    _, steaks = packing.transform(
        db,
        net.signer,
        trade.ScanContext(net.wholesaler),
        beef(net, 5),
        output_gtin=steak.gtin,
        output_lot=STEAK_LOT,
        output_quantity=20,
    )
    trade.ship(db, net.signer, trade.ScanContext(net.importer), beef(net, 5), to_org_id=net.retailer.id)
    db.commit()
    return Traded(net, steaks, steak.gtin)
