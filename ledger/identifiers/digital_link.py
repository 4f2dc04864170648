"""GS1 Digital Link URIs and everything else a scanner may read for the same item, batch or logistic unit.

Parsing leans on ``biip`` for Digital Link paths, GS1 element strings (with or without parentheses, with GS
separators) and symbology identifiers. Where lotline goes beyond it:

- the query string is dropped before biip sees the URI: identity lives in the path, the query only carries
  attributes (expiry, ``linkType``...) whose faults must not make a genuine code unreadable;
- biip records a bad GTIN/SSCC check digit inside the element string instead of raising, so every key is
  re-validated here, and when biip refuses a path its regex message is replaced by the validator's own reason;
- biip has no EPC URN support: ``urn:epc:id:sgtin``, ``urn:epc:class:lgtin`` and ``urn:epc:id:sscc``
  (GS1 Tag Data Standard §6) are parsed here;
- only GTIN- and SSCC-keyed codes are accepted, and only lot (10) and serial (21) as key qualifiers.

Path values are percent-encoded as the GS1 Digital Link grammar asks: everything but letters, digits and
``- . _`` (``quote(safe="")``; the grammar leaves ``"`` bare, but RFC 3986 forbids it in a URI).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from biip import ParseError
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_element_strings import GS1ElementStrings
from biip.gs1_messages import GS1Message
from biip.symbology import SymbologyIdentifier

from ledger.errors import InvalidDigitalLink, InvalidIdentifier, LotlineError
from ledger.identifiers.gs1 import (
    GTIN_LENGTHS,
    gs1_check_digit,
    normalize_gtin,
    normalize_sscc,
    validate_lot,
    validate_serial,
)

CANONICAL_RESOLVER: Final = "https://id.gs1.org"
_IDENTITY_AIS: Final = ("00", "01", "10", "21")
# Any "scheme://" goes to the Digital Link parser, so ftp:// and the like are refused for their scheme.
_URI_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_SPACE_INSIDE_VALUE: Final = re.compile(r"[^\s()]\s+[^\s()]")
# Key qualifiers that change what a GTIN names; ignoring them would merge distinct objects, so they are refused.
_UNSUPPORTED_QUALIFIERS: Final = {"22": "consumer product variant", "235": "third-party serial extension"}


class CodeKind(StrEnum):
    ITEM = "item"
    BATCH = "batch"
    PRODUCT = "product"
    SSCC = "sscc"


def _encode(value: str) -> str:
    return quote(value, safe="")


@dataclass(frozen=True)
class DigitalLink:
    """What one code names: an item (GTIN + serial, usually with lot), a batch (GTIN + lot), a product
    (GTIN) or a logistic unit (SSCC). Construction validates every part and stores the GTIN in 14 digits."""

    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    sscc: str | None = None

    def __post_init__(self) -> None:
        if self.sscc is not None:
            if (self.gtin, self.lot, self.serial) != (None, None, None):
                raise InvalidDigitalLink(
                    "an SSCC names a logistic unit on its own and takes no GTIN, lot or serial", sscc=self.sscc
                )
            object.__setattr__(self, "sscc", normalize_sscc(self.sscc))
            return
        if self.gtin is None:
            raise InvalidDigitalLink("a Digital Link needs a GTIN (AI 01) or an SSCC (AI 00)")
        object.__setattr__(self, "gtin", normalize_gtin(self.gtin))
        if self.lot is not None:
            validate_lot(self.lot)
        if self.serial is not None:
            validate_serial(self.serial)

    @property
    def kind(self) -> CodeKind:
        if self.sscc is not None:
            return CodeKind.SSCC
        if self.serial is not None:
            return CodeKind.ITEM
        return CodeKind.BATCH if self.lot is not None else CodeKind.PRODUCT

    def _elements(self) -> list[tuple[str, str]]:
        pairs = (("00", self.sscc), ("01", self.gtin), ("10", self.lot), ("21", self.serial))
        return [(ai, value) for ai, value in pairs if value is not None]

    @property
    def path(self) -> str:
        """``/01/{gtin}/10/{lot}/21/{serial}`` (present parts only) or ``/00/{sscc}``, percent-encoded."""
        return "".join(f"/{ai}/{_encode(value)}" for ai, value in self._elements())

    def uri(self, base_url: str) -> str:
        """The Digital Link on a resolver, e.g. ``uri("https://trace.example.cn")``; a path prefix is kept."""
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise InvalidDigitalLink(
                f"resolver base URL {base_url!r} must be http(s)://host[/prefix] without query or fragment",
                base_url=base_url,
            )
        return base_url.rstrip("/") + self.path

    def canonical_epc(self) -> str:
        """The instance identifier for an EPCIS 2.0 ``epcList``: the constrained canonical Digital Link."""
        if self.sscc is not None:
            return f"{CANONICAL_RESOLVER}/00/{self.sscc}"
        if self.serial is None:
            raise InvalidDigitalLink(
                f"{self.element_string()} names a {self.kind}, not one physical object: it has no EPC; "
                "use canonical_class() for quantity lists",
                kind=str(self.kind),
            )
        return f"{CANONICAL_RESOLVER}/01/{self.gtin}/21/{_encode(self.serial)}"

    def canonical_class(self) -> str:
        """The class identifier for an EPCIS 2.0 ``quantityList``: LGTIN when a lot is known, else the GTIN."""
        if self.sscc is not None:
            raise InvalidDigitalLink(f"SSCC {self.sscc} names one logistic unit and has no class", sscc=self.sscc)
        lot = f"/10/{_encode(self.lot)}" if self.lot is not None else ""
        return f"{CANONICAL_RESOLVER}/01/{self.gtin}{lot}"

    def element_string(self) -> str:
        """The human-readable GS1 element string, e.g. ``(01)09506000134352(10)L1(21)X7``."""
        return "".join(f"({ai}){value}" for ai, value in self._elements())


def _refusal(source: str, reason: str, *, cause: LotlineError | None = None) -> InvalidDigitalLink:
    context: dict[str, str] = {"code": source}
    if cause is not None:
        context["cause"] = cause.reason
    return InvalidDigitalLink(f"{source!r} is not a code lotline can read: {reason}", **context)


def _link_from_elements(elements: GS1ElementStrings, source: str) -> DigitalLink:
    values: dict[str, str] = {}
    for element in elements:
        ai = element.ai.ai
        if ai in _UNSUPPORTED_QUALIFIERS:
            raise _refusal(source, f"AI ({ai}), {_UNSUPPORTED_QUALIFIERS[ai]}, is a key qualifier lotline does not use")
        if ai in _IDENTITY_AIS and values.setdefault(ai, element.value) != element.value:
            raise _refusal(source, f"AI ({ai}) appears twice with different values")
    if "00" not in values and "01" not in values:
        found = ", ".join(f"({element.ai.ai})" for element in elements) or "none"
        raise _refusal(source, f"it carries no GTIN (01) or SSCC (00); AIs found: {found}")
    try:
        if "00" in values:
            # On a logistic label any GTIN, lot or serial describes the contents, not the unit the SSCC names.
            return DigitalLink(sscc=values["00"])
        return DigitalLink(gtin=values["01"], lot=values.get("10"), serial=values.get("21"))
    except InvalidIdentifier as exc:
        raise _refusal(source, exc.detail, cause=exc) from exc


_PATH_VALIDATORS: Final = {"00": normalize_sscc, "01": normalize_gtin, "10": validate_lot, "21": validate_serial}


def _diagnose_path(path: str) -> InvalidIdentifier | None:
    """Find the validator's reason for a path biip refused, so the refusal names the bad part plainly."""
    segments = path.split("/")
    starts = [i for i, segment in enumerate(segments) if segment in ("00", "01")]
    if not starts:
        return InvalidDigitalLink(
            "its path has no /01/ (GTIN) or /00/ (SSCC) segment; compressed Digital Links are not accepted"
        )
    pairs = segments[starts[0] :]
    for ai, raw in zip(pairs[::2], pairs[1::2], strict=False):
        validator = _PATH_VALIDATORS.get(ai)
        if validator is not None:
            try:
                validator(unquote(raw))
            except InvalidIdentifier as exc:
                return exc
    return None


def parse_digital_link(uri: str) -> DigitalLink:
    """Parse an uncompressed GS1 Digital Link URI on any host, with or without a path prefix or query."""
    source = uri.strip()
    try:
        parts = urlsplit(source)
        without_query = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    except ValueError as exc:
        raise _refusal(uri, f"it is not a URI ({exc})") from exc
    try:
        parsed = GS1DigitalLinkURI.parse(without_query)
    except ParseError as exc:
        diagnosis = _diagnose_path(parts.path) if parts.scheme in ("http", "https") else None
        if diagnosis is None:
            raise _refusal(uri, str(exc)) from exc
        raise _refusal(uri, diagnosis.detail, cause=diagnosis) from exc
    # biip left-pads short GTINs ("/01/123" becomes 00000000000123); a path key must be a whole GTIN-8/12/13/14.
    diagnosis = _diagnose_path(parts.path)
    if diagnosis is not None and not isinstance(diagnosis, InvalidDigitalLink):
        raise _refusal(uri, diagnosis.detail, cause=diagnosis)
    return _link_from_elements(parsed.element_strings, uri)


_EPC_SSCC_SCHEME: Final = "urn:epc:id:sscc:"
_EPC_GTIN_SCHEMES: Final = (("urn:epc:id:sgtin:", "serial"), ("urn:epc:class:lgtin:", "lot"))


def _epc_key(urn: str, company_prefix: str, reference: str, *, digits: int, name: str) -> str:
    """Rebuild a GS1 key from an EPC URN's ``CompanyPrefix.Reference``: the reference's first digit (indicator
    or extension) goes back in front and the check digit, which EPC URNs leave out, is recomputed."""
    joined = company_prefix + reference
    if not (joined.isascii() and joined.isdigit()) or len(joined) != digits or not 6 <= len(company_prefix) <= 12:
        raise _refusal(
            urn, f"an EPC {name} needs a 6-12 digit company prefix and {digits} digits in all, without check digit"
        )
    body = reference[0] + company_prefix + reference[1:]
    return body + gs1_check_digit(body)


def _parse_epc_urn(urn: str) -> DigitalLink:
    """EPC URNs per GS1 Tag Data Standard §6 (biip has no EPC support)."""
    lowered = urn.lower()
    if lowered.startswith(_EPC_SSCC_SCHEME):
        company_prefix, _, reference = urn[len(_EPC_SSCC_SCHEME) :].partition(".")
        return DigitalLink(sscc=_epc_key(urn, company_prefix, reference, digits=17, name="SSCC"))
    for scheme, field in _EPC_GTIN_SCHEMES:
        if lowered.startswith(scheme):
            # The serial or lot may contain dots itself: only the first two dots split the key.
            parts = urn[len(scheme) :].split(".", 2)
            if len(parts) != 3:
                raise _refusal(urn, f"expected {scheme}CompanyPrefix.IndicatorAndItemReference.{field.title()}")
            gtin = _epc_key(urn, parts[0], parts[1], digits=13, name="GTIN")
            value = unquote(parts[2])
            try:
                if field == "serial":
                    return DigitalLink(gtin=gtin, serial=value)
                return DigitalLink(gtin=gtin, lot=value)
            except InvalidIdentifier as exc:
                raise _refusal(urn, exc.detail, cause=exc) from exc
    raise _refusal(urn, "among EPC URNs only sgtin, lgtin (class) and sscc name what lotline tracks")


def _is_bare_key(body: str) -> bool:
    """A bare GTIN or SSCC (an EAN-13 scan, a typed SSCC). No all-digit GS1 element string that carries AI 01
    or 00 has one of these lengths (AI 01 needs 16 digits, then 19 or more; AI 00 needs 20), so this never
    shadows a real element string."""
    return body.isascii() and body.isdigit() and len(body) in (*GTIN_LENGTHS, 18)


def _element_string_message(body: str, source: str) -> GS1Message:
    if not body.startswith("("):
        return GS1Message.parse(body)
    # biip drops every space of an HRI string; spaces beside the parentheses are layout, but one between two
    # value characters would silently turn lot "A B" (invalid) into lot "AB" (another, valid lot).
    inner_space = _SPACE_INSIDE_VALUE.search(body)
    if inner_space is not None:
        raise _refusal(source, f"whitespace inside the value {inner_space.group(0).strip()!r}; GS1 values have none")
    return GS1Message.parse_hri(body)


def parse_code(text: str) -> DigitalLink:
    """Whatever a scanner or a person hands over for one code, read into a :class:`DigitalLink`.

    Accepted: a Digital Link URI; a GS1 element string with parentheses ``(01)...(10)...(21)...``; a raw GS1
    barcode string with GS (``\\x1d``) separators, optionally behind a symbology identifier such as ``]d2``
    (GS1 DataMatrix), ``]Q3`` (GS1 QR) or ``]C1`` (GS1-128); a bare GTIN or SSCC; an EPC URN
    (``urn:epc:id:sgtin:``, ``urn:epc:class:lgtin:``, ``urn:epc:id:sscc:``). Attributes such as expiry
    (AI 17) are read past: a :class:`DigitalLink` names what the code identifies, nothing more.
    """
    # str.strip() counts the ASCII separators \x1c-\x1f as whitespace, so a leading GS (an FNC1 some
    # scanners send) goes with the CR/LF they append.
    value = text.strip()
    body = value
    if value.startswith("]"):
        try:
            body = value[len(SymbologyIdentifier.extract(value)) :]
        except ParseError as exc:
            raise _refusal(text, str(exc)) from exc
        except IndexError as exc:  # biip reads value[1] and value[2] unchecked: "]" or "]d" alone
            raise _refusal(text, "a symbology identifier is ']' and two characters") from exc
    if not body:
        raise _refusal(text, "it holds no data")
    if _URI_SCHEME.match(body):
        return parse_digital_link(body)
    if body.lower().startswith("urn:epc:"):
        return _parse_epc_urn(body)
    try:
        if _is_bare_key(body):
            return DigitalLink(sscc=body) if len(body) == 18 else DigitalLink(gtin=body)
        message = _element_string_message(body, text)
    except InvalidDigitalLink:
        raise
    except InvalidIdentifier as exc:
        raise _refusal(text, exc.detail, cause=exc) from exc
    except ParseError as exc:
        raise _refusal(text, str(exc)) from exc
    return _link_from_elements(message.element_strings, text)
