"""Offline verification of scanned codes against a downloaded issuer key set."""

from __future__ import annotations

import json

import pytest

from ledger.code_signing import CodeSigner, signed_uri
from ledger.errors import InvalidInput
from ledger.identifiers import DigitalLink
from ledger.keys import address_of
from scanner.verify import OfflineVerifier, ScanReason

ISSUER_KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
STRANGER_KEY = bytes.fromhex("8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f")
ISSUER = address_of(ISSUER_KEY)
ISSUER_NAME = "宁波冷链进口有限公司"
BASE = "https://trace.example.cn"
ITEM = DigitalLink(gtin="09506000134352", lot="L2026A", serial="K7QX2M4RZ8TA")


def _scan_text(link: DigitalLink = ITEM, key: bytes = ISSUER_KEY) -> str:
    return signed_uri(link, BASE, CodeSigner(key).sign(link))


def _miscased(address: str) -> str:
    """``address`` with one letter's case flipped: a broken EIP-55 checksum."""
    at = next(i for i, char in enumerate(address) if i > 1 and char.isalpha())
    return address[:at] + address[at].swapcase() + address[at + 1 :]


@pytest.fixture
def verifier() -> OfflineVerifier:
    return OfflineVerifier({ISSUER: ISSUER_NAME})


def test_a_genuine_code_is_reported_genuine_with_its_issuer(verifier: OfflineVerifier) -> None:
    check = verifier.check(_scan_text())
    assert check.genuine
    assert (check.reason, check.link, check.signer, check.issuer_name) == (
        ScanReason.GENUINE,
        ITEM,
        ISSUER,
        ISSUER_NAME,
    )
    assert ISSUER_NAME in check.detail


def test_scanner_whitespace_around_the_text_does_not_matter(verifier: OfflineVerifier) -> None:
    assert verifier.check(f" {_scan_text()}\r\n").genuine


@pytest.mark.parametrize(
    ("genuine", "forged"),
    [
        ("/21/K7QX2M4RZ8TA", "/21/K7QX2M4RZ8TB"),
        ("/10/L2026A", "/10/L2026B"),
        ("/01/09506000134352", "/01/09506000134376"),
    ],
    ids=["serial", "lot", "gtin"],
)
def test_a_code_altered_after_signing_is_forged(verifier: OfflineVerifier, genuine: str, forged: str) -> None:
    text = _scan_text()
    check = verifier.check(text.replace(genuine, forged))
    assert not check.genuine
    assert check.reason is ScanReason.UNKNOWN_ISSUER
    assert check.signer != ISSUER


def test_a_code_signed_by_a_stranger_is_forged(verifier: OfflineVerifier) -> None:
    check = verifier.check(_scan_text(key=STRANGER_KEY))
    assert (check.genuine, check.reason, check.signer) == (False, ScanReason.UNKNOWN_ISSUER, address_of(STRANGER_KEY))


def test_a_code_without_signature_is_forged(verifier: OfflineVerifier) -> None:
    check = verifier.check(ITEM.uri(BASE))
    assert (check.genuine, check.reason, check.link) == (False, ScanReason.MISSING_SIGNATURE, ITEM)


@pytest.mark.parametrize("signature", ["", "short", "A" * 86, "A" * 87])
def test_a_malformed_signature_is_forged_not_an_error(verifier: OfflineVerifier, signature: str) -> None:
    check = verifier.check(f"{ITEM.uri(BASE)}?s={signature}")
    assert (check.genuine, check.reason) == (False, ScanReason.MALFORMED_SIGNATURE)


def test_two_signatures_are_refused(verifier: OfflineVerifier) -> None:
    text = _scan_text()
    check = verifier.check(text + "&s=" + text.rsplit("=", 1)[1])
    assert check.reason is ScanReason.MALFORMED_SIGNATURE


@pytest.mark.parametrize(
    "text",
    ["", "hello", "09506000134352", "https://trace.example.cn/about", "https://trace.example.cn/01/09506000134353"],
    ids=["empty", "word", "bare-gtin", "other-page", "bad-check-digit"],
)
def test_text_that_is_not_a_code_of_the_network_is_reported_as_such(verifier: OfflineVerifier, text: str) -> None:
    check = verifier.check(text)
    assert (check.genuine, check.reason, check.link) == (False, ScanReason.NOT_A_CODE, None)


def test_a_signed_product_link_is_not_a_code_lotline_issues(verifier: OfflineVerifier) -> None:
    text = _scan_text().replace("/10/L2026A/21/K7QX2M4RZ8TA", "")
    assert verifier.check(text).reason is ScanReason.NOT_A_CODE


def test_codes_of_a_revoked_key_are_no_longer_genuine() -> None:
    verifier = OfflineVerifier({ISSUER: ISSUER_NAME}, revoked={ISSUER})
    check = verifier.check(_scan_text())
    assert (check.genuine, check.reason, check.signer) == (False, ScanReason.REVOKED_ISSUER, ISSUER)
    assert ISSUER_NAME in check.detail


def test_the_key_set_survives_json_export_and_import() -> None:
    stranger = address_of(STRANGER_KEY)
    original = OfflineVerifier({ISSUER: ISSUER_NAME, stranger: "Former Importer Ltd"}, revoked={stranger})
    exported = original.to_json()
    assert ISSUER_NAME in exported, "Chinese names are kept readable, not \\u-escaped"
    loaded = OfflineVerifier.from_json(exported)
    assert (loaded.issuers, loaded.revoked) == (original.issuers, original.revoked)
    assert loaded.to_json() == exported
    assert loaded.check(_scan_text()).genuine
    assert loaded.check(_scan_text(key=STRANGER_KEY)).reason is ScanReason.REVOKED_ISSUER


def test_lowercase_addresses_are_accepted_and_stored_checksummed() -> None:
    verifier = OfflineVerifier({ISSUER.lower(): ISSUER_NAME})
    assert verifier.issuers == {ISSUER: ISSUER_NAME}
    assert verifier.check(_scan_text()).genuine


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        json.dumps([]),
        json.dumps({"format": "other", "issuers": []}),
        json.dumps({"format": "lotline-issuers/v1"}),
        json.dumps({"format": "lotline-issuers/v1", "issuers": [{"address": "0x123", "name": "x"}]}),
        json.dumps({"format": "lotline-issuers/v1", "issuers": [{"address": ISSUER}]}),
        json.dumps({"format": "lotline-issuers/v1", "issuers": [], "revoked": [{"address": ISSUER}]}),
        json.dumps(
            {
                "format": "lotline-issuers/v1",
                "issuers": [{"address": ISSUER, "name": "a"}, {"address": ISSUER.lower(), "name": "b"}],
            }
        ),
        json.dumps({"format": "lotline-issuers/v1", "issuers": [{"address": _miscased(ISSUER), "name": "x"}]}),
    ],
    ids=["not-json", "list", "format", "no-issuers", "short-address", "no-name", "revoked-object", "twice", "checksum"],
)
def test_a_damaged_key_set_is_refused(document: str) -> None:
    with pytest.raises(InvalidInput):
        OfflineVerifier.from_json(document)
