"""EIP-712 event signatures, cross-checked against eth-account (the reference wallets and web3 agree with)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from coincurve import PublicKey
from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils.crypto import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.errors import InvalidInput, InvalidSignature, SignatureExpired, SignatureReplayed, SignerMismatch
from ledger.signing import (
    ZERO_ADDRESS,
    EventSignature,
    EventSigner,
    SigningDomain,
    event_signing_hash,
    event_typed_data,
    recover_event_signer,
    sign_event,
    verify_event_signature,
)

CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
OTHER_KEY = bytes.fromhex("8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f")
DOMAIN = SigningDomain(chain_id=1337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3")
DIGEST = bytes.fromhex("9f4b4b1ea9c5ad9e2e2e3ab9f0f0a39b1b1fe2f8f0a6d1b2f3c4d5e6f7a8b9c0")
DEADLINE = 1_900_000_000
NOW = 1_800_000_000

private_keys = st.integers(1, CURVE_ORDER - 1).map(lambda k: k.to_bytes(32, "big"))
uint256 = st.integers(0, 2**256 - 1)
addresses = st.binary(min_size=20, max_size=20).map(lambda raw: "0x" + raw.hex())
domains = st.builds(SigningDomain, chain_id=st.integers(1, 2**256 - 1), verifying_contract=addresses)


def reference_message(digest: bytes, sig: EventSignature, domain: SigningDomain) -> SignableMessage:
    return encode_typed_data(
        full_message=event_typed_data(digest, signer=sig.signer, nonce=sig.nonce, deadline=sig.deadline, domain=domain)
    )


def signed(nonce: int = 7, deadline: int = DEADLINE, digest: bytes = DIGEST) -> EventSignature:
    return sign_event(KEY, digest, nonce=nonce, deadline=deadline, domain=DOMAIN)


# --- agreement with eth-account -----------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(private_keys, st.binary(min_size=32, max_size=32), uint256, uint256, domains)
def test_signed_hash_signature_and_signer_equal_eth_accounts(
    key: bytes, digest: bytes, nonce: int, deadline: int, domain: SigningDomain
) -> None:
    sig = sign_event(key, digest, nonce=nonce, deadline=deadline, domain=domain)
    message = reference_message(digest, sig, domain)
    account = Account.from_key(key)

    assert sig.signer == account.address
    # EIP-191 version 0x01: header = domain separator, body = struct hash, signed hash = keccak of all three.
    assert message.header == domain.separator
    assert event_signing_hash(digest, signer=sig.signer, nonce=nonce, deadline=deadline, domain=domain) == keccak(
        b"\x19" + message.version + message.header + message.body
    )
    # Both sign deterministically (RFC 6979) with low s, so the bytes themselves must match.
    assert sig.signature == bytes(account.sign_message(message).signature)
    assert Account.recover_message(message, signature=sig.signature) == account.address
    assert recover_event_signer(digest, sig, domain) == account.address


def test_a_loaded_signer_signs_exactly_what_sign_event_signs() -> None:
    signer = EventSigner(KEY)
    assert signer.address == Account.from_key(KEY).address
    assert signer.sign(DIGEST, nonce=7, deadline=DEADLINE, domain=DOMAIN) == signed()


def test_domain_defaults_to_lotline_version_1_and_the_zero_contract() -> None:
    domain = SigningDomain(chain_id=1)
    assert (domain.name, domain.version, domain.verifying_contract) == ("lotline", "1", ZERO_ADDRESS)
    data = event_typed_data(DIGEST, signer=ZERO_ADDRESS, nonce=0, deadline=0, domain=domain)
    assert data["domain"] == {
        "name": "lotline",
        "version": "1",
        "chainId": 1,
        "verifyingContract": ZERO_ADDRESS,
    }
    assert data["primaryType"] == "LotlineEvent"


# --- verify: acceptance -------------------------------------------------------------------------------------
def test_a_fresh_signature_is_accepted_as_first_and_as_next_nonce() -> None:
    sig = signed(nonce=7)
    address = Account.from_key(KEY).address
    verify_event_signature(DIGEST, sig, DOMAIN, expected_signer=address, last_nonce=None, now=NOW)
    verify_event_signature(DIGEST, sig, DOMAIN, expected_signer=address.lower(), last_nonce=6, now=NOW)


def test_a_signature_is_still_valid_at_its_deadline_second() -> None:
    sig = signed(deadline=NOW)
    verify_event_signature(DIGEST, sig, DOMAIN, expected_signer=sig.signer, last_nonce=None, now=NOW)


# --- verify: refusals ---------------------------------------------------------------------------------------
def test_a_signature_by_another_organisation_is_a_signer_mismatch() -> None:
    with pytest.raises(SignerMismatch) as caught:
        verify_event_signature(
            DIGEST, signed(), DOMAIN, expected_signer=EventSigner(OTHER_KEY).address, last_nonce=None, now=NOW
        )
    assert caught.value.context["recovered"] == Account.from_key(KEY).address


def test_claiming_another_signer_on_a_genuine_signature_is_a_signer_mismatch() -> None:
    other = EventSigner(OTHER_KEY).address
    forged = dataclasses.replace(signed(), signer=other)
    with pytest.raises(SignerMismatch):
        verify_event_signature(DIGEST, forged, DOMAIN, expected_signer=other, last_nonce=None, now=NOW)


Moved = tuple[bytes, EventSignature, SigningDomain]
MOVES: dict[str, Callable[[EventSignature], Moved]] = {
    "other-digest": lambda sig: (bytes(32), sig, DOMAIN),
    "other-chain": lambda sig: (DIGEST, sig, dataclasses.replace(DOMAIN, chain_id=1338)),
    "other-contract": lambda sig: (DIGEST, sig, dataclasses.replace(DOMAIN, verifying_contract=ZERO_ADDRESS)),
    "raised-nonce": lambda sig: (DIGEST, dataclasses.replace(sig, nonce=sig.nonce + 1), DOMAIN),
    "extended-deadline": lambda sig: (DIGEST, dataclasses.replace(sig, deadline=sig.deadline + 3600), DOMAIN),
}


@pytest.mark.parametrize("move", MOVES.values(), ids=MOVES.keys())
def test_a_signature_moved_to_another_event_domain_nonce_or_deadline_is_a_signer_mismatch(
    move: Callable[[EventSignature], Moved],
) -> None:
    digest, sig, domain = move(signed())
    with pytest.raises(SignerMismatch):
        verify_event_signature(digest, sig, domain, expected_signer=sig.signer, last_nonce=None, now=NOW)


def test_a_signature_past_its_deadline_is_expired() -> None:
    sig = signed(deadline=NOW - 1)
    with pytest.raises(SignatureExpired):
        verify_event_signature(DIGEST, sig, DOMAIN, expected_signer=sig.signer, last_nonce=None, now=NOW)


@pytest.mark.parametrize("last_nonce", [7, 8, 1000])
def test_a_nonce_not_above_the_last_accepted_one_is_a_replay(last_nonce: int) -> None:
    sig = signed(nonce=7)
    with pytest.raises(SignatureReplayed):
        verify_event_signature(DIGEST, sig, DOMAIN, expected_signer=sig.signer, last_nonce=last_nonce, now=NOW)


def test_a_forged_signature_is_reported_as_forged_even_when_expired_and_replayed() -> None:
    sig = signed(nonce=1, deadline=NOW - 1)
    with pytest.raises(SignerMismatch):
        verify_event_signature(
            DIGEST, sig, DOMAIN, expected_signer=EventSigner(OTHER_KEY).address, last_nonce=5, now=NOW
        )


# --- malformed signatures -----------------------------------------------------------------------------------
def _with(sig: EventSignature, *, r: int | None = None, s: int | None = None, v: int | None = None) -> bytes:
    raw = sig.signature
    r_bytes = raw[:32] if r is None else r.to_bytes(32, "big")
    s_bytes = raw[32:64] if s is None else s.to_bytes(32, "big")
    return r_bytes + s_bytes + bytes([raw[64] if v is None else v])


def test_the_high_s_twin_of_a_signature_is_refused() -> None:
    sig = signed()
    s = int.from_bytes(sig.signature[32:64], "big")
    twin_v = 27 + (1 - (sig.signature[64] - 27))
    twin = _with(sig, s=CURVE_ORDER - s, v=twin_v)
    # The twin is a mathematically valid signature of the same hash by the same key: that is the malleability.
    signed_hash = event_signing_hash(DIGEST, signer=sig.signer, nonce=7, deadline=DEADLINE, domain=DOMAIN)
    twin_key = PublicKey.from_signature_and_message(twin[:64] + bytes([twin_v - 27]), signed_hash, hasher=None)
    assert twin_key == PublicKey.from_secret(KEY)
    with pytest.raises(InvalidSignature, match="high s"):
        dataclasses.replace(sig, signature=twin)


@pytest.mark.parametrize("v", [0, 1, 26, 29, 255])
def test_a_v_other_than_27_or_28_is_refused(v: int) -> None:
    with pytest.raises(InvalidSignature, match="v is neither"):
        dataclasses.replace(signed(), signature=_with(signed(), v=v))


@pytest.mark.parametrize(
    ("r", "s"),
    [(0, None), (CURVE_ORDER, None), (2**256 - 1, None), (None, 0)],
    ids=["r0", "rN", "rmax", "s0"],
)
def test_r_or_s_out_of_range_is_refused(r: int | None, s: int | None) -> None:
    with pytest.raises(InvalidSignature, match="out of range"):
        dataclasses.replace(signed(), signature=_with(signed(), r=r, s=s))


@pytest.mark.parametrize("size", [0, 64, 66])
def test_a_signature_of_the_wrong_length_is_refused(size: int) -> None:
    with pytest.raises(InvalidSignature, match="65 bytes"):
        dataclasses.replace(signed(), signature=(signed().signature * 2)[:size])


def test_an_r_that_is_no_curve_point_is_refused_on_recovery() -> None:
    # x = 5 is the smallest x for which x^3 + 7 has no square root modulo p: no point, no public key.
    sig = dataclasses.replace(signed(), signature=_with(signed(), r=5))
    with pytest.raises(InvalidSignature, match="no public key"):
        recover_event_signer(DIGEST, sig, DOMAIN)


@pytest.mark.parametrize("signer", ["0x1234", "not an address", "0x5fbDB2315678afecb367f032d93F642f64180aa3", 42])
def test_a_signer_that_is_not_an_address_or_has_a_bad_checksum_is_refused(signer: Any) -> None:
    with pytest.raises(InvalidSignature, match="not an address"):
        dataclasses.replace(signed(), signer=signer)


def test_a_lowercase_signer_is_stored_checksummed() -> None:
    sig = signed()
    assert dataclasses.replace(sig, signer=sig.signer.lower()).signer == sig.signer


@pytest.mark.parametrize("value", [-1, 2**256, True, 1.0])
def test_a_nonce_or_deadline_outside_uint256_is_refused(value: Any) -> None:
    with pytest.raises(InvalidSignature, match="nonce"):
        dataclasses.replace(signed(), nonce=value)
    with pytest.raises(InvalidSignature, match="deadline"):
        dataclasses.replace(signed(), deadline=value)


# --- bad input on the signing side --------------------------------------------------------------------------
@pytest.mark.parametrize("key", [bytes(32), CURVE_ORDER.to_bytes(32, "big"), KEY[:31]], ids=["zero", "order", "short"])
def test_an_invalid_private_key_is_refused(key: bytes) -> None:
    with pytest.raises(InvalidInput, match="private key"):
        sign_event(key, DIGEST, nonce=0, deadline=DEADLINE, domain=DOMAIN)


def test_a_digest_that_is_not_32_bytes_is_refused() -> None:
    with pytest.raises(InvalidInput, match="32 bytes"):
        sign_event(KEY, DIGEST[:31], nonce=0, deadline=DEADLINE, domain=DOMAIN)


@pytest.mark.parametrize("nonce", [-1, 2**256])
def test_signing_with_a_nonce_outside_uint256_is_refused(nonce: int) -> None:
    with pytest.raises(InvalidInput, match="256-bit"):
        sign_event(KEY, DIGEST, nonce=nonce, deadline=DEADLINE, domain=DOMAIN)


@pytest.mark.parametrize("chain_id", [0, -1, 2**256])
def test_a_domain_needs_a_positive_chain_id(chain_id: int) -> None:
    with pytest.raises(InvalidInput, match="chain id"):
        SigningDomain(chain_id=chain_id)


def test_a_domain_needs_a_contract_address_and_stores_it_checksummed() -> None:
    with pytest.raises(InvalidInput, match="verifying contract"):
        SigningDomain(chain_id=1, verifying_contract="0x1234")
    lower = SigningDomain(chain_id=1337, verifying_contract=DOMAIN.verifying_contract.lower())
    assert lower == DOMAIN


def test_an_expected_signer_that_is_not_an_address_is_refused() -> None:
    with pytest.raises(InvalidInput, match="expected signer"):
        verify_event_signature(DIGEST, signed(), DOMAIN, expected_signer="0x12", last_nonce=None, now=NOW)


def test_hashing_for_a_signer_that_is_not_an_address_is_refused() -> None:
    with pytest.raises(InvalidInput, match="20-byte"):
        event_signing_hash(DIGEST, signer="0xabc", nonce=0, deadline=0, domain=DOMAIN)
