"""EPCIS 2.0 JSON-LD events the way lotline writes them (validation against GS1's schema: ledger.epcis_schema).

The builders emit the compact forms of the EPCIS 2.0 JSON binding (bare CBV names such as ``"shipping"``,
``"Temperature"``; ``{"type": ..., "source": ...}`` with ``type`` first; times with milliseconds in the event's own
offset), because those are the forms for which GS1's reference hash generator and CBV 2.0 agree (see
:mod:`ledger.event_hash`). They do cheap checks only; :func:`ledger.epcis_schema.validate_event` is the full
schema check, run where events come from outside.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

from ledger.errors import InvalidEvent, InvalidQuantity
from ledger.event_hash import STANDARD_CONTEXT

_CBV: Final = "https://ref.gs1.org/cbv/"


class _CbvTerm(StrEnum):
    """A CBV vocabulary: accepts the bare name, the Web URI and the old URN; the value is the bare name."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, str):
            name = value.rpartition(":")[2] if value.startswith("urn:epcglobal:cbv:") else value
            name = name.removeprefix(f"{_CBV}{cls._web_prefix()}")
            name = _ALIASES.get((cls.__name__, name), name)
            for member in cls:
                if member.value == name:
                    return member
        return None

    @classmethod
    def _web_prefix(cls) -> str:
        return {"BizStep": "BizStep-", "Disposition": "Disp-", "SourceDestType": "SDT-"}.get(cls.__name__, "")


class Action(StrEnum):
    ADD = "ADD"
    OBSERVE = "OBSERVE"
    DELETE = "DELETE"


class BizStep(_CbvTerm):
    ACCEPTING = "accepting"
    ARRIVING = "arriving"
    ASSEMBLING = "assembling"
    COLLECTING = "collecting"
    COMMISSIONING = "commissioning"
    CONSIGNING = "consigning"
    CREATING_CLASS_INSTANCE = "creating_class_instance"
    CYCLE_COUNTING = "cycle_counting"
    DECOMMISSIONING = "decommissioning"
    DEPARTING = "departing"
    DESTROYING = "destroying"
    DISASSEMBLING = "disassembling"
    DISPENSING = "dispensing"
    ENCODING = "encoding"
    ENTERING_EXITING = "entering_exiting"
    HOLDING = "holding"
    INSPECTING = "inspecting"
    INSTALLING = "installing"
    KILLING = "killing"
    LOADING = "loading"
    OTHER = "other"
    PACKING = "packing"
    PICKING = "picking"
    RECEIVING = "receiving"
    REMOVING = "removing"
    REPACKAGING = "repackaging"
    REPAIRING = "repairing"
    REPLACING = "replacing"
    RESERVING = "reserving"
    RETAIL_SELLING = "retail_selling"
    SAMPLING = "sampling"
    SENSOR_REPORTING = "sensor_reporting"
    SHIPPING = "shipping"
    STAGING_OUTBOUND = "staging_outbound"
    STOCK_TAKING = "stock_taking"
    STOCKING = "stocking"
    STORING = "storing"
    TRANSPORTING = "transporting"
    UNLOADING = "unloading"
    UNPACKING = "unpacking"
    VOID_SHIPPING = "void_shipping"
    # CBV 2.0 has no step for transformations; a private vocabulary URI is what EPCIS prescribes for that.
    TRANSFORMING = "urn:lotline:bizstep:transforming"


class Disposition(_CbvTerm):
    ACTIVE = "active"
    AVAILABLE = "available"
    COMPLETENESS_INFERRED = "completeness_inferred"
    COMPLETENESS_VERIFIED = "completeness_verified"
    CONFORMANT = "conformant"
    CONTAINER_CLOSED = "container_closed"
    CONTAINER_OPEN = "container_open"
    DAMAGED = "damaged"
    DESTROYED = "destroyed"
    DISPENSED = "dispensed"
    DISPOSED = "disposed"
    ENCODED = "encoded"
    EXPIRED = "expired"
    IN_PROGRESS = "in_progress"
    IN_TRANSIT = "in_transit"
    INACTIVE = "inactive"
    MISMATCH_CLASS = "mismatch_class"
    MISMATCH_INSTANCE = "mismatch_instance"
    MISMATCH_QUANTITY = "mismatch_quantity"
    NEEDS_REPLACEMENT = "needs_replacement"
    NO_PEDIGREE_MATCH = "no_pedigree_match"
    NON_CONFORMANT = "non_conformant"
    NON_SELLABLE_OTHER = "non_sellable_other"
    PARTIALLY_DISPENSED = "partially_dispensed"
    RECALLED = "recalled"
    RESERVED = "reserved"
    RETAIL_SOLD = "retail_sold"
    RETURNED = "returned"
    SELLABLE_ACCESSIBLE = "sellable_accessible"
    SELLABLE_NOT_ACCESSIBLE = "sellable_not_accessible"
    STOLEN = "stolen"
    UNAVAILABLE = "unavailable"
    UNKNOWN = "unknown"


class SourceDestType(_CbvTerm):
    OWNING_PARTY = "owning_party"
    POSSESSING_PARTY = "possessing_party"
    LOCATION = "location"


_ALIASES: Final = {("BizStep", "transforming"): BizStep.TRANSFORMING.value, ("Disposition", "sold"): "retail_sold"}


@dataclass(frozen=True, slots=True)
class Quantity:
    epc_class: str
    quantity: int | float | Decimal
    uom: str | None = None  # UN/ECE rec. 20 code (KGM, LTR); none means a count of instances


@dataclass(frozen=True, slots=True)
class SourceDest:
    type: SourceDestType | str
    id: str


@dataclass(frozen=True, slots=True)
class SensorReport:
    value: float | int | Decimal | None
    type: str = "Temperature"  # a GS1 measurement type; "gs1:Temperature" is accepted and written bare
    uom: str | None = "CEL"
    time: datetime | None = None
    # A report over a period (its element's startTime..endTime) gives these instead of, or beside, a value.
    min_value: float | int | Decimal | None = None
    max_value: float | int | Decimal | None = None
    mean_value: float | int | Decimal | None = None


@dataclass(frozen=True, slots=True)
class SensorElement:
    reports: Sequence[SensorReport]
    time: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    device_id: str | None = None


QuantityLike = Quantity | Mapping[str, Any]
PartyLike = SourceDest | tuple[str, str] | Mapping[str, str]


def object_event(
    *,
    action: Action | str,
    event_time: datetime,
    epc_list: Iterable[str] = (),
    quantity_list: Iterable[QuantityLike] = (),
    ilmd: Mapping[str, Any] | None = None,
    **common: Any,
) -> dict[str, Any]:
    """An ObjectEvent: observe / commission (ADD) / decommission (DELETE) codes or lot quantities."""
    event = _head("ObjectEvent", event_time, common)
    _put(event, "epcList", list(epc_list))
    _put(event, "quantityList", _quantities(quantity_list))
    # EPCIS 2.0 also lets sensor data observed at a read point stand on its own (a cold store's logger).
    if not event.keys() & {"epcList", "quantityList"} and not (
        common.get("sensor_element_list") and common.get("read_point")
    ):
        raise InvalidEvent("an ObjectEvent needs at least one EPC or quantity, or sensor data at a read point")
    event["action"] = Action(action).value
    return _tail(event, common, ilmd=ilmd)


def aggregation_event(
    *,
    action: Action | str,
    event_time: datetime,
    parent_id: str | None = None,
    child_epcs: Iterable[str] = (),
    child_quantity_list: Iterable[QuantityLike] = (),
    **common: Any,
) -> dict[str, Any]:
    """An AggregationEvent: pack (ADD) children into ``parent_id`` (an SSCC), observe, or unpack (DELETE)."""
    event = _head("AggregationEvent", event_time, common)
    _put(event, "parentID", parent_id)
    _put(event, "childEPCs", list(child_epcs))
    _put(event, "childQuantityList", _quantities(child_quantity_list))
    event["action"] = Action(action).value
    if event["action"] != Action.DELETE and not event.keys() & {"childEPCs", "childQuantityList"}:
        raise InvalidEvent("an AggregationEvent needs children unless it is a DELETE")
    return _tail(event, common)


def transformation_event(
    *,
    event_time: datetime,
    input_epcs: Iterable[str] = (),
    input_quantity_list: Iterable[QuantityLike] = (),
    output_epcs: Iterable[str] = (),
    output_quantity_list: Iterable[QuantityLike] = (),
    transformation_id: str | None = None,
    ilmd: Mapping[str, Any] | None = None,
    **common: Any,
) -> dict[str, Any]:
    """A TransformationEvent: inputs consumed, outputs produced (a new batch); it has no action."""
    event = _head("TransformationEvent", event_time, common)
    _put(event, "inputEPCList", list(input_epcs))
    _put(event, "inputQuantityList", _quantities(input_quantity_list))
    _put(event, "outputEPCList", list(output_epcs))
    _put(event, "outputQuantityList", _quantities(output_quantity_list))
    if not transformation_id and not any(k.startswith("input") for k in event):
        raise InvalidEvent("a TransformationEvent needs inputs (or a transformationID)")
    _put(event, "transformationID", transformation_id)
    return _tail(event, common, ilmd=ilmd)


def transaction_event(
    *,
    action: Action | str,
    event_time: datetime,
    biz_transaction_list: Sequence[tuple[str, str]],
    parent_id: str | None = None,
    epc_list: Iterable[str] = (),
    quantity_list: Iterable[QuantityLike] = (),
    **common: Any,
) -> dict[str, Any]:
    """A TransactionEvent: goods tied to (ADD) or released from (DELETE) business transactions."""
    if not biz_transaction_list:
        raise InvalidEvent("a TransactionEvent needs at least one business transaction")
    event = _head("TransactionEvent", event_time, common)
    _put(event, "parentID", parent_id)
    _put(event, "epcList", list(epc_list))
    _put(event, "quantityList", _quantities(quantity_list))
    event["action"] = Action(action).value
    return _tail(event, {**common, "biz_transaction_list": biz_transaction_list})


def epcis_document(
    events: Iterable[Mapping[str, Any]],
    sender: str | None = None,
    receiver: str | None = None,
    *,
    creation_date: datetime | None = None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "@context": [STANDARD_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": _time(creation_date or datetime.now(UTC), UTC),
    }
    _put(document, "sender", sender)
    _put(document, "receiver", receiver)
    document["epcisBody"] = {"eventList": [dict(event) for event in events]}
    return document


# --- shared parts -------------------------------------------------------------------------------------------

_COMMON: Final = frozenset({
    "event_time_zone_offset", "biz_step", "disposition", "read_point", "biz_location", "biz_transaction_list",
    "source_list", "destination_list", "sensor_element_list", "certification_info",
})  # fmt: skip


def _head(kind: str, event_time: datetime, common: Mapping[str, Any]) -> dict[str, Any]:
    if unknown := sorted(common.keys() - _COMMON):
        raise TypeError(f"unexpected keyword argument(s) for {kind}: {', '.join(unknown)}")
    offset = common.get("event_time_zone_offset") or "+08:00"
    zone = _zone(offset)
    return {"type": kind, "eventTime": _time(event_time, zone), "eventTimeZoneOffset": offset}


def _tail(event: dict[str, Any], common: Mapping[str, Any], *, ilmd: Mapping[str, Any] | None = None) -> dict[str, Any]:
    zone = _zone(event["eventTimeZoneOffset"])
    if common.get("biz_step"):
        event["bizStep"] = BizStep(common["biz_step"]).value
    if common.get("disposition"):
        event["disposition"] = Disposition(common["disposition"]).value
    for key, arg in (("readPoint", "read_point"), ("bizLocation", "biz_location")):
        if common.get(arg):
            event[key] = {"id": common[arg]}
    _put(event, "bizTransactionList", [
        {"type": kind, "bizTransaction": ref} for kind, ref in common.get("biz_transaction_list") or ()
    ])  # fmt: skip
    for key, field in (("sourceList", "source"), ("destinationList", "destination")):
        parties = [_party(p) for p in common.get(f"{field}_list") or ()]
        _put(event, key, [{"type": kind, field: ref} for kind, ref in parties])
    _put(event, "sensorElementList", [_sensor_element(e, zone) for e in common.get("sensor_element_list") or ()])
    _put(event, "ilmd", dict(ilmd) if ilmd else None)
    info = common.get("certification_info")
    _put(event, "certificationInfo", [info] if isinstance(info, str) else list(info or ()))
    return event


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != [] and value != "":
        target[key] = value


def _zone(offset: str) -> timezone:
    sign, hours, minutes = offset[:1], offset[1:3], offset[4:6]
    if sign not in "+-" or len(offset) != 6 or offset[3] != ":" or not (hours + minutes).isdigit():
        raise InvalidEvent(f"eventTimeZoneOffset {offset!r} is not of the form +08:00", field="eventTimeZoneOffset")
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return timezone(-delta if sign == "-" else delta)


def _time(moment: datetime, zone: timezone) -> str:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidEvent(f"event time {moment.isoformat()} has no time zone", field="eventTime")
    text = moment.astimezone(zone).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z") if zone == UTC else text


def _number(value: int | float | Decimal, what: str) -> int | float:
    number = float(value) if isinstance(value, Decimal) else value
    if isinstance(number, bool) or not isinstance(number, int | float) or not float("-inf") < number < float("inf"):
        raise InvalidQuantity(f"{what} {value!r} is not a finite number")
    return int(number) if isinstance(value, Decimal) and number == int(number) else number


def _quantities(elements: Iterable[QuantityLike]) -> list[dict[str, Any]]:
    result = []
    for element in elements:
        if isinstance(element, Quantity):
            element = {"epcClass": element.epc_class, "quantity": element.quantity, "uom": element.uom}
        entry: dict[str, Any] = {"epcClass": element["epcClass"]}
        # EPCIS lets a quantity element name a class without an amount (e.g. "this lot", for a document).
        if element.get("quantity") is not None:
            quantity = _number(element["quantity"], "quantity")
            if quantity < 0:
                raise InvalidQuantity(f"quantity {quantity} of {element['epcClass']} is negative")
            entry["quantity"] = quantity
        _put(entry, "uom", element.get("uom"))
        result.append(entry)
    return result


def _party(party: PartyLike) -> tuple[str, str]:
    if isinstance(party, SourceDest):
        kind, ref = party.type, party.id
    elif isinstance(party, tuple):
        kind, ref = party
    else:
        kind, ref = party["type"], party["id"]
    try:
        return SourceDestType(kind).value, ref
    except ValueError:
        return str(kind), ref  # a private source/destination type URI


def _sensor_element(element: SensorElement, zone: timezone) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    for key, moment in (("time", element.time), ("startTime", element.start_time), ("endTime", element.end_time)):
        if moment is not None:
            metadata[key] = _time(moment, zone)
    _put(metadata, "deviceID", element.device_id)
    reports = []
    for report in element.reports:
        entry: dict[str, Any] = {"type": report.type.removeprefix("gs1:")}
        numbers = ("value", report.value), ("minValue", report.min_value), ("maxValue", report.max_value)
        for key, number in (*numbers, ("meanValue", report.mean_value)):
            if number is not None:
                entry[key] = _number(number, "sensor value")
        _put(entry, "uom", report.uom)
        if report.time is not None:
            entry["time"] = _time(report.time, zone)
        reports.append(entry)
    if not reports:
        raise InvalidEvent("a sensor element needs at least one report")
    return {"sensorMetadata": metadata, "sensorReport": reports} if metadata else {"sensorReport": reports}
