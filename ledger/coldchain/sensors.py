"""EPCIS 2.0 sensor data: temperature readings out of an event's ``sensorElementList``, and the SimpleEventQuery's
sensor parameters matched against an event.

A sensor report's context comes from its element: ``deviceID``, ``time``, ``bizRules``, ``dataProcessingMethod``
of the ``sensorMetadata`` apply to every report of the element unless the report says otherwise. Every sensor
parameter of a query must hold for one and the same report: ``EQ_type=Temperature&GE_value_CEL=8`` asks for a
temperature of at least 8 °C, not for a temperature report beside some other report worth 8 or more. A bound in
one temperature unit compares with values in another after conversion; other units compare only with their own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from ledger.coldchain.readings import Reading
from ledger.errors import InvalidEvent, InvalidInput

TEMPERATURE: Final = "Temperature"
_GS1_VOC: Final = ("gs1:", "https://gs1.org/voc/", "http://gs1.org/voc/")
# Each temperature unit (UN/ECE rec. 20) as (scale, offset) to °C: celsius = value * scale + offset.
_TO_CELSIUS: Final = {"CEL": (1.0, 0.0), "FAH": (5 / 9, -160 / 9), "KEL": (1.0, -273.15)}
_UNIT_LESS: Final = frozenset({"percRank"})
_STRING_FIELDS: Final = {
    "EQ_type": "type",
    "EQ_deviceID": "deviceID",
    "EQ_deviceMetadata": "deviceMetadata",
    "EQ_rawData": "rawData",
    "EQ_dataProcessingMethod": "dataProcessingMethod",
    "EQ_bizRules": "bizRules",
    "EQ_microorganism": "microorganism",
    "EQ_chemicalSubstance": "chemicalSubstance",
    "EQ_stringValue": "stringValue",
    "EQ_uriValue": "uriValue",
    "EQ_hexBinaryValue": "hexBinaryValue",
    "EQ_exception": "exception",
}
_NUMBER_PARAM: Final = re.compile(
    r"^(EQ|GT|GE|LT|LE)_(value|minValue|maxValue|meanValue|sDev|percValue|percRank)(?:_([A-Z0-9]{2,3}))?$"
)
_COMPARE: Final[dict[str, Callable[[float, float], bool]]] = {
    "EQ": lambda a, b: a == b,
    "GT": lambda a, b: a > b,
    "GE": lambda a, b: a >= b,
    "LT": lambda a, b: a < b,
    "LE": lambda a, b: a <= b,
}
_INHERITED: Final = ("deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules", "time")


@dataclass(frozen=True, slots=True)
class Bound:
    op: str  # EQ, GT, GE, LT, LE
    field: str  # value, minValue, maxValue, meanValue, sDev, percValue, percRank
    uom: str | None
    number: float


@dataclass(frozen=True)
class SensorQuery:
    """The sensor parameters of one query; empty matches every event."""

    equal: Mapping[str, frozenset[str]] = field(default_factory=dict)  # report field -> accepted values
    booleans: frozenset[bool] = frozenset()
    bounds: tuple[Bound, ...] = ()
    ge_time: datetime | None = None
    lt_time: datetime | None = None

    def __bool__(self) -> bool:
        return bool(self.equal or self.booleans or self.bounds or self.ge_time or self.lt_time)

    def matches(self, event: Mapping[str, Any]) -> bool:
        if not self:
            return True
        return any(self._report_matches(report) for report in reports_of(event))

    def _report_matches(self, report: Mapping[str, Any]) -> bool:
        for name, accepted in self.equal.items():
            value = report.get(name)
            found = _measurement(value) if name == "type" and isinstance(value, str) else value
            if found not in accepted:
                return False
        if self.booleans and report.get("booleanValue") not in self.booleans:
            return False
        when = _time(report.get("time"))
        if (self.ge_time and (when is None or when < self.ge_time)) or (
            self.lt_time and (when is None or when >= self.lt_time)
        ):
            return False
        return all(_within(report, bound) for bound in self.bounds)


def parse_sensor_query(params: Iterable[tuple[str, str]]) -> SensorQuery:
    """The sensor parameters among a query string's (GS1's REST binding: lists are pipe-delimited). Parameters
    that are not about sensors are left for the caller; a malformed sensor parameter is refused."""
    equal: dict[str, set[str]] = {}
    booleans: set[bool] = set()
    bounds: list[Bound] = []
    times: dict[str, datetime] = {}
    for name, raw in params:
        if name in _STRING_FIELDS:
            values = [v for v in raw.split("|") if v]
            key = _STRING_FIELDS[name]
            equal.setdefault(key, set()).update(_measurement(v) if key == "type" else v for v in values)
        elif name == "EQ_booleanValue":
            booleans.add(_boolean(raw))
        elif name in ("GE_time", "LT_time"):
            times[name] = _query_time(name, raw)
        elif match := _NUMBER_PARAM.match(name):
            bounds.append(_bound(name, match, raw))
    return SensorQuery(
        equal={k: frozenset(v) for k, v in equal.items()},
        booleans=frozenset(booleans),
        bounds=tuple(bounds),
        ge_time=times.get("GE_time"),
        lt_time=times.get("LT_time"),
    )


def reports_of(event: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every sensor report of an event, with its element's metadata filled in where the report is silent."""
    for element in event.get("sensorElementList") or ():
        if not isinstance(element, Mapping):
            continue
        metadata = element.get("sensorMetadata") or {}
        for report in element.get("sensorReport") or ():
            if not isinstance(report, Mapping):
                continue
            merged = {key: metadata[key] for key in _INHERITED if key in metadata}
            if "time" not in merged and "startTime" in metadata:
                merged["time"] = metadata["startTime"]
            yield {**merged, **report}


def temperature_readings(event: Mapping[str, Any]) -> dict[str, list[Reading]]:
    """The temperature readings of an event by device id (``""`` when no device is named), in °C. A report
    without a time takes its element's, else the event's; one whose unit is not a temperature unit is refused:
    a reading nobody can read must not count as in range."""
    event_time = _time(event.get("eventTime"))
    found: dict[str, list[Reading]] = {}
    for index, report in enumerate(reports_of(event)):
        if not isinstance(report.get("type"), str) or _measurement(report["type"]) != TEMPERATURE:
            continue
        when = _time(report.get("time")) or event_time
        if when is None:
            raise InvalidEvent(f"sensorReport[{index}]: a temperature without a time", field="sensorElementList")
        values = {name: report.get(name) for name in ("value", "minValue", "maxValue", "meanValue")}
        present = {k: v for k, v in values.items() if isinstance(v, int | float) and not isinstance(v, bool)}
        if not present:
            continue
        uom = report.get("uom")
        if uom not in _TO_CELSIUS:
            raise InvalidEvent(
                f"sensorReport[{index}]: a temperature's uom is CEL, FAH or KEL, not {uom!r}",
                field="sensorElementList",
            )
        celsius = {k: to_celsius(float(v), uom) for k, v in present.items()}
        value = celsius.get("value", celsius.get("meanValue"))
        reading = Reading(round(when.timestamp() * 1000), value, celsius.get("minValue"), celsius.get("maxValue"))
        device = report.get("deviceID")
        found.setdefault(device if isinstance(device, str) else "", []).append(reading)
    return found


def to_celsius(value: float, uom: str) -> float:
    scale, offset = _TO_CELSIUS[uom]
    return value * scale + offset


def _within(report: Mapping[str, Any], bound: Bound) -> bool:
    value = report.get(bound.field)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if bound.field not in _UNIT_LESS:
        uom = report.get("uom")
        if uom in _TO_CELSIUS and bound.uom in _TO_CELSIUS:
            assert isinstance(uom, str)
            assert bound.uom is not None
            value, limit = to_celsius(float(value), uom), to_celsius(bound.number, bound.uom)
            return _COMPARE[bound.op](round(value, 9), round(limit, 9))
        if uom != bound.uom:
            return False
    return _COMPARE[bound.op](float(value), bound.number)


def _bound(name: str, match: re.Match[str], raw: str) -> Bound:
    op, field_name, uom = match.groups()
    if (uom is None) != (field_name in _UNIT_LESS):
        raise InvalidInput(
            f"{name}: {'percRank takes no unit' if uom else 'a sensor value bound names its unit, as in GE_value_CEL'}",
            parameter=name,
        )
    try:
        number = float(raw)
    except ValueError:
        raise InvalidInput(f"{name}: {raw!r} is not a number", parameter=name) from None
    return Bound(op, field_name, uom, number)


def _boolean(raw: str) -> bool:
    if raw not in ("true", "false"):
        raise InvalidInput(f"EQ_booleanValue is true or false, not {raw!r}", parameter="EQ_booleanValue")
    return raw == "true"


def _query_time(name: str, raw: str) -> datetime:
    moment = _time(raw)
    if moment is None:
        raise InvalidInput(f"{name}: {raw!r} is not a time with an offset", parameter=name)
    return moment


def _measurement(name: str) -> str:
    """``Temperature``, ``gs1:Temperature`` and ``https://gs1.org/voc/Temperature`` are one measurement type."""
    for prefix in _GS1_VOC:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
