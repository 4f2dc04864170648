"""Declarative base, shared column types and the status enumerations of the ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any

from sqlalchemy import BigInteger, DateTime, Enum, Integer, MetaData, String, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, mapped_column

# Integer primary keys that are 64-bit on PostgreSQL and the rowid alias on SQLite (SQLite only
# autoincrements a column declared exactly INTEGER PRIMARY KEY).
BigId = BigInteger().with_variant(Integer, "sqlite")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on both backends (SQLite otherwise hands back naive datetimes)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the ledger; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def enum_column(enum_type: type[StrEnum], **kwargs: Any) -> Any:
    """Enums stored as plain strings (no native PostgreSQL enum) so adding a member needs no type migration."""
    return mapped_column(
        Enum(
            enum_type,
            native_enum=False,
            create_constraint=False,
            length=32,
            values_callable=lambda members: [m.value for m in members],
        ),
        **kwargs,
    )


IdPK = Annotated[int, mapped_column(BigId, primary_key=True, autoincrement=True)]
Created = Annotated[datetime, mapped_column(UTCDateTime(), default=utcnow, nullable=False)]
Hex32 = Annotated[str, mapped_column(String(66))]


class Role(StrEnum):
    REGULATOR = "regulator"
    PRODUCER = "producer"  # importer, manufacturer, farm/base
    DISTRIBUTOR = "distributor"  # wholesale market, CDC
    RETAILER = "retailer"  # supermarket, stall, restaurant
    CARRIER = "carrier"
    VACCINATOR = "vaccinator"


class Category(StrEnum):
    COLD_CHAIN = "cold_chain"
    FARM_PRODUCE = "farm_produce"
    VACCINE = "vaccine"


class CodeKind(StrEnum):
    ITEM = "item"
    BATCH = "batch"
    SSCC = "sscc"


class CodeStatus(StrEnum):
    ACTIVE = "active"  # issued and held by someone
    IN_TRANSIT = "in_transit"
    SOLD = "sold"
    ADMINISTERED = "administered"
    DESTROYED = "destroyed"
    TRANSFORMED = "transformed"  # consumed as the input of a transformation


class ShipmentStatus(StrEnum):
    IN_TRANSIT = "in_transit"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"


class MovementKind(StrEnum):
    COMMISSION = "commission"
    SHIP = "ship"
    RECEIVE = "receive"
    SELL = "sell"
    ADMINISTER = "administer"
    DESTROY = "destroy"
    TRANSFORM_IN = "transform_in"
    TRANSFORM_OUT = "transform_out"


class HoldKind(StrEnum):
    EXCURSION = "excursion"
    INSPECTION = "inspection"
    MANUAL = "manual"


class RecallStatus(StrEnum):
    REQUESTED = "requested"
    OPEN = "open"
    CLOSED = "closed"


class AnchorStatus(StrEnum):
    PENDING = "pending"
    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"


class ChainJobStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"
