"""GS1 keys and key qualifiers: GTIN, SSCC, GLN, lot (AI 10) and serial (AI 21), and serial issuance.

References: GS1 General Specifications, §7.9.1 (mod-10 check digit), §3.2 (AIs 00, 01, 10, 21, 414) and
figure 7.11-1 (AI encodable character set 82). Every refusal is a typed error from :mod:`ledger.errors`
whose detail names the value and the reason, so an API can return it to the person who typed or scanned it.
"""

from __future__ import annotations

import secrets
from typing import Final

from biip.checksums import gs1_standard_check_digit

from ledger.errors import InvalidGLN, InvalidGTIN, InvalidIdentifier, InvalidLot, InvalidSerial, InvalidSSCC

GTIN_LENGTHS: Final = (8, 12, 13, 14)

# GS1 General Specifications figure 7.11-1: the 82 characters allowed in alphanumeric AIs such as 10 and 21.
CSET_82: Final = frozenset("!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz")
AI_TEXT_MAX: Final = 20

# Serials lotline issues: digits and upper-case letters without the look-alikes 0/O and 1/I/L, so a person
# can read one off a label; all are in CSET 82 and are URI "unreserved", so they never need percent-encoding.
SERIAL_ALPHABET: Final = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# Below 8 symbols (about 40 bits) guessing a live serial inside a known lot becomes practical; AI 21 caps at 20.
SERIAL_LENGTH_MIN: Final = 8

# Random bytes at or above 248 (= 8 * 31) are dropped instead of folded, so every symbol is equally likely.
_UNBIASED_LIMIT: Final = 256 - 256 % len(SERIAL_ALPHABET)
_BYTE_TO_SYMBOL: Final = bytes(
    ord(SERIAL_ALPHABET[b % len(SERIAL_ALPHABET)]) if b < _UNBIASED_LIMIT else 0 for b in range(256)
)
_BIASED_BYTES: Final = bytes(range(_UNBIASED_LIMIT, 256))


def _is_digits(value: str) -> bool:
    """ASCII 0-9 only: ``str.isdigit`` alone would let '٣' or '³' through."""
    return value.isascii() and value.isdigit()


def gs1_check_digit(body: str) -> str:
    """The GS1 mod-10 check digit of ``body`` (every digit of the key except the check digit)."""
    if not _is_digits(body):
        raise InvalidIdentifier(f"cannot compute a GS1 check digit of {body!r}: it must be digits 0-9", value=body)
    return str(gs1_standard_check_digit(body))


def _validated_key(value: str, *, name: str, lengths: tuple[int, ...], error: type[InvalidIdentifier]) -> str:
    digits = value.strip()
    expected_lengths = " or ".join(str(n) for n in lengths)
    if not _is_digits(digits):
        bad = next((c for c in digits if not ("0" <= c <= "9")), None)
        why = f"{bad!r} is not a digit" if bad is not None else "it is empty"
        raise error(f"{name} {value!r} must be {expected_lengths} digits: {why}", value=value)
    if len(digits) not in lengths:
        raise error(f"{name} {value!r} has {len(digits)} digits, expected {expected_lengths}", value=value)
    expected = gs1_check_digit(digits[:-1])
    if digits[-1] != expected:
        raise error(
            f"{name} {value!r} has check digit {digits[-1]} but its digits give {expected}",
            value=value,
            expected_check_digit=expected,
        )
    return digits


def normalize_gtin(value: str) -> str:
    """Validate a GTIN-8/12/13/14 (check digit included) and return its 14-digit form (AI 01)."""
    gtin = _validated_key(value, name="GTIN", lengths=GTIN_LENGTHS, error=InvalidGTIN).zfill(14)
    if gtin == "0" * 14:
        raise InvalidGTIN(f"GTIN {value!r} is all zeros, which GS1 never allocates", value=value)
    return gtin


def normalize_sscc(value: str) -> str:
    """Validate an 18-digit SSCC (AI 00) including its check digit."""
    return _validated_key(value, name="SSCC", lengths=(18,), error=InvalidSSCC)


def normalize_gln(value: str) -> str:
    """Validate a 13-digit GLN (AI 414) including its check digit."""
    return _validated_key(value, name="GLN", lengths=(13,), error=InvalidGLN)


def _single_digit(value: str, *, name: str, error: type[InvalidIdentifier]) -> str:
    if len(value) != 1 or not _is_digits(value):
        raise error(f"{name} must be one digit 0-9, got {value!r}", value=value)
    return value


def _company_prefix(value: str, *, error: type[InvalidIdentifier]) -> str:
    if not _is_digits(value) or not 4 <= len(value) <= 12:
        raise error(f"GS1 company prefix {value!r} must be 4 to 12 digits", value=value)
    return value


def _reference_digits(value: int | str, *, width: int, name: str, error: type[InvalidIdentifier]) -> str:
    """Render an item or serial reference in exactly ``width`` digits, refusing what does not fit."""
    if isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value < 10**width:
            return str(value).zfill(width)
    elif isinstance(value, str) and len(value) == width and all("0" <= c <= "9" for c in value):
        return value
    raise error(
        f"{name} {value!r} does not fit: with this company prefix it must be exactly {width} digits",
        value=str(value),
        width=width,
    )


def make_gtin(company_prefix: str, item_reference: int | str, indicator: str = "0") -> str:
    """Build a GTIN-14: indicator + company prefix + item reference (13 digits together) + check digit.

    An ``int`` item reference is zero-padded to the width the prefix leaves; a ``str`` one must have that width.
    """
    indicator = _single_digit(indicator, name="GTIN indicator digit", error=InvalidGTIN)
    prefix = _company_prefix(company_prefix, error=InvalidGTIN)
    item = _reference_digits(item_reference, width=12 - len(prefix), name="item reference", error=InvalidGTIN)
    body = indicator + prefix + item
    return normalize_gtin(body + gs1_check_digit(body))


def make_sscc(company_prefix: str, serial_reference: int, extension: str = "0") -> str:
    """Build an SSCC: extension digit + company prefix + serial reference (17 digits together) + check digit."""
    extension = _single_digit(extension, name="SSCC extension digit", error=InvalidSSCC)
    prefix = _company_prefix(company_prefix, error=InvalidSSCC)
    serial = _reference_digits(serial_reference, width=16 - len(prefix), name="serial reference", error=InvalidSSCC)
    body = extension + prefix + serial
    return body + gs1_check_digit(body)


def _validated_ai_text(value: str, *, name: str, ai: str, error: type[InvalidIdentifier]) -> str:
    if not value:
        raise error(f"{name} (AI {ai}) must have 1 to {AI_TEXT_MAX} characters, got an empty value", value=value)
    if len(value) > AI_TEXT_MAX:
        raise error(
            f"{name} {value!r} has {len(value)} characters; GS1 AI {ai} allows at most {AI_TEXT_MAX}", value=value
        )
    for position, char in enumerate(value, start=1):
        if char not in CSET_82:
            raise error(
                f"{name} {value!r} has {char!r} at position {position}, "
                "which is not in GS1 AI encodable character set 82",
                value=value,
                character=char,
                position=position,
            )
    return value


def validate_lot(value: str) -> str:
    """A batch/lot number (AI 10): 1 to 20 characters of CSET 82. Returned unchanged: case and spaces matter."""
    return _validated_ai_text(value, name="lot", ai="10", error=InvalidLot)


def validate_serial(value: str) -> str:
    """A serial number (AI 21): 1 to 20 characters of CSET 82. Returned unchanged."""
    return _validated_ai_text(value, name="serial", ai="21", error=InvalidSerial)


def _check_serial_length(length: int) -> None:
    if not SERIAL_LENGTH_MIN <= length <= AI_TEXT_MAX:
        raise InvalidSerial(
            f"serial length {length} is outside {SERIAL_LENGTH_MIN}..{AI_TEXT_MAX}: shorter serials can be "
            f"guessed, longer ones do not fit GS1 AI 21",
            length=length,
        )


def _random_symbols(count: int) -> str:
    """``count`` symbols of :data:`SERIAL_ALPHABET` from the OS CSPRNG, filtered and mapped in C by translate."""
    symbols = bytearray()
    while len(symbols) < count:
        missing = count - len(symbols)
        # About 3% of bytes are dropped as biased; ask for a little more so one round nearly always suffices.
        raw = secrets.token_bytes(missing + missing // 16 + 16)
        symbols += raw.translate(_BYTE_TO_SYMBOL, _BIASED_BYTES)
    return symbols[:count].decode("ascii")


def new_serial(length: int = 12) -> str:
    """One unpredictable serial (AI 21) of ``length`` symbols; 12 symbols carry about 59 bits."""
    _check_serial_length(length)
    return _random_symbols(length)


def new_serials(n: int, length: int = 12) -> list[str]:
    """``n`` unpredictable serials, all different from one another (uniqueness across calls is the ledger's job)."""
    _check_serial_length(length)
    if n < 0:
        raise InvalidSerial(f"cannot issue a negative number of serials ({n})", count=n)
    unique: dict[str, None] = {}
    while len(unique) < n:
        symbols = _random_symbols((n - len(unique)) * length)
        unique.update(dict.fromkeys(symbols[i : i + length] for i in range(0, len(symbols), length)))
    return list(unique)
