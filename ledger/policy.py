"""Who may do which trade action: the one table that scans, EPCIS capture and every ledger operation enforce.

The roles follow the people of docs/flows.md: producers (importers, manufacturers, farms) register and ship,
wholesalers and CDCs distribute, shops, stalls and restaurants sell, clinics administer, carriers move and pack;
regulators inspect anywhere but never trade.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from ledger.errors import RoleRequired
from ledger.models import Organisation, Role


class TradeAction(StrEnum):
    SHIP = "ship"
    RECEIVE = "receive"
    SELL = "sell"
    ADMINISTER = "administer"
    DESTROY = "destroy"
    INSPECT = "inspect"
    PACK = "pack"
    UNPACK = "unpack"
    TRANSFORM = "transform"


_TRADERS: Final = (Role.PRODUCER, Role.DISTRIBUTOR, Role.RETAILER, Role.CARRIER)

ALLOWED_ROLES: Final[dict[TradeAction, tuple[Role, ...]]] = {
    TradeAction.SHIP: _TRADERS,
    TradeAction.RECEIVE: (*_TRADERS, Role.VACCINATOR),
    TradeAction.SELL: (Role.RETAILER, Role.DISTRIBUTOR, Role.PRODUCER),
    TradeAction.ADMINISTER: (Role.VACCINATOR,),
    TradeAction.DESTROY: (*_TRADERS, Role.VACCINATOR),
    TradeAction.INSPECT: (Role.REGULATOR, Role.PRODUCER, Role.DISTRIBUTOR, Role.RETAILER, Role.VACCINATOR),
    TradeAction.PACK: (Role.PRODUCER, Role.DISTRIBUTOR, Role.CARRIER),
    TradeAction.UNPACK: (*_TRADERS, Role.VACCINATOR),
    TradeAction.TRANSFORM: (Role.PRODUCER, Role.DISTRIBUTOR),
}


def may(org: Organisation, action: TradeAction) -> bool:
    return any(org.has_role(role) for role in ALLOWED_ROLES[action])


def require_trade_role(org: Organisation, action: TradeAction) -> None:
    """Refuse an organisation none of whose roles may take this action, naming the roles that may."""
    if not may(org, action):
        allowed = ALLOWED_ROLES[action]
        names = " or ".join(role.value for role in allowed)
        raise RoleRequired(f"only a {names} may {action.value}", required=[role.value for role in allowed])
