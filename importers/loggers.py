"""Temperature data-logger exports (CSV or XLSX) read as series of (time, °C) per device.

Loggers and their desktop software write a few lines about the device, then a table: a time column (or a date
and a time column), a temperature column and sometimes a device column, headed in Chinese or English
(``时间``/``Time``, ``温度(℃)``/``Temperature(°C)``, ``设备编号``/``Device``), in UTF-8 or GBK. The header row is
found by its time and temperature headers; a device named in the lines above it (``设备编号: RC5-2001``) or by the
uploader applies when the table has no device column. Temperatures in °F are converted. Times carry no offset
(loggers record local time): the uploader says which offset they are in, China's +08:00 by default.

A reading a logger marks as missing (``--``, ``Err``, an empty cell) is left out, which the rules see as the gap
it is; anything else that cannot be read as a time or a temperature refuses the file, naming the row.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Final

from importers.bulk.reading import decode_csv
from ledger.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

CHINA: Final = timezone(timedelta(hours=8))
HEADER_SEARCH_ROWS: Final = 40
MAX_READINGS: Final = 2_000_000
# A logger's own range is about -40..+85 °C; a number far outside it was read from the wrong column.
PLAUSIBLE_C: Final = (-100.0, 100.0)
MISSING: Final = frozenset({"", "-", "--", "---", "err", "error", "nan", "n/a", "na", "null", "无", "故障", "无数据"})

_TIME_HEADERS: Final = frozenset({
    "时间", "日期时间", "记录时间", "采集时间", "采样时间", "时间戳", "日期/时间", "time", "datetime", "date/time",
    "datetime(local)", "timestamp", "recordtime",
})  # fmt: skip
_DATE_HEADERS: Final = frozenset({"日期", "date", "记录日期"})
_CLOCK_HEADERS: Final = frozenset({"时刻", "clock", "timeofday"})
_TEMPERATURE_HEADERS: Final = frozenset({
    "温度", "温度值", "温度1", "温度(℃)", "温度(°c)", "温度°c", "温度℃", "temperature", "temp", "temperature1",
    "temp1", "°c", "℃", "°f", "temperature(°c)", "temperature(°f)", "temp(°c)", "temp(°f)", "temperature(c)",
    "temperature(f)", "温度(°f)",
})  # fmt: skip
_DEVICE_HEADERS: Final = frozenset({
    "设备", "设备编号", "设备号", "设备id", "设备序列号", "记录仪", "记录仪编号", "记录仪序列号", "序列号", "device",
    "deviceid", "device id", "logger", "loggerid", "serial", "serialnumber", "sn",
})  # fmt: skip
_DATE = r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
_CLOCK = r"(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2})(?:\.(\d{1,6}))?)?\s*秒?"
_DATE_TIME = re.compile(rf"{_DATE}(?:[\sT]*{_CLOCK})?$")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")

Cell = str | int | float | datetime | date | time | timedelta | None


@dataclass
class Series:
    """One device's readings from a file, in time order, one per instant."""

    device_id: str
    times_ms: list[int] = field(default_factory=list)
    values_c: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class LoggerFile:
    format: str  # "csv" or "xlsx"
    encoding: str | None
    header_row: int
    series: tuple[Series, ...]
    missing_rows: int  # readings the logger marked as missing
    duplicate_rows: int  # a second reading at an instant already read (the first is kept)


@dataclass(frozen=True)
class _Columns:
    time: int | None
    date: int | None
    clock: int | None
    temperature: int
    fahrenheit: bool
    device: int | None


def read_logger_file(
    data: bytes, *, device_id: str | None = None, offset: timezone = CHINA, max_readings: int = MAX_READINGS
) -> LoggerFile:
    """Parse a logger export. ``device_id`` names the device when the file does not."""
    if not data.strip():
        raise InvalidInput("the file is empty")
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise UnsupportedMediaType("this is an Excel 97-2003 (.xls) workbook: save it as .xlsx or CSV and upload that")
    if data.startswith(b"PK\x03\x04"):
        fmt, encoding, rows = "xlsx", None, _xlsx_rows(data)
    else:
        text, encoding = decode_csv(data)
        fmt, rows = "csv", _csv_rows(text)
    with closing(rows):
        numbered = enumerate(rows, start=1)
        header_row, columns, named_device = _find_header(numbered)
        fallback = device_id or named_device
        reader = _Reader(columns, fallback, offset, max_readings)
        for number, cells in numbered:
            reader.take(number, cells)
    if not reader.series:
        raise InvalidInput("the file holds no readings below its header row", header_row=header_row)
    return LoggerFile(fmt, encoding, header_row, reader.finish(), reader.missing, reader.duplicates)


class _Reader:
    def __init__(self, columns: _Columns, device_id: str | None, offset: timezone, max_readings: int) -> None:
        self.columns, self.device_id, self.offset, self.max_readings = columns, device_id, offset, max_readings
        self.series: dict[str, Series] = {}
        self.count = self.missing = self.duplicates = 0

    def take(self, number: int, cells: Sequence[Cell]) -> None:
        if all(_blank(cell) for cell in cells):
            return
        temperature = _temperature(_cell(cells, self.columns.temperature), number, self.columns.fahrenheit)
        if temperature is None:
            self.missing += 1
            return
        when = self._time(cells, number)
        device = self._device(cells, number)
        series = self.series.get(device)
        if series is None:
            series = self.series[device] = Series(device)
        self.count += 1
        if self.count > self.max_readings:
            raise PayloadTooLarge(f"the file holds more than {self.max_readings} readings", limit=self.max_readings)
        series.times_ms.append(when)
        series.values_c.append(temperature)

    def finish(self) -> tuple[Series, ...]:
        """Sort each series by time and keep the first reading of any repeated instant."""
        done = []
        for series in self.series.values():
            pairs = sorted(zip(series.times_ms, series.values_c, strict=True), key=lambda pair: pair[0])
            kept = Series(series.device_id)
            for moment, value in pairs:
                if kept.times_ms and kept.times_ms[-1] == moment:
                    self.duplicates += 1
                    continue
                kept.times_ms.append(moment)
                kept.values_c.append(value)
            done.append(kept)
        return tuple(done)

    def _device(self, cells: Sequence[Cell], number: int) -> str:
        named = _text(_cell(cells, self.columns.device)) if self.columns.device is not None else None
        device = named or self.device_id
        if not device:
            raise InvalidInput(
                f"row {number}: no device: the file has no device column and names none above its table; "
                "say which logger it is (device_id)",
                row=number,
            )
        return device[:200]

    def _time(self, cells: Sequence[Cell], number: int) -> int:
        columns = self.columns
        if columns.time is not None:
            moment = _moment(_cell(cells, columns.time))
        else:
            assert columns.date is not None
            assert columns.clock is not None
            moment = _moment(_cell(cells, columns.date), _cell(cells, columns.clock))
        if moment is None:
            raise InvalidInput(f"row {number}: the time cannot be read as a date and time", row=number)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.offset)
        return round(moment.timestamp() * 1000)


def _find_header(numbered: Iterator[tuple[int, Sequence[Cell]]]) -> tuple[int, _Columns, str | None]:
    device: str | None = None
    for number, cells in numbered:
        headers = [_header(cell) for cell in cells]
        columns = _columns(headers)
        if columns is not None:
            return number, columns, device
        device = device or _device_note(cells)
        if number >= HEADER_SEARCH_ROWS:
            break
    raise InvalidInput(
        f"no header row in the first {HEADER_SEARCH_ROWS} rows: expected a time column (时间 / Time) and a "
        "temperature column (温度(℃) / Temperature(°C))"
    )


def _columns(headers: list[str]) -> _Columns | None:
    def find(names: frozenset[str]) -> int | None:
        return next((i for i, h in enumerate(headers) if h in names), None)

    temperature = find(_TEMPERATURE_HEADERS)
    time_column, date_column, clock_column = find(_TIME_HEADERS), find(_DATE_HEADERS), find(_CLOCK_HEADERS)
    if date_column is not None and time_column is not None and clock_column is None:
        # "日期" beside "时间": the date and the time of day in two columns.
        date_column, clock_column, time_column = date_column, time_column, None
    if temperature is None or (time_column is None and (date_column is None or clock_column is None)):
        return None
    fahrenheit = "°f" in headers[temperature] or "℉" in headers[temperature]
    return _Columns(time_column, date_column, clock_column, temperature, fahrenheit, find(_DEVICE_HEADERS))


def _header(cell: Cell) -> str:
    text = unicodedata.normalize("NFKC", _text(cell) or "").casefold()
    text = text.replace("℃", "°c").replace("℉", "°f").replace("（", "(").replace("）", ")")
    return re.sub(r"[\s*_]", "", text)


def _device_note(cells: Sequence[Cell]) -> str | None:
    """``设备编号: RC5-2001`` in one cell, or ``Serial Number`` | ``EL1234`` in two, above the table."""
    texts = [t for t in (_text(cell) for cell in cells) if t]
    for i, text in enumerate(texts):
        key, colon, value = text.replace("：", ":").partition(":")
        if _header(key) not in _DEVICE_HEADERS:
            continue
        value = value.strip() if colon else (texts[i + 1] if i + 1 < len(texts) else "")
        if value:
            return value
    return None


def _temperature(cell: Cell, number: int, fahrenheit: bool) -> float | None:
    if isinstance(cell, bool):
        raise InvalidInput(f"row {number}: the temperature is a yes/no cell", row=number)
    if isinstance(cell, int | float):
        value = float(cell)
    else:
        text = _text(cell) or ""
        if text.casefold() in MISSING:
            return None
        try:
            value = float(text)
        except ValueError:
            value = _degrees(text, number)
            fahrenheit = fahrenheit or text.rstrip().endswith(("F", "f", "℉"))
    if fahrenheit:
        value = (value - 32) * 5 / 9
    if value != value or not PLAUSIBLE_C[0] <= value <= PLAUSIBLE_C[1]:
        raise InvalidInput(f"row {number}: {value:g} °C is not a temperature a logger records", row=number)
    return value


def _degrees(text: str, number: int) -> float:
    """``-18.5 ℃`` or ``41 °F`` (the caller converts °F)."""
    text = unicodedata.normalize("NFKC", text).strip()
    match = _NUMBER.match(text)
    unit = text[match.end() :].strip().casefold().replace(" ", "") if match else None
    if match is None or unit not in ("", "°c", "℃", "c", "°f", "℉", "f"):
        raise InvalidInput(f"row {number}: temperature {text!r} is not a number of degrees", row=number)
    return float(match[0])


def _moment(cell: Cell, clock: Cell = None) -> datetime | None:
    """A cell (or a date cell and a time-of-day cell) as a datetime, naive when the logger wrote no offset."""
    if clock is not None:
        day = _moment(cell)
        if day is None:
            return None
        if isinstance(clock, time):
            return datetime.combine(day.date(), clock)
        if isinstance(clock, timedelta):  # Excel's time of day as a fraction of a day
            return datetime.combine(day.date(), time()) + clock
        return _moment(f"{day.date().isoformat()} {_text(clock) or ''}")
    if isinstance(cell, datetime):
        return cell
    if isinstance(cell, date):
        return datetime.combine(cell, time())
    text = unicodedata.normalize("NFKC", _text(cell) or "").strip()
    try:
        return datetime.fromisoformat(text.replace("/", "-"))
    except ValueError:
        pass
    match = _DATE_TIME.match(text)
    if match is None:
        return None
    year, month, mday, hour, minute, second = (int(part) if part else 0 for part in match.groups()[:6])
    fraction = int((match[7] or "0").ljust(6, "0"))
    try:
        return datetime(year, month, mday, hour, minute, second, fraction)
    except ValueError:
        return None


def _csv_rows(text: str) -> Generator[Sequence[Cell]]:
    lines = [line for line in text.splitlines()[:HEADER_SEARCH_ROWS] if line.strip()]
    delimiter = max((",", "\t", ";"), key=lambda d: max((line.count(d) for line in lines), default=0))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as error:
        raise InvalidInput(f"the CSV cannot be read at line {reader.line_num}: {error}") from None


def _xlsx_rows(data: bytes) -> Generator[Sequence[Cell]]:
    # openpyxl is imported here: CSV uploads, the common case, do not pay for it.
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as error:
        raise UnsupportedMediaType(f"the file is not a readable XLSX workbook: {error}") from None
    try:
        for values in book.worksheets[0].iter_rows(values_only=True):
            yield tuple(
                v if v is None or isinstance(v, str | int | float | date | time | timedelta) else str(v) for v in values
            )
    finally:
        book.close()


def _cell(cells: Sequence[Cell], index: int | None) -> Cell:
    return cells[index] if index is not None and index < len(cells) else None


def _text(cell: Cell) -> str | None:
    if cell is None:
        return None
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    text = cell.isoformat() if isinstance(cell, date | time) else str(cell)
    return text.strip() or None


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())
