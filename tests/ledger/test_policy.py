"""Every trade operation of the ledger refuses an organisation whose roles may not take it, and writes nothing.

Where the roles allow it, each refused organisation holds the goods it names, so the role is the only reason the
operation is refused: the check is the ledger's own, whoever calls it (the scan API, EPCIS capture, a script).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy.orm import Session

from ledger import errors, packing, trade
from ledger.goods import BatchLine, Goods
from ledger.models import Organisation, Role
from ledger.policy import ALLOWED_ROLES, TradeAction
from tests.ledger.network import Network, build_network, org, refused

SSCC = "069700010000000016"


@pytest.fixture
def net(db: Session) -> Iterator[Network]:
    return build_network(db)


def at(scanner: Organisation) -> trade.ScanContext:
    return trade.ScanContext(org=scanner)


def beef(net: Network, quantity: int) -> Goods:
    return Goods(lines=(BatchLine(net.beef_gtin, net.beef.lot, quantity),))


def doses(net: Network, quantity: int) -> Goods:
    return Goods(lines=(BatchLine(net.vaccine_gtin, net.vaccine.lot, quantity),))


def handed(db: Session, net: Network, receiver: Organisation, goods: Goods) -> None:
    """The importer ships goods to the receiver, which receives them."""
    _event, shipment = trade.ship(db, net.signer, at(net.importer), goods, to_org_id=receiver.id)
    trade.receive(db, net.signer, at(receiver), shipment_id=shipment.id)
    db.commit()


def clinic_ships(db: Session, net: Network) -> Callable[[], object]:
    handed(db, net, net.clinic, doses(net, 2))
    return lambda: trade.ship(db, net.signer, at(net.clinic), doses(net, 1), to_org_id=net.importer.id)


def regulator_receives(db: Session, net: Network) -> Callable[[], object]:
    _event, shipment = trade.ship(db, net.signer, at(net.importer), beef(net, 5), to_org_id=net.regulator.id)
    db.commit()
    return lambda: trade.receive(db, net.signer, at(net.regulator), shipment_id=shipment.id)


def clinic_sells(db: Session, net: Network) -> Callable[[], object]:
    handed(db, net, net.clinic, doses(net, 2))
    return lambda: trade.sell(db, net.signer, at(net.clinic), doses(net, 1))


def importer_administers(db: Session, net: Network) -> Callable[[], object]:
    return lambda: trade.administer(db, net.signer, at(net.importer), doses(net, 1))


def regulator_destroys(db: Session, net: Network) -> Callable[[], object]:
    return lambda: trade.destroy(db, net.signer, at(net.regulator), Goods(codes=(net.item(0),)))


def carrier_inspects(db: Session, net: Network) -> Callable[[], object]:
    carrier = org(db, net.signer, 6, "顺丰冷运", Role.CARRIER)
    handed(db, net, carrier, beef(net, 5))
    return lambda: trade.inspect(db, net.signer, at(carrier), beef(net, 1), passed=False, reason="抽检不合格")


def retailer_packs(db: Session, net: Network) -> Callable[[], object]:
    handed(db, net, net.retailer, Goods(codes=(net.item(0), net.item(1))))
    return lambda: packing.pack(db, net.signer, at(net.retailer), [net.item(0), net.item(1)], sscc=SSCC)


def regulator_unpacks(db: Session, net: Network) -> Callable[[], object]:
    packing.pack(db, net.signer, at(net.importer), [net.item(0)], sscc=SSCC)
    db.commit()
    return lambda: packing.unpack(db, net.signer, at(net.regulator), sscc=SSCC)


def retailer_transforms(db: Session, net: Network) -> Callable[[], object]:
    handed(db, net, net.retailer, beef(net, 10))

    def cut_into_packs() -> object:
        inputs = beef(net, 10)
        return packing.transform(
            db, net.signer, at(net.retailer), inputs, output_gtin=net.beef_gtin, output_lot="CUT-01", output_quantity=40
        )

    return cut_into_packs


REFUSALS: dict[TradeAction, Callable[[Session, Network], Callable[[], object]]] = {
    TradeAction.SHIP: clinic_ships,
    TradeAction.RECEIVE: regulator_receives,
    TradeAction.SELL: clinic_sells,
    TradeAction.ADMINISTER: importer_administers,
    TradeAction.DESTROY: regulator_destroys,
    TradeAction.INSPECT: carrier_inspects,
    TradeAction.PACK: retailer_packs,
    TradeAction.UNPACK: regulator_unpacks,
    TradeAction.TRANSFORM: retailer_transforms,
}


def test_every_trade_action_has_a_refusal_case() -> None:
    assert set(REFUSALS) == set(TradeAction)


@pytest.mark.parametrize("action", list(REFUSALS), ids=str)
def test_an_organisation_without_an_allowed_role_is_refused_and_nothing_is_written(
    db: Session, net: Network, action: TradeAction
) -> None:
    attempt = REFUSALS[action](db, net)
    err = refused(db, errors.RoleRequired, attempt)
    assert err.context["required"] == [role.value for role in ALLOWED_ROLES[action]]
    assert err.detail.endswith(f"may {action.value}")


def test_the_role_is_checked_before_the_goods(db: Session, net: Network) -> None:
    """A regulator shipping goods that do not exist is refused for its role, not for the goods."""
    unknown = Goods(lines=(BatchLine(net.beef_gtin, "NO-SUCH-LOT", 1),))

    def ship() -> object:
        return trade.ship(db, net.signer, at(net.regulator), unknown, to_org_id=net.retailer.id)

    refused(db, errors.RoleRequired, ship)
