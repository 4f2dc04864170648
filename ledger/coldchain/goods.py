"""The goods a temperature log speaks for, grouped by the profile that judges them.

- a **shipment**'s log: every batch on it, the quantity shipped;
- a **location**'s log: every batch its organisation has on hand (the ledger does not know which room holds
  which batch, so a store's logger speaks for all of them; a holding's log narrows it to one batch);
- a **holding**'s log: that batch, the quantity on hand.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ledger.coldchain.profiles import Profile, ProfileName, profile_for
from ledger.models import Batch, Holding, LogScope, Product, ProductProfile, ShipmentLine, TemperatureLog


@dataclass(frozen=True, slots=True)
class LogGoods:
    batch_id: int
    quantity: int
    profile: Profile


def quantities_of(session: Session, log: TemperatureLog) -> dict[int, int]:
    """Every batch the log speaks for, with its quantity, whatever its profile."""
    query: Select[int, int]
    match log.scope:
        case LogScope.SHIPMENT:
            query = select(ShipmentLine.batch_id, ShipmentLine.quantity).where(
                ShipmentLine.shipment_id == log.shipment_id
            )
        case LogScope.LOCATION:
            query = select(Holding.batch_id, Holding.on_hand).where(
                Holding.org_id == log.holder_org_id, Holding.on_hand > 0
            )
        case LogScope.HOLDING:
            query = select(Holding.batch_id, Holding.on_hand).where(
                Holding.org_id == log.holder_org_id, Holding.batch_id == log.batch_id
            )
    return {batch_id: int(quantity) for batch_id, quantity in session.execute(query)}


def goods_of(session: Session, log: TemperatureLog) -> dict[str, list[LogGoods]]:
    """The log's goods with a profile, by profile key; goods kept at ambient temperature are left out."""
    quantities = quantities_of(session, log)
    profiles = profiles_of(session, quantities)
    grouped: dict[str, list[LogGoods]] = defaultdict(list)
    for batch_id, quantity in sorted(quantities.items()):
        profile = profiles.get(batch_id)
        if profile is not None:
            grouped[profile.key].append(LogGoods(batch_id, quantity, profile))
    return dict(grouped)


def profiles_of(session: Session, batch_ids: Collection[int]) -> dict[int, Profile]:
    """Each batch's profile (none for goods kept at ambient temperature)."""
    rows = session.execute(
        select(Batch.id, Product.category, Product.storage_min_c, Product.storage_max_c, ProductProfile.profile)
        .join(Product, Product.id == Batch.product_id)
        .outerjoin(ProductProfile, ProductProfile.product_id == Product.id)
        .where(Batch.id.in_(sorted(batch_ids)))
    )
    found = {}
    for batch_id, category, low, high, chosen in rows:
        profile = profile_for(category, low, high, chosen=ProfileName(chosen) if chosen else None)
        if profile is not None:
            found[batch_id] = profile
    return found
