"""EPC URIs in canonical GS1 Digital Link form, exactly as the CBV 2.0 reference hash generator writes them.

The CBV 2.0 event hash compares identifiers in their canonical ``https://id.gs1.org/…`` form, so an EPC URN and a
Digital Link on any resolver hash alike. This is a compact port of the reference generator's normaliser
(``dl_normaliser.py``), quirks included: a third party must get the same hash we do.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

# The reference's Digital Link normaliser (dl_normaliser.py), same languages and same quirks (a 12-digit company
# prefix GRAI/GDTI/SGCN pattern wants an extra dot; "id.gs1.org" dots match any character), written compactly.
_ESC = r"(%2[125-9A-Fa-f]|%3[0-9A-Fa-f]|%4[1-9A-Fa-f]|%5[0-9AaFf]|%6[1-9A-Fa-f]|%7[0-9Aa]|[!')(*+,.0-9:;=A-Za-z_-])"
_CPI = r"(%2[3dfDF]|%3[0-9]|%4[1-9A-Fa-f]|%5[0-9Aa]|[0-9A-Z-])"
_DLC = r"[\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F\x41-\x5A\x5F\x61-\x7A]"


def _gcp(total: int, *, quirk: bool = False) -> str:
    """Company prefix of 6-12 digits, a dot, then the rest of ``total`` digits."""
    options = [rf"\d{{{n}}}\.\d{{{total - n}}}" for n in range(6, 12)]
    return "(" + "|".join([*options, r"\d{12}\.\." if quirk else rf"\d{{12}}\.\d{{{total - 12}}}"]) + ")"


def _open(chars: str, total: int) -> str:
    return "(" + "|".join(rf"\d{{{n}}}\.{chars}{{1,{total - n}}}" for n in range(6, 13)) + ")"


def _check_digit(digits: str) -> str:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str(-total % 10)


def _enc(text: str) -> str:
    for char, code in (("!", "%21"), ("(", "%28"), (")", "%29"), ("*", "%2A"), ("+", "%2B"), (",", "%2C")):
        text = text.replace(char, code)
    return text.replace(":", "%3A")


def _gtin(uri: str, dot: int, start: int) -> str:
    prefix = uri[start:dot]
    ref = uri[dot + 1 : dot + 14 - len(prefix)]
    raw = ref[:1] + prefix + ref[1:]
    return raw + _check_digit(raw)


def _key13(uri: str, dot: int, start: int, lead: str = "") -> str:
    prefix = uri[start:dot]
    raw = lead + prefix + uri[dot + 1 : dot + 13 - len(prefix)]
    return raw + _check_digit(raw)


def _keyed(uri: str, dot: int, start: int) -> str:
    raw = uri[start:dot] + uri[dot + 1 :]
    return raw + _check_digit(raw)


_Rule = tuple[str, Callable[[str, int], str]]
_EPC_RULES: Final[dict[str, _Rule]] = {
    "urn:epc:id:sgtin:": (rf"{_gcp(13)}\.{_ESC}{{1,20}}$", lambda u, d: f"01/{_gtin(u, d, 17)}/21/{_enc(u[32:])}"),
    "urn:epc:id:sscc:": (
        _gcp(17) + "$",
        lambda u, d: (
            f"00/{u[d + 1 : d + 2]}{u[16:d]}{u[d + 2 :]}" + _check_digit(u[d + 1 : d + 2] + u[16:d] + u[d + 2 :])
        ),
    ),
    "urn:epc:id:sgln:": (
        rf"{_gcp(12)}\.{_ESC}{{1,20}}$",
        lambda u, d: f"414/{_key13(u, d, 16)}" + ("" if u[30:] == "0" else f"/254/{_enc(u[30:])}"),
    ),
    "urn:epc:id:grai:": (
        rf"{_gcp(12, quirk=True)}\.{_ESC}{{1,16}}$",
        lambda u, d: f"8003/{_key13(u, d, 16, '0')}{_enc(u[30:])}",
    ),
    "urn:epc:id:giai:": (_open(_ESC, 30) + "$", lambda u, d: f"8004/{u[16:d]}{_enc(u[d + 1 :])}"),
    "urn:epc:id:gsrn:": (_gcp(17) + "$", lambda u, d: f"8018/{_keyed(u, d, 16)}"),
    "urn:epc:id:gsrnp:": (_gcp(17) + "$", lambda u, d: f"8017/{_keyed(u, d, 17)}"),
    "urn:epc:id:gdti:": (
        rf"{_gcp(12, quirk=True)}{_ESC}{{1,20}}$",
        lambda u, d: f"253/{_key13(u, d, 16)}{_enc(u[30:])}",
    ),
    "urn:epc:id:cpi:": (
        _open(_CPI, 30) + r"\.\d{1,12}$",
        lambda u, d: f"8010/{_enc(u[15:d] + u[d + 1 : u.rfind('.')])}/8011/{u[u.rfind('.') + 1 :]}",
    ),
    "urn:epc:id:sgcn:": (rf"{_gcp(12)}\.\d{{1,12}}$", lambda u, d: f"255/{_key13(u, d, 16)}{u[30:]}"),
    "urn:epc:id:ginc:": (_open(_ESC, 30) + "$", lambda u, d: f"401/{u[16:d]}{_enc(u[d + 1 :])}"),
    "urn:epc:id:gsin:": (_gcp(16) + "$", lambda u, d: f"402/{_keyed(u, d, 16)}"),
    "urn:epc:id:itip:": (
        rf"{_gcp(13)}\.\d{{2}}\.\d{{2}}\.{_ESC}{{1,20}}$",
        lambda u, d: f"8006/{_gtin(u, d, 16)}{u[31:33]}{u[34:36]}/21/{_enc(u[37:])}",
    ),
    "urn:epc:id:upui:": (rf"{_gcp(13)}\.{_ESC}{{1,28}}$", lambda u, d: f"01/{_gtin(u, d, 16)}/235/{_enc(u[31:])}"),
    "urn:epc:id:pgln:": (_gcp(12) + "$", lambda u, d: f"417/{_key13(u, d, 16)}"),
    "urn:epc:class:lgtin:": (
        rf"{_gcp(13)}\.{_ESC}{{1,20}}$",
        lambda u, d: f"01/{_gtin(u, d, 20)}/10/{_enc(u[35:])}",
    ),
    "urn:epc:idpat:sgtin:": (rf"{_gcp(13)}\.\*$", lambda u, d: f"01/{_gtin(u, d, 20)}"),
    "urn:epc:idpat:grai:": (rf"{_gcp(12, quirk=True)}\.\*$", lambda u, d: f"8003/{_key13(u, d, 19, '0')}"),
    "urn:epc:idpat:gdti:": (rf"{_gcp(12, quirk=True)}\.\*$", lambda u, d: f"253/{_key13(u, d, 19)}"),
    "urn:epc:idpat:sgcn:": (rf"{_gcp(12, quirk=True)}\.\*$", lambda u, d: f"255/{_key13(u, d, 19)}"),
    "urn:epc:idpat:cpi:": (_open(_CPI, 30) + r"\.\*$", lambda u, d: f"8010/{_enc(u[18:d] + u[d + 1 : u.rfind('.')])}"),
    "urn:epc:idpat:itip:": (
        rf"{_gcp(13)}\.\d{{2}}\.\d{{2}}\.\*$",
        lambda u, d: f"8006/{_gtin(u, d, 19)}{u[34:36]}{u[37:39]}",
    ),
    "urn:epc:idpat:upui:": (rf"{_gcp(13)}\.\*$", lambda u, d: f"01/{_gtin(u, d, 19)}"),
}
_EPC_PATTERNS: Final = {prefix: re.compile(re.escape(prefix) + rule[0]) for prefix, rule in _EPC_RULES.items()}

_KEYS = "01|gtin|8006|itip|8010|cpid|414|gln|417|party|8017|gsrnp|8018|gsrn|255|gcn|00|sscc|253|gdti|401|ginc|402"
_DL = re.compile(
    r"^https?:(//((([^/?#]*)@)?([^/?#:]*)(:([^/?#]*))?))?((([^?#]*)(/(" + _KEYS + r"|gsin|8003|grai|8004|giai)/)"
    r"(\d{4}[^/]+)(/[^/]+/[^/]+)?[/]?(\?([^?\n]*))?(#([^\n]*))?)|(/[A-Za-z_-]{10}$))"
)
_SHORT_NAMES: Final = tuple(
    (f"/{name}/", f"/{ai}/")
    for name, ai in (
        ("gtin", "01"), ("itip", "8006"), ("cpid", "8010"), ("gln", "414"), ("party", "417"), ("gsrnp", "8017"),
        ("gsrn", "8018"), ("gcn", "255"), ("sscc", "00"), ("gdti", "253"), ("ginc", "401"), ("gsin", "402"),
        ("grai", "8003"), ("giai", "8004"), ("cpv", "22"), ("lot", "10"), ("ser", "21"),
    )
)  # fmt: skip
_CANONICAL_HOST = re.compile(
    r"^https://id.gs1.org/(01|8006|8010|414|417|8017|8018|255|00|253|401|402|8003|8004)/(\d{4}[^/]+)"
    r"(/[^/]+/[^/]+)?[/]?(\?([^?\n]*))?(#([^\n]*))?|(/[A-Za-z_-]{10}$)"
)
_HOST_KEYS: Final = (
    "00",
    "01",
    "253",
    "255",
    "401",
    "402",
    "414",
    "417",
    "8003",
    "8004",
    "8006",
    "8010",
    "8017",
    "8018",
)
_CPV_LAST = re.compile(rf"https://id.gs1.org/(8006/\d{{18}}|01/\d{{14}})/22/({_DLC}{{0,20}})$")
_CPV_INNER = re.compile(r"https://id.gs1.org/(8006/\d{18}|01/\d{14})/22/([\x2F\x22\x27\x2D\x2E\x30-\x39\x3B-\x3F"
                        r"\x41-\x5A\x5F\x61-\x7A]{0,20})$")  # fmt: skip
_LOT_AND_SERIAL = re.compile(
    rf"https://id.gs1.org/(8006/\d{{18}}|01/(\d{{14}}))/10/({_DLC}{{0,20}})/21/({_DLC}{{0,20}})$"
)
_VALID_DL = re.compile(
    r"https://id.gs1.org/("
    + "|".join((
        r"00/\d{18}", rf"01/\d{{14}}/21/{_DLC}{{0,20}}", rf"01/\d{{14}}/10/{_DLC}{{0,20}}", r"01/\d{14}",
        rf"01/\d{{14}}/235/{_DLC}{{0,28}}", rf"253/\d{{13}}{_DLC}{{0,17}}", r"255/\d{13}\d{0,12}",
        rf"401/{_DLC}{{0,30}}", r"402/\d{17}", r"414/\d{13}", rf"414/\d{{13}}/254/{_DLC}{{0,20}}", r"417/\d{13}",
        rf"8003/\d{{14}}{_DLC}{{0,16}}", rf"8004/{_DLC}{{0,30}}", rf"8006/\d{{18}}/21/{_DLC}{{0,20}}",
        rf"8006/\d{{18}}/10/{_DLC}{{0,20}}", r"8006/\d{18}",
        r"8010/[\x23\x2D\x2F\x30-\x39\x41-\x5A]{0,30}/8011/\d{0,12}",
        r"8010/[\x23\x2D\x2F\x30-\x39\x41-\x5A]{0,30}", r"8017/\d{18}", r"8018/\d{18}",
    ))
    + ")$"
)  # fmt: skip


def canonical_uri(uri: str) -> str | None:
    """The constrained canonical GS1 Digital Link (``https://id.gs1.org/...``) of an EPC URI, EPC class or
    pattern URI or Digital Link; ``None`` for anything else. Serial beats lot; CPV and query strings go."""
    dot = uri.find(".")
    if dot < 0:
        return None
    if uri.startswith("urn:epc:"):
        prefix = ":".join(uri.split(":", 4)[:4]) + ":"
        pattern = _EPC_PATTERNS.get(prefix)
        if pattern is None or pattern.match(uri) is None:
            return None
        return "https://id.gs1.org/" + _EPC_RULES[prefix][1](uri, dot)
    if _DL.match(uri) is None:
        return None
    return _canonical_digital_link(uri)


def _canonical_digital_link(uri: str) -> str | None:
    if "?" in uri:
        uri = uri[: uri.index("?")]
    for name, ai in _SHORT_NAMES:
        uri = uri.replace(name, ai)
    if _CANONICAL_HOST.match(uri) is None:
        for key in _HOST_KEYS:
            if f"/{key}/" in uri:
                uri = "https://id.gs1.org" + uri[uri.find(f"/{key}/") :]
                break
    if not re.match(r"^https://id.gs1.org/01/\d{14}", uri):
        for digits, pad in ((13, "0"), (12, "00"), (8, "000000")):
            if re.match(rf"^https://id.gs1.org/01/\d{{{digits}}}", uri):
                uri = uri.replace("/01/", "/01/" + pad)
                break
    after_cpv = uri[uri.find("/22/") + 4 :]
    if _CPV_LAST.match(uri):
        uri = uri[: uri.find("/22/")] + after_cpv[after_cpv.find("/") : -1]
    if _CPV_INNER.match(uri):
        uri = uri[: uri.find("/22/")] + after_cpv[after_cpv.find("/") :]
    if _LOT_AND_SERIAL.match(uri):
        after_lot = uri[uri.find("/10/") + 4 :]
        uri = uri[: uri.find("/10/")] + after_lot[after_lot.find("/") :]
    return uri if _VALID_DL.match(uri) else None
