"""Issuer signatures on codes: round trips, tampering, foreign keys and malformed signatures."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_keys import KeyAPI
from hypothesis import given
from hypothesis import strategies as st

from ledger.code_signing import (
    POOL_THRESHOLD,
    SIGNATURE_TEXT_LENGTH,
    CodeSigner,
    SignatureStatus,
    code_digest,
    recover_issuer,
    sign_item_serials,
    sign_many,
    signed_uri,
    split_signed,
    verify_code,
)
from ledger.errors import InvalidDigitalLink, InvalidInput, InvalidSignature
from ledger.identifiers import CSET_82, DigitalLink, new_serials
from ledger.keys import address_of, generate_private_key

CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
ISSUER_KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
OTHER_KEY = bytes.fromhex("8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f")
ISSUER = address_of(ISSUER_KEY)
ISSUERS = {ISSUER: "宁波冷链进口有限公司"}
GTIN = "09506000134352"
ITEM = DigitalLink(gtin=GTIN, lot="L2026A", serial="K7QX2M4RZ8TA")
BASE = "https://trace.example.cn"


@pytest.fixture(scope="module")
def signature() -> str:
    return CodeSigner(ISSUER_KEY).sign(ITEM)


def test_signature_is_86_base64url_characters_and_recovers_the_issuer(signature: str) -> None:
    assert len(signature) == SIGNATURE_TEXT_LENGTH
    assert base64.urlsafe_b64encode(base64.urlsafe_b64decode(signature + "==")).decode().rstrip("=") == signature
    assert recover_issuer(ITEM, signature) == ISSUER


def _compact_parts(signature: str) -> tuple[int, int, int]:
    """EIP-2098 by hand: r, s and yParity out of the 64-byte compact form."""
    raw = base64.urlsafe_b64decode(signature + "==")
    vs = int.from_bytes(raw[32:], "big")
    return int.from_bytes(raw[:32], "big"), vs & ((1 << 255) - 1), vs >> 255


def _compact_text(r: int, s: int, y_parity: int) -> str:
    raw = r.to_bytes(32, "big") + (y_parity << 255 | s).to_bytes(32, "big")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_signature_is_an_eip2098_compact_form_that_eth_keys_recovers(signature: str) -> None:
    """An independent implementation (eth-keys, as OpenZeppelin's ECDSA.recover(hash, r, vs)) reads it too."""
    r, s, y_parity = _compact_parts(signature)
    recovered = KeyAPI().Signature(vrs=(y_parity, r, s)).recover_public_key_from_msg_hash(code_digest(ITEM))
    assert recovered.to_checksum_address() == ISSUER


def test_signing_is_deterministic_and_bound_to_the_key(signature: str) -> None:
    assert CodeSigner(ISSUER_KEY).sign(ITEM) == signature
    assert CodeSigner(OTHER_KEY).sign(ITEM) != signature


def test_verify_code_accepts_a_genuine_code_and_names_its_issuer(signature: str) -> None:
    check = verify_code(ITEM, signature, ISSUERS)
    assert check.valid
    assert (check.status, check.signer, check.issuer_name) == (SignatureStatus.VALID, ISSUER, ISSUERS[ISSUER])
    assert verify_code(ITEM, signature, {ISSUER}).valid


@pytest.mark.parametrize(
    "tampered",
    [
        replace(ITEM, serial="K7QX2M4RZ8TB"),
        replace(ITEM, lot="L2026B"),
        replace(ITEM, gtin="09506000134376"),
        DigitalLink(gtin=GTIN, lot="L2026A"),
    ],
    ids=["serial", "lot", "gtin", "serial-dropped"],
)
def test_a_tampered_code_is_refused_offline(signature: str, tampered: DigitalLink) -> None:
    assert verify_code(tampered, signature, ISSUERS).status is SignatureStatus.UNKNOWN_ISSUER
    expected = verify_code(tampered, signature, ISSUERS, expected_issuer=ISSUER)
    assert expected.status is SignatureStatus.BAD_SIGNATURE
    assert expected.signer != ISSUER


def test_a_signature_from_another_key_is_refused() -> None:
    forged = CodeSigner(OTHER_KEY).sign(ITEM)
    check = verify_code(ITEM, forged, ISSUERS)
    assert check.status is SignatureStatus.UNKNOWN_ISSUER
    assert check.signer == address_of(OTHER_KEY)
    assert verify_code(ITEM, forged, ISSUERS, expected_issuer=ISSUER).status is SignatureStatus.BAD_SIGNATURE


def test_a_genuine_signature_from_an_issuer_missing_from_the_set_is_an_unknown_issuer(signature: str) -> None:
    assert verify_code(ITEM, signature, {address_of(OTHER_KEY): "other"}).status is SignatureStatus.UNKNOWN_ISSUER


def _flip_last_character(signature: str) -> str:
    return signature[:-1] + ("A" if signature[-1] != "A" else "Q")


@pytest.mark.parametrize(
    "malformed",
    [
        "",
        "abc",
        "A" * (SIGNATURE_TEXT_LENGTH - 1),
        "A" * (SIGNATURE_TEXT_LENGTH + 1),
        "+" * SIGNATURE_TEXT_LENGTH,
        "=" * SIGNATURE_TEXT_LENGTH,
        "A" * SIGNATURE_TEXT_LENGTH,  # r = 0
        "_" * SIGNATURE_TEXT_LENGTH,  # r and s above the curve order
    ],
    ids=["empty", "short", "85", "87", "plus", "padding", "zero", "all-ones"],
)
def test_a_malformed_signature_is_refused_with_invalid_signature(malformed: str) -> None:
    with pytest.raises(InvalidSignature):
        verify_code(ITEM, malformed, ISSUERS)
    with pytest.raises(InvalidSignature):
        recover_issuer(ITEM, malformed)


def test_a_non_canonical_base64_form_of_a_valid_signature_is_refused(signature: str) -> None:
    """86 characters carry 516 bits for 512: the spare low bits must be zero, so each signature has one text."""
    raw = base64.urlsafe_b64decode(signature + "==")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    twin = signature[:-1] + alphabet[last | 1]
    assert base64.urlsafe_b64decode(twin + "==") == raw
    with pytest.raises(InvalidSignature, match="canonical"):
        verify_code(ITEM, twin, ISSUERS)


def test_the_high_s_twin_of_a_signature_is_not_a_second_valid_form(signature: str) -> None:
    """ECDSA's mirrored (r, n - s) also verifies; EIP-2098 has no room for it (the top bit of s is the parity),
    so writing it yields another signature that recovers to someone else."""
    r, s, y_parity = _compact_parts(signature)
    twin = _compact_text(r, (CURVE_ORDER - s) & ((1 << 255) - 1), 1 - y_parity)
    check = verify_code(ITEM, twin, ISSUERS)
    assert check.status is SignatureStatus.UNKNOWN_ISSUER
    assert check.signer != ISSUER


def test_a_signature_whose_r_is_not_on_the_curve_is_a_bad_signature(signature: str) -> None:
    raw = bytearray(base64.urlsafe_b64decode(signature + "=="))
    for candidate in range(1, 64):  # about half of all x values are not on secp256k1; find one
        raw[:32] = candidate.to_bytes(32, "big")
        text = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
        try:
            recover_issuer(ITEM, text)
        except InvalidSignature:
            break
    else:
        pytest.fail("no x coordinate off the curve found")
    assert verify_code(ITEM, text, ISSUERS).status is SignatureStatus.BAD_SIGNATURE


def test_only_issued_code_kinds_are_signed() -> None:
    signer = CodeSigner(ISSUER_KEY)
    with pytest.raises(InvalidDigitalLink, match="product"):
        signer.sign(DigitalLink(gtin=GTIN))
    with pytest.raises(InvalidDigitalLink, match="no lot"):
        signer.sign(DigitalLink(gtin=GTIN, serial="K7QX2M4RZ8TA"))
    for link in (DigitalLink(gtin=GTIN, lot="L2026A"), DigitalLink(sscc="106141411234567897")):
        assert recover_issuer(link, signer.sign(link)) == ISSUER


def test_a_lot_that_spells_a_serial_does_not_share_a_signature_with_the_item() -> None:
    """Element strings would collide here: (01)…(10)A(21)B names both codes. The signed path does not."""
    batch = DigitalLink(gtin=GTIN, lot="A(21)B")
    item = DigitalLink(gtin=GTIN, lot="A", serial="B")
    assert batch.element_string() == item.element_string()
    assert code_digest(batch) != code_digest(item)
    assert verify_code(item, CodeSigner(ISSUER_KEY).sign(batch), ISSUERS).status is SignatureStatus.UNKNOWN_ISSUER


def test_the_code_domain_prefix_keeps_code_signatures_apart_from_personal_sign() -> None:
    """A personal_sign of the same path (what a wallet would sign) is not a code signature."""
    message = encode_defunct(text="lotline-code/v1:" + ITEM.path)
    personal = Account.sign_message(message, ISSUER_KEY)
    assert personal.message_hash != code_digest(ITEM)


def test_signed_uri_and_split_signed_round_trip(signature: str) -> None:
    uri = signed_uri(ITEM, BASE, signature)
    assert uri == f"{BASE}/01/{GTIN}/10/L2026A/21/K7QX2M4RZ8TA?s={signature}"
    assert split_signed(uri) == (ITEM, signature)
    assert split_signed(f"{BASE}/01/{GTIN}/10/L2026A/21/K7QX2M4RZ8TA?17=270630&s={signature}&linkType=gs1:pip") == (
        ITEM,
        signature,
    )
    assert split_signed(ITEM.uri(BASE)) == (ITEM, None)


def test_split_signed_refuses_two_signatures(signature: str) -> None:
    with pytest.raises(InvalidSignature, match="more than one"):
        split_signed(f"{signed_uri(ITEM, BASE, signature)}&s={signature}")


def test_signed_uri_refuses_a_malformed_signature() -> None:
    with pytest.raises(InvalidSignature):
        signed_uri(ITEM, BASE, "not-a-signature")


@given(
    lot=st.text(alphabet=sorted(CSET_82), min_size=1, max_size=20),
    serial=st.text(alphabet=sorted(CSET_82), min_size=1, max_size=20),
)
def test_any_valid_item_survives_the_signed_uri_round_trip(lot: str, serial: str) -> None:
    link = DigitalLink(gtin=GTIN, lot=lot, serial=serial)
    signature = CodeSigner(ISSUER_KEY).sign(link)
    parsed, carried = split_signed(signed_uri(link, BASE, signature))
    assert parsed == link
    assert carried is not None
    assert verify_code(parsed, carried, ISSUERS).valid


def test_sign_many_equals_signing_one_by_one_inline_and_in_worker_processes() -> None:
    key = generate_private_key()
    signer = CodeSigner(key)
    serials = new_serials(POOL_THRESHOLD + 5)
    links = [DigitalLink(gtin=GTIN, lot="L2026A", serial=serial) for serial in serials]
    one_by_one = [signer.sign(link) for link in links]
    assert sign_many(key, links[:50], workers=2) == one_by_one[:50]  # below the threshold: inline
    assert sign_many(key, links, workers=2) == one_by_one  # a worker pool, order kept across chunks
    assert sign_item_serials(key, GTIN, "L2026A", serials, workers=2) == one_by_one
    assert sign_item_serials(key, GTIN, "L2026A", serials[:7], workers=1) == one_by_one[:7]


def test_an_expected_issuer_that_is_not_an_address_is_refused(signature: str) -> None:
    with pytest.raises(InvalidInput, match="expected issuer"):
        verify_code(ITEM, signature, ISSUERS, expected_issuer="0x1234")
