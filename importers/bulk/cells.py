"""Reading one cell of a sheet as the ledger value its column declares, or refusing it with a reason.

Cells come as text from CSV and typed from XLSX (int, float, datetime). The traps are Excel's: long codes typed
as numbers come back as floats rounded past 15 digits, quantities as ``1200.0``, dates as datetimes or as the
text a Chinese locale writes (``2026/9/1``, ``2026年9月1日``). A value that cannot be read exactly is refused
with what to do about it; nothing is guessed.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Final

from importers.templates import Column, Kind, normalize_header
from ledger.errors import InvalidInput, InvalidQuantity
from ledger.identifiers import normalize_gtin, validate_lot
from ledger.rules import require_quantity

Cell = str | int | float | bool | date | datetime | time | timedelta | None
Value = str | int | date

# ISO 3166-1 alpha-2 (ISO/TC 46 N1108, 2023-04-05), as in the tz database's iso3166.tab.
_ISO_3166_ALPHA_2: Final = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO
FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE
JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO
MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW
PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM
TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
ISO_COUNTRIES: Final = frozenset(_ISO_3166_ALPHA_2.split())

# A double carries 15-16 significant digits; from 10^15 up, Excel may already have rounded what was typed.
_EXACT_FLOAT_LIMIT: Final = 10**15
_DATE_FORMATS: Final = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%Y年%m月%d日")
_THOUSANDS: Final = re.compile(r"\d{1,3}(,\d{3})+")
_WHOLE: Final = re.compile(r"[+-]?\d+(\.0*)?")


def text_of(raw: Cell) -> str | None:
    """A cell as the text a person typed, or None when empty."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise InvalidInput(f"{str(raw).upper()} is a yes/no cell, not a value")
    if isinstance(raw, float):
        if not raw.is_integer():
            return str(raw)
        if abs(raw) >= _EXACT_FLOAT_LIMIT:
            raise InvalidInput(
                f"Excel stored {raw:.15g} as a number and may have rounded its last digits: "
                "format the column as text (文本) and type the value again"
            )
        return str(int(raw))
    if isinstance(raw, datetime):
        return raw.date().isoformat() if raw.time() == time() else raw.isoformat()
    if isinstance(raw, date | time):
        return raw.isoformat()
    text = str(raw).strip()
    return text or None


def parse_cell(raw: Cell, column: Column) -> Value | None:
    """The ledger value of one cell, None when it is empty; a refusal is an ``InvalidInput`` naming the value."""
    if column.kind is Kind.QUANTITY:
        return _quantity(raw)
    if column.kind is Kind.DATE:
        return _date(raw)
    text = text_of(raw)
    if text is None:
        return None
    if column.kind is Kind.GTIN:
        return normalize_gtin(text)
    if column.kind is Kind.LOT:
        return validate_lot(text)
    if column.kind is Kind.COUNTRY:
        code = text.upper()
        if code not in ISO_COUNTRIES:
            raise InvalidInput(f"{text!r} is not an ISO 3166-1 alpha-2 country code (e.g. BR, AR, NZ, AU)")
        return code
    if column.kind is Kind.CHOICE:
        choice = column.choices.get(normalize_header(text))
        if choice is None:
            raise InvalidInput(f"{text!r} is not one of: {' / '.join(column.choices)}")
        return choice
    if column.max_length is not None and len(text) > column.max_length:
        raise InvalidInput(f"{len(text)} characters is longer than the {column.max_length} allowed")
    return text


def _quantity(raw: Cell) -> int | None:
    if isinstance(raw, float):
        if not raw.is_integer():
            raise InvalidQuantity(f"quantity must be a whole number, got {raw}")
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool):
        return require_quantity(raw)
    text = text_of(raw)
    if text is None:
        return None
    if _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    if not _WHOLE.fullmatch(text):
        raise InvalidQuantity(f"quantity must be a whole number, got {text!r}")
    return require_quantity(int(text.split(".")[0]))


def _date(raw: Cell) -> date | None:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)  # 20260901 typed into a number cell
    text = text_of(raw)
    if text is None:
        return None
    # Exports of datetime cells carry a midnight time; anything else is a date with a time we would drop.
    text = text.removesuffix(" 00:00:00").removesuffix("T00:00:00")
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise InvalidInput(f"{text!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-09-01")
