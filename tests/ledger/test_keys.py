"""Organisation keys at rest and API tokens."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eth_account import Account
from hypothesis import given
from hypothesis import strategies as st

from ledger.errors import InvalidInput
from ledger.keys import (
    KeyVault,
    address_of,
    generate_private_key,
    hash_token,
    new_token,
    tokens_equal,
)

CURVE_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECRET = "test-master-secret-0123456789abcdef"
KEY = bytes.fromhex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
USCC = "91330100MA27XL0X1A"
OTHER_USCC = "91330106MA2B2XXX8H"
UNDECRYPTABLE = "organisation key could not be decrypted"


def rfc5869_hkdf_sha256(ikm: bytes, salt: bytes, info: bytes, length: int) -> bytes:
    """HKDF written out from RFC 5869 with the standard library, independent of `cryptography`."""
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm, counter = okm + block, counter + 1
    return okm[:length]


# --- private keys and addresses ----------------------------------------------------------------------------------
def test_generated_keys_are_valid_distinct_and_32_bytes() -> None:
    keys = {generate_private_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(len(key) == 32 and 0 < int.from_bytes(key, "big") < CURVE_ORDER for key in keys)


@given(st.integers(1, CURVE_ORDER - 1).map(lambda k: k.to_bytes(32, "big")))
def test_address_of_is_the_checksummed_address_eth_account_derives(key: bytes) -> None:
    assert address_of(key) == Account.from_key(key).address


@pytest.mark.parametrize("key", [bytes(32), CURVE_ORDER.to_bytes(32, "big"), KEY[:16]], ids=["zero", "n", "short"])
def test_address_of_refuses_what_is_not_a_private_key(key: bytes) -> None:
    with pytest.raises(InvalidInput, match="private key"):
        address_of(key)


# --- the vault ---------------------------------------------------------------------------------------------------
def test_a_sealed_key_opens_with_the_same_secret_and_organisation() -> None:
    vault = KeyVault(SECRET)
    assert vault.decrypt(vault.encrypt(KEY, org_ref=USCC), org_ref=USCC) == KEY
    assert KeyVault(SECRET).decrypt(vault.encrypt(KEY, org_ref=USCC), org_ref=USCC) == KEY


def test_sealing_the_same_key_twice_gives_unrelated_blobs_without_the_key_in_them() -> None:
    vault = KeyVault(SECRET)
    first, second = vault.encrypt(KEY, org_ref=USCC), vault.encrypt(KEY, org_ref=USCC)
    assert first != second
    assert KEY not in first
    assert KEY not in second


def test_the_blob_is_version_nonce_and_aes_gcm_under_hkdf_of_the_master_secret() -> None:
    # Written out independently so the format can be read without this code (key recovery, another service).
    blob = KeyVault(SECRET).encrypt(KEY, org_ref=USCC)
    aes_key = rfc5869_hkdf_sha256(
        SECRET.encode(), b"lotline/key-vault", b"organisation secp256k1 key, AES-256-GCM, v1", 32
    )
    assert len(blob) == 1 + 12 + 32 + 16
    assert blob[0] == 1
    assert AESGCM(aes_key).decrypt(blob[1:13], blob[13:], b"\x01" + USCC.encode()) == KEY


def test_a_wrong_master_secret_cannot_open_the_key() -> None:
    blob = KeyVault(SECRET).encrypt(KEY, org_ref=USCC)
    with pytest.raises(InvalidInput, match=UNDECRYPTABLE):
        KeyVault(SECRET + "x").decrypt(blob, org_ref=USCC)


def test_a_blob_copied_to_another_organisations_row_cannot_be_opened() -> None:
    vault = KeyVault(SECRET)
    blob = vault.encrypt(KEY, org_ref=USCC)
    with pytest.raises(InvalidInput, match=UNDECRYPTABLE) as caught:
        vault.decrypt(blob, org_ref=OTHER_USCC)
    assert caught.value.context == {"org_ref": OTHER_USCC}


@given(st.data())
def test_any_single_bit_flip_in_the_blob_is_detected(data: st.DataObject) -> None:
    vault = KeyVault(SECRET)
    blob = bytearray(vault.encrypt(KEY, org_ref=USCC))
    position = data.draw(st.integers(0, len(blob) - 1), label="byte")
    blob[position] ^= 1 << data.draw(st.integers(0, 7), label="bit")
    with pytest.raises(InvalidInput, match=UNDECRYPTABLE):
        vault.decrypt(bytes(blob), org_ref=USCC)


@pytest.mark.parametrize("cut", [slice(0, 0), slice(0, 12), slice(0, -1), slice(1, None)])
def test_a_truncated_or_empty_blob_is_refused(cut: slice) -> None:
    vault = KeyVault(SECRET)
    with pytest.raises(InvalidInput, match=UNDECRYPTABLE):
        vault.decrypt(vault.encrypt(KEY, org_ref=USCC)[cut], org_ref=USCC)


def test_a_lengthened_blob_is_refused() -> None:
    vault = KeyVault(SECRET)
    with pytest.raises(InvalidInput, match=UNDECRYPTABLE):
        vault.decrypt(vault.encrypt(KEY, org_ref=USCC) + b"\x00", org_ref=USCC)


@pytest.mark.parametrize("key", [b"", KEY[:31], KEY + b"\x00"])
def test_only_32_byte_keys_are_sealed(key: bytes) -> None:
    with pytest.raises(InvalidInput, match="32 bytes"):
        KeyVault(SECRET).encrypt(key, org_ref=USCC)


def test_a_vault_without_a_master_secret_cannot_be_made() -> None:
    with pytest.raises(ValueError, match="master secret"):
        KeyVault("")


# --- API tokens --------------------------------------------------------------------------------------------------
def test_new_tokens_are_prefixed_url_safe_and_distinct() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100
    for token in tokens:
        assert token.startswith("ll_")
        assert len(token) == 3 + 43  # 32 random bytes in unpadded base64url
        assert set(token[3:]) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_a_token_is_stored_as_its_sha256_hex() -> None:
    assert hash_token("ll_abc") == hashlib.sha256(b"ll_abc").hexdigest()
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_the_stored_hash_does_not_contain_the_token() -> None:
    token = new_token()
    assert token not in hash_token(token)
    assert hash_token(token) != hash_token(new_token())


@given(st.text(), st.text())
def test_tokens_equal_agrees_with_equality(a: str, b: str) -> None:
    assert tokens_equal(a, b) is (a == b)
    assert tokens_equal(a, a)
