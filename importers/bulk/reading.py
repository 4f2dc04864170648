"""From uploaded bytes to a table of cells: CSV in whatever encoding Chinese offices save it in, or XLSX.

The format is told by the bytes, not the file name (``.csv`` files saved from Excel as XLSX exist). CSV text is
decoded strictly: UTF-8 (with or without the BOM Excel writes), then GBK, then GB18030, which is what Chinese
Excel and most domestic ERP systems write as "CSV". UTF-8 almost never decodes text written in another encoding,
and GBK/GB18030 is the only other encoding these sheets come in, so strict decoding in that order either reads
the file exactly or refuses it naming the first undecodable byte. A statistical detector
(charset-normalizer) was considered and not used: on short sheets it guesses, and a wrong guess mangles
certificate numbers silently, which is exactly what must never happen.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Final

from importers.bulk.cells import Cell, text_of
from importers.templates import DATA_SHEET, match_header
from ledger.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

# The header may sit below a title or a note ("进口冷链食品批次登记表"), as on customs brokers' sheets.
HEADER_SEARCH_ROWS: Final = 10
# Two recognised headers make a header row: one could be a title that happens to say "批号".
HEADER_MIN_MATCHES: Final = 2

_XLSX_MAGIC: Final = b"PK\x03\x04"
_OLE_MAGIC: Final = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls (and other OLE2 files)
_DELIMITERS: Final = (",", "\t", ";")


@dataclass(frozen=True)
class Table:
    format: str  # "csv" or "xlsx"
    encoding: str | None  # CSV only: the encoding the text was read in
    header_row: int  # numbered as in the sheet, from 1
    headers: tuple[str, ...]  # as the user wrote them ("" for a blank header cell)
    rows: tuple[tuple[int, tuple[Cell, ...]], ...]  # (row number in the sheet, cells); blank rows left out


def read_table(data: bytes, *, max_rows: int) -> Table:
    """Parse ``data`` as XLSX or CSV; refuse more than ``max_rows`` data rows before reading further."""
    if data.startswith(_XLSX_MAGIC):
        return _table("xlsx", None, _xlsx_rows(data), max_rows)
    if data.startswith(_OLE_MAGIC):
        raise UnsupportedMediaType(
            "this is an Excel 97-2003 (.xls) workbook: save it as .xlsx or as CSV UTF-8 and upload that"
        )
    if not data.strip():
        raise InvalidInput("the file is empty")
    text, encoding = decode_csv(data)
    return _table("csv", encoding, _csv_rows(text), max_rows)


def decode_csv(data: bytes) -> tuple[str, str]:
    """Decode CSV bytes exactly, returning the text and the encoding's name; refuse what decodes as neither."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Excel's "Unicode text" export: UTF-16 with a BOM, tab-separated.
        return _strict(data, "utf-16"), "utf-16"
    if b"\x00" in data:
        raise InvalidInput("the file contains NUL bytes: it is not a CSV text file (UTF-16 without a BOM?)")
    try:
        return data.decode("utf-8-sig"), "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    except UnicodeDecodeError as utf8_error:
        for legacy in ("gbk", "gb18030"):
            try:
                return data.decode(legacy), legacy
            except UnicodeDecodeError:
                continue
        line = data[: utf8_error.start].count(b"\n") + 1
        byte = data[utf8_error.start]
        raise InvalidInput(
            f"the CSV is neither UTF-8 nor GBK/GB18030: byte 0x{byte:02X} on line {line} is not valid in either. "
            "Save it from Excel as 'CSV UTF-8 (逗号分隔)' and upload again",
            line=line,
            byte=f"0x{byte:02X}",
        ) from None


def _strict(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise InvalidInput(f"the CSV is not valid {encoding.upper()} at byte {error.start}") from None


def _csv_rows(text: str) -> Generator[Sequence[Cell]]:
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = max(_DELIMITERS, key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as error:
        raise InvalidInput(f"the CSV cannot be read at line {reader.line_num}: {error}") from None


def _xlsx_rows(data: bytes) -> Generator[Sequence[Cell]]:
    # openpyxl is imported here, not at module level: CSV imports (and the CLI start) do not pay for it.
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as error:
        raise UnsupportedMediaType(f"the file is not a readable XLSX workbook: {error}") from None
    try:
        sheet = book[DATA_SHEET] if DATA_SHEET in book.sheetnames else book.worksheets[0]
        # read_only sheets yield a filler tuple for each missing row, so the n-th row is sheet row n.
        for values in sheet.iter_rows(values_only=True):
            yield tuple(_plain(v) for v in values)
    finally:
        book.close()


def _plain(value: object) -> Cell:
    """Rich text, decimals and (with cached values missing) formulas are read as the text they show."""
    if value is None or isinstance(value, str | int | float | date | time | timedelta):
        return value
    return str(value)


def _table(fmt: str, encoding: str | None, rows: Generator[Sequence[Cell]], max_rows: int) -> Table:
    # Closed explicitly: a refusal half-way must not leave the workbook's zip file open until garbage collection.
    with closing(rows):
        numbered = enumerate(rows, start=1)
        header_row, headers = _find_header(numbered, encoding)
        data: list[tuple[int, tuple[Cell, ...]]] = []
        for number, cells in numbered:
            if all(_blank(c) for c in cells):
                continue
            if len(data) == max_rows:
                raise PayloadTooLarge(
                    f"the file has more than {max_rows} rows; split it into files of at most {max_rows} rows",
                    max_rows=max_rows,
                )
            data.append((number, tuple(cells)))
    return Table(fmt, encoding, header_row, headers, tuple(data))


def _find_header(numbered: Iterator[tuple[int, Sequence[Cell]]], encoding: str | None) -> tuple[int, tuple[str, ...]]:
    for number, cells in numbered:
        texts = tuple(_header_text(c) for c in cells)
        if sum(match_header(t) is not None for t in texts) >= HEADER_MIN_MATCHES:
            return number, texts
        if number >= HEADER_SEARCH_ROWS:
            break
    garbled = encoding in ("gbk", "gb18030")
    raise InvalidInput(
        f"no header row in the first {HEADER_SEARCH_ROWS} rows: expected headers such as "
        "商品条码 (gtin), 批号 (lot), 数量 (quantity); download a template from /api/v1/imports/templates"
        + (f" (the CSV was read as {encoding}: if its headers look garbled, save it as CSV UTF-8)" if garbled else "")
    )


def _header_text(cell: Cell) -> str:
    try:
        return text_of(cell) or ""
    except InvalidInput:
        return ""


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())
