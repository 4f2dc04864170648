"""Identifiers lotline issues and reads (docs/identifiers.md): GS1 keys, GS1 Digital Link, USCC and drug trace codes.

All functions are pure; each refusal is a subclass of :class:`ledger.errors.InvalidIdentifier` whose detail
names the value and the reason.
"""

from ledger.identifiers.china import make_uscc, validate_drug_trace_code, validate_uscc
from ledger.identifiers.digital_link import (
    CANONICAL_RESOLVER,
    CodeKind,
    DigitalLink,
    parse_code,
    parse_digital_link,
)
from ledger.identifiers.gs1 import (
    CSET_82,
    SERIAL_ALPHABET,
    gs1_check_digit,
    make_gtin,
    make_sscc,
    new_serial,
    new_serials,
    normalize_gln,
    normalize_gtin,
    normalize_sscc,
    validate_lot,
    validate_serial,
)

__all__ = [
    "CANONICAL_RESOLVER",
    "CSET_82",
    "SERIAL_ALPHABET",
    "CodeKind",
    "DigitalLink",
    "gs1_check_digit",
    "make_gtin",
    "make_sscc",
    "make_uscc",
    "new_serial",
    "new_serials",
    "normalize_gln",
    "normalize_gtin",
    "normalize_sscc",
    "parse_code",
    "parse_digital_link",
    "validate_drug_trace_code",
    "validate_lot",
    "validate_serial",
    "validate_uscc",
]
