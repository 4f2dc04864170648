"""Data-logger exports as loggers write them: Chinese or English headers, GBK or UTF-8, CSV or XLSX."""

from __future__ import annotations

import io
from datetime import UTC, datetime, time, timedelta, timezone

import pytest
from openpyxl import Workbook

from importers.loggers import read_logger_file
from ledger.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType


def ms(text: str, offset: int = 8) -> int:
    return round(datetime.fromisoformat(text).replace(tzinfo=timezone(timedelta(hours=offset))).timestamp() * 1000)


def test_a_gbk_export_with_a_device_note_above_chinese_headers() -> None:
    text = (
        "精创冷链温度记录仪导出数据\r\n"
        "设备编号：RC5-2001\r\n"
        "记录间隔,5分钟\r\n"
        "\r\n"
        "序号,时间,温度(℃)\r\n"
        "1,2026/11/27 08:00:00,-19.5\r\n"
        "2,2026/11/27 08:05:00,-19.1℃\r\n"
        "3,2026/11/27 08:10:00,--\r\n"
        "4,2026/11/27 08:15:00,-18.7\r\n"
    )
    parsed = read_logger_file(text.encode("gbk"))
    assert (parsed.format, parsed.encoding, parsed.header_row, parsed.missing_rows) == ("csv", "gbk", 5, 1)
    [series] = parsed.series
    assert series.device_id == "RC5-2001"
    assert series.times_ms == [ms("2026-11-27T08:00:00"), ms("2026-11-27T08:05:00"), ms("2026-11-27T08:15:00")]
    assert series.values_c == [-19.5, -19.1, -18.7]


def test_an_english_fahrenheit_export_in_another_offset_is_converted_to_celsius_and_utc() -> None:
    text = "Serial Number;EL-USB-2\nDate/Time;Temperature(°F)\n2026-11-27T08:00;41\n2026-11-27T08:01;46.4 °F\n"
    [series] = read_logger_file(text.encode(), offset=timezone(timedelta(hours=1))).series
    assert series.device_id == "EL-USB-2"
    assert series.times_ms == [ms("2026-11-27T08:00", 1), ms("2026-11-27T08:01", 1)]
    assert series.values_c == pytest.approx([5.0, 8.0])


def test_a_device_column_splits_the_file_into_one_series_per_logger_sorted_and_deduplicated() -> None:
    text = (
        "time,temperature,device\n"
        "2026-11-27 08:10:00,5.0,A\n"
        "2026-11-27 08:00:00,4.0,A\n"
        "2026-11-27 08:00:00,7.0,B\n"
        "2026-11-27 08:00:00,4.5,A\n"
    )
    parsed = read_logger_file(text.encode("utf-8-sig"))
    by_device = {s.device_id: s for s in parsed.series}
    assert by_device["A"].values_c == [4.0, 5.0]
    assert by_device["B"].values_c == [7.0]
    assert parsed.duplicate_rows == 1


def test_an_xlsx_export_with_date_and_time_of_day_in_two_columns() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["记录仪序列号", "TT-88"])
    sheet.append(["日期", "时间", "温度(℃)"])
    sheet.append([datetime(2026, 11, 27), time(8, 0), 5.5])
    sheet.append(["2026年11月27日", "8:05", "6"])
    buffer = io.BytesIO()
    book.save(buffer)
    parsed = read_logger_file(buffer.getvalue())
    [series] = parsed.series
    assert (parsed.format, series.device_id) == ("xlsx", "TT-88")
    assert series.times_ms == [ms("2026-11-27T08:00"), ms("2026-11-27T08:05")]
    assert series.values_c == [5.5, 6.0]


def test_times_with_an_offset_keep_it() -> None:
    text = "时间,温度\n2026-11-27T00:00:00Z,3\n"
    [series] = read_logger_file(text.encode(), device_id="X").series
    assert series.times_ms == [round(datetime(2026, 11, 27, tzinfo=UTC).timestamp() * 1000)]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("时间,温度\n2026-11-27 08:00,abc\n", "row 2: temperature 'abc'"),
        ("时间,温度\n昨天,3\n", "row 2: the time cannot be read"),
        ("时间,温度\n2026-11-27 08:00,350\n", "350 °C is not a temperature"),
        ("时间,湿度\n2026-11-27 08:00,50\n", "no header row"),
        ("时间,温度\n2026-11-27 08:00,3\n", "no device"),
        ("时间,温度\n", "no readings"),
    ],
)
def test_unreadable_files_are_refused_naming_the_row(text: str, reason: str) -> None:
    with pytest.raises(InvalidInput, match=reason):
        read_logger_file(text.encode(), device_id=None if "device" in reason else "RC5-1")


def test_a_file_over_the_reading_limit_is_refused() -> None:
    rows = "".join(f"2026-11-27 08:{m:02d}:00,3\n" for m in range(10))
    with pytest.raises(PayloadTooLarge):
        read_logger_file(("时间,温度,设备\n" + rows.replace("\n", ",A\n")).encode(), max_readings=5)


def test_old_and_broken_workbooks_are_refused_with_what_to_do() -> None:
    with pytest.raises(UnsupportedMediaType, match=r"save it as \.xlsx"):
        read_logger_file(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100)
    with pytest.raises(UnsupportedMediaType, match="not a readable XLSX"):
        read_logger_file(b"PK\x03\x04not really a zip")
