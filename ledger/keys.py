"""Organisation keys kept encrypted at rest, and API tokens kept hashed.

A stolen database must yield neither a signing key nor a usable token: keys are sealed with AES-256-GCM under a
key derived from the server's master secret (which lives in the environment, not in the database), and tokens
are stored as SHA-256 hashes. A token is 256 random bits, so a fast unsalted hash is enough: there is no
dictionary to try, and the hash can be looked up by equality in one indexed query.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ledger.errors import InvalidInput
from ledger.signing import EventSigner

PRIVATE_KEY_SIZE: Final = 32
TOKEN_PREFIX: Final = "ll_"  # noqa: S105  (a public marker, not a secret)
_CURVE_ORDER: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

# Blob layout: version (1) ‖ nonce (12) ‖ AES-GCM ciphertext with its tag (32 + 16). The version byte lets a
# later format (another cipher, a rotated master secret) sit beside this one in the same column.
_VERSION: Final = 1
_NONCE_SIZE: Final = 12
_BLOB_SIZE: Final = 1 + _NONCE_SIZE + PRIVATE_KEY_SIZE + 16
_HKDF_SALT: Final = b"lotline/key-vault"
_HKDF_INFO: Final = b"organisation secp256k1 key, AES-256-GCM, v1"


def generate_private_key() -> bytes:
    """A new secp256k1 private key from the OS CSPRNG."""
    while True:
        candidate = secrets.token_bytes(PRIVATE_KEY_SIZE)
        # Rejection, not reduction modulo the order, keeps the key uniform; a retry happens with odds ~2^-128.
        if 0 < int.from_bytes(candidate, "big") < _CURVE_ORDER:
            return candidate


def address_of(private_key: bytes) -> str:
    """The checksummed chain address of ``private_key``."""
    return EventSigner(private_key).address


class KeyVault:
    """Seals organisations' private keys for storage, each bound to its organisation.

    ``org_ref`` (the organisation's USCC) is authenticated with the ciphertext, so a blob copied into another
    organisation's row does not decrypt: a database writer cannot make one organisation sign with another's key.
    """

    __slots__ = ("_aead",)

    def __init__(self, master_secret: str) -> None:
        if not master_secret:
            raise ValueError("the key vault needs a master secret")
        # HKDF rather than hashing the secret directly: it separates this use of the master secret from any other
        # (the info string) and turns a passphrase-shaped secret into a uniform AES key.
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
            master_secret.encode()
        )
        self._aead = AESGCM(key)

    def encrypt(self, private_key: bytes, *, org_ref: str) -> bytes:
        if not isinstance(private_key, bytes) or len(private_key) != PRIVATE_KEY_SIZE:
            raise InvalidInput(f"an organisation key is {PRIVATE_KEY_SIZE} bytes", org_ref=org_ref)
        # A random 96-bit nonce per blob: keys are sealed rarely (once per organisation, or on rotation), far
        # below the ~2^32 messages per key at which random GCM nonces start to risk a collision.
        nonce = secrets.token_bytes(_NONCE_SIZE)
        return bytes([_VERSION]) + nonce + self._aead.encrypt(nonce, private_key, _associated_data(org_ref))

    def decrypt(self, blob: bytes, *, org_ref: str) -> bytes:
        if len(blob) != _BLOB_SIZE or blob[0] != _VERSION:
            raise _undecryptable(org_ref, "the stored blob has an unknown format")
        nonce, sealed = blob[1 : 1 + _NONCE_SIZE], blob[1 + _NONCE_SIZE :]
        try:
            return self._aead.decrypt(nonce, sealed, _associated_data(org_ref))
        except InvalidTag:
            raise _undecryptable(org_ref, "wrong master secret, altered blob or another organisation's blob") from None


def _associated_data(org_ref: str) -> bytes:
    return bytes([_VERSION]) + org_ref.encode()


def _undecryptable(org_ref: str, why: str) -> InvalidInput:
    return InvalidInput(f"organisation key could not be decrypted: {why}", org_ref=org_ref)


def new_token() -> str:
    """A new API token: 256 random bits, URL-safe, prefixed so it is recognisable in logs and secret scanners."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """What is stored for a token: its SHA-256, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    """Compare two tokens (or token hashes) in time that does not depend on where they differ."""
    return hmac.compare_digest(a.encode(), b.encode())
