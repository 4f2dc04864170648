"""Named queries over excursions and temperature logs, for the API, the pages and the consumer's view."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session, aliased

from ledger.models import (
    Batch,
    Excursion,
    ExcursionGoods,
    ExcursionStatus,
    Location,
    LogScope,
    Organisation,
    Product,
    Role,
    ShipmentLine,
    TemperatureLog,
)


class Standing(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class ExcursionFilter:
    standing: Standing | None = None
    region: str | None = None  # a division code or its prefix: "33" Zhejiang, "3301" Hangzhou
    gtin: str | None = None
    holder_org_id: int | None = None


@dataclass(frozen=True)
class GoodsLine:
    batch_id: int
    gtin: str
    lot: str
    product: str
    quantity: int


@dataclass(frozen=True)
class LogSummary:
    log_id: int
    device_id: str
    scope: LogScope
    readings: int
    first_ms: int | None
    last_ms: int | None


@dataclass
class TemperatureRecord:
    """What the ledger knows of a batch's temperature: the logs that speak for it and its excursions."""

    logs: list[LogSummary] = field(default_factory=list)
    excursions: list[Excursion] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)  # organisation id -> name, for who disposed


def visible(org: Organisation) -> Select[Excursion]:
    """Excursions an organisation may see: every one for a regulator; else those at its goods, those it recorded
    and those concerning batches it registered."""
    query = select(Excursion)
    if org.has_role(Role.REGULATOR):
        return query
    registered = (
        select(ExcursionGoods.excursion_id)
        .join(Batch, Batch.id == ExcursionGoods.batch_id)
        .where(Batch.registrant_org_id == org.id)
    )
    return query.where(
        or_(Excursion.holder_org_id == org.id, Excursion.recorded_by_org_id == org.id, Excursion.id.in_(registered))
    )


def list_excursions(
    session: Session, org: Organisation, where: ExcursionFilter, *, limit: int, offset: int
) -> list[Excursion]:
    """Newest first, open or resolved, in a region (the excursion's place, else any of the holder's places), of a
    product, at a holder."""
    query = visible(org)
    if where.standing is Standing.OPEN:
        query = query.where(Excursion.status == ExcursionStatus.OPEN)
    elif where.standing is Standing.RESOLVED:
        query = query.where(Excursion.status != ExcursionStatus.OPEN)
    if where.holder_org_id is not None:
        query = query.where(Excursion.holder_org_id == where.holder_org_id)
    if where.gtin is not None:
        of_product = (
            select(ExcursionGoods.excursion_id)
            .join(Batch, Batch.id == ExcursionGoods.batch_id)
            .join(Product, Product.id == Batch.product_id)
            .where(Product.gtin == where.gtin)
        )
        query = query.where(Excursion.id.in_(of_product))
    if where.region:
        place = aliased(Location)
        pattern = f"{where.region}%"
        at_place = exists().where(place.id == Excursion.location_id, place.region_code.like(pattern))
        at_holder = exists().where(place.org_id == Excursion.holder_org_id, place.region_code.like(pattern))
        query = query.where(or_(at_place, at_holder))
    return list(session.scalars(query.order_by(Excursion.id.desc()).limit(limit).offset(offset)))


def goods_of(session: Session, excursion_ids: Collection[int]) -> dict[int, list[GoodsLine]]:
    rows = session.execute(
        select(ExcursionGoods.excursion_id, Batch.id, Product.gtin, Batch.lot, Product.name, ExcursionGoods.quantity)
        .join(Batch, Batch.id == ExcursionGoods.batch_id)
        .join(Product, Product.id == Batch.product_id)
        .where(ExcursionGoods.excursion_id.in_(sorted(excursion_ids)))
        .order_by(ExcursionGoods.excursion_id, Batch.id)
    )
    found: dict[int, list[GoodsLine]] = defaultdict(list)
    for excursion_id, batch_id, gtin, lot, product, quantity in rows:
        found[excursion_id].append(GoodsLine(batch_id, gtin, lot, product, quantity))
    return dict(found)


def _names(session: Session, org_ids: Collection[int | None]) -> dict[int, str]:
    ids = sorted({i for i in org_ids if i is not None})
    return dict(session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))).all())


def temperature_record(session: Session, batch_id: int) -> TemperatureRecord:
    """The logs of the shipments that carried the batch and of its holdings, and every excursion it was in."""
    on_shipment = select(ShipmentLine.shipment_id).where(ShipmentLine.batch_id == batch_id)
    logs = session.execute(
        select(
            TemperatureLog.id,
            TemperatureLog.device_id,
            TemperatureLog.scope,
            TemperatureLog.reading_count,
            TemperatureLog.first_ms,
            TemperatureLog.last_ms,
        )
        .where(or_(TemperatureLog.shipment_id.in_(on_shipment), TemperatureLog.batch_id == batch_id))
        .order_by(TemperatureLog.first_ms, TemperatureLog.id)
    ).all()
    excursions = list(
        session.scalars(
            select(Excursion)
            .join(ExcursionGoods, ExcursionGoods.excursion_id == Excursion.id)
            .where(ExcursionGoods.batch_id == batch_id)
            .order_by(Excursion.started_at, Excursion.id)
        )
    )
    names = _names(session, [e.disposed_by_org_id for e in excursions])
    return TemperatureRecord([LogSummary(*row) for row in logs], excursions, names)
