"""What one scan read: a wedge scanner's line, a camera's decoded text or a typed code, parsed into the code it
names and the issuer signature it carries (docs/station.md).

A wedge scanner types what it reads and then Enter. What it types depends on the symbol and the scanner's set-up:

- a QR code of ours: the signed GS1 Digital Link ``https://…/01/…/10/…/21/…?s=…``;
- a GS1 DataMatrix or GS1 QR code: the element string, with GS (``\\x1d``) where the symbol has FNC1
  separators, often behind a symbology identifier (``]d2`` DataMatrix, ``]Q3`` QR, ``]C1`` GS1-128) when the
  scanner is set to send it, and sometimes a leading GS for the symbol's first FNC1;
- a person typing: the element string in parentheses ``(01)…(10)…(21)…`` or a bare GTIN/SSCC.

All of these are parsed by ``ledger.identifiers.parse_code`` (biip underneath). Only Digital Links carry a
signature: the other forms are read, but cannot be checked offline; the ledger checks them when the scan is sent.
The browser station parses the same inputs the same way (``trace_api/station/static/codes.js``); both test
suites read one table of vectors (``tests/data/station/code-vectors.json``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from ledger.code_signing import split_signed
from ledger.errors import InvalidDigitalLink, InvalidSignature
from ledger.identifiers import DigitalLink, parse_code
from scanner.verify import OfflineVerifier, ScanCheck, ScanReason

_URI_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


@dataclass(frozen=True, slots=True)
class Reading:
    """One scanned code: ``text`` as read (without the scanner's CR/LF), what it names, its signature if any."""

    text: str
    link: DigitalLink
    signature: str | None = None


def read_scan(text: str) -> Reading:
    """Parse one scan; a text that names no code of this network raises :class:`InvalidDigitalLink`.

    A Digital Link with two ``s`` attributes is refused as unreadable here: which of them would count?
    """
    value = text.strip("\r\n")
    if _URI_SCHEME.match(value.strip()):
        try:
            link, signature = split_signed(value)
        except InvalidSignature as exc:
            raise InvalidDigitalLink(exc.detail, code=value) from exc
        return Reading(value.strip(), link, signature)
    return Reading(value, parse_code(value))


def verdict(verifier: OfflineVerifier, text: str) -> ScanCheck:
    """The offline verdict on one scan: a Digital Link is checked against the key set; another readable form
    carries no signature (``missing_signature``: the ledger checks it when the scan is sent); anything else
    is ``not_a_code``."""
    try:
        reading = read_scan(text)
    except InvalidDigitalLink as exc:
        if _URI_SCHEME.match(text.strip()):
            return verifier.check(text)
        return ScanCheck(text, ScanReason.NOT_A_CODE, f"not a code of this network: {exc.detail}")
    if _URI_SCHEME.match(reading.text):
        return verifier.check(reading.text)
    detail = "the code carries no issuer signature: the ledger checks it when the scan is sent"
    return ScanCheck(reading.text, ScanReason.MISSING_SIGNATURE, detail, reading.link)
