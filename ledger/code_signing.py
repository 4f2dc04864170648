"""Issuer signatures on item codes, so that a forged code is recognised offline (docs/identifiers.md).

A code is signed by the secp256k1 key of the organisation that issued it (its chain address), and the signature
travels in the QR code itself, as the Digital Link query attribute ``s``:

    https://trace.example.cn/01/09506000134352/10/L2026A/21/K7QX2M4RZ8TA?s=<86 characters>

Choices, and why:

* **What is signed**: ``keccak256("lotline-code/v1:" + link.path)`` where ``path`` is the percent-encoded
  Digital Link path (``/01/{gtin14}/10/{lot}/21/{serial}``). The path rather than the GS1 element string
  ``(01)…(10)…(21)…``: AI values may contain ``(`` and ``)`` (GS1 character set 82), so the element string of
  lot ``A(21)B`` equals that of lot ``A`` with serial ``B`` and one signature would vouch for both. In the path
  every separator inside a value is percent-encoded, so two different codes never share a message. The
  resolver host is not signed: a code stays genuine when the network moves to another domain. The prefix
  ``lotline-code/v1:`` keeps these signatures apart from any other message signed with the same key (events
  are EIP-712 typed data, which begin with ``0x1901``).
* **Signature form**: EIP-2098 compact signatures, 64 bytes: ``r ‖ (yParity << 255 | s)``. Ethereum signatures
  are low-s, so the top bit of ``s`` is free to carry the recovery bit; OpenZeppelin's
  ``ECDSA.recover(hash, r, vs)`` takes this form on chain. It is one base64url character shorter than the
  65-byte ``r ‖ s ‖ v`` (86 against 87), and every byte counts in a QR code.
* **Text form**: base64url without padding (RFC 4648 §5): its alphabet is unreserved in URIs, so the value is
  never percent-encoded, and it is GS1 character set 64. The canonical encoding is required (the last
  character's unused bits are zero), so a signature has exactly one text form.
* **Where it goes**: the GS1 Digital Link URI syntax (1.2 grammar, ``extensionParameter``) lets any query
  parameter whose key is not all digits ride along; all-digit keys are GS1 Application Identifiers and
  resolvers ignore the others. GS1 AI 8030 (DigSig) was not used: its value is an ISO/IEC 20248 DigSig
  structure (certificate id, data description), not a bare signature.
* **Recoverable signatures**: the verifier recovers the signer's address and looks it up in the set of known
  issuers, so the QR carries no issuer id. The price: a code whose data was altered recovers to some unrelated
  address, which looks the same as a code signed by a stranger's key. Both are forged; when the verifier
  knows who should have issued the code (the ledger does), ``expected_issuer`` tells the two apart.

Signing costs ≈45 µs per code on one core (libsecp256k1 via coincurve); :func:`sign_item_serials` and
:func:`sign_many` spread large runs over worker processes.
"""

from __future__ import annotations

import base64
import multiprocessing
from collections.abc import Iterable, Mapping, Sequence, Set
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Final
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from coincurve import PrivateKey, PublicKey
from eth_utils.address import to_checksum_address

from ledger.errors import InvalidDigitalLink, InvalidInput, InvalidSignature
from ledger.identifiers import CodeKind, DigitalLink, parse_digital_link, validate_serial
from ledger.merkle import keccak256

SIGNATURE_PARAM: Final = "s"
SIGNATURE_TEXT_LENGTH: Final = 86
_DOMAIN_PREFIX: Final = b"lotline-code/v1:"
_COMPACT_SIZE: Final = 64
_CURVE_ORDER: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_ORDER: Final = _CURVE_ORDER // 2
_Y_PARITY_BIT: Final = 1 << 255
_BASE64URL: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
# Below this many codes, starting worker processes (≈0.3 s: each imports coincurve and the identifiers) costs
# more than it saves.
POOL_THRESHOLD: Final = 20_000
_CHUNK: Final = 10_000
_SIGNABLE_KINDS: Final = (CodeKind.ITEM, CodeKind.BATCH, CodeKind.SSCC)


class SignatureStatus(StrEnum):
    VALID = "valid"
    BAD_SIGNATURE = "bad_signature"  # does not recover, or recovers to someone other than the expected issuer
    UNKNOWN_ISSUER = "unknown_issuer"  # recovers to an address outside the issuer set (or the code was altered)


@dataclass(frozen=True, slots=True)
class CodeCheck:
    status: SignatureStatus
    signer: str | None = None  # the recovered address, when the signature recovers at all
    issuer_name: str | None = None

    @property
    def valid(self) -> bool:
        return self.status is SignatureStatus.VALID


def signing_path(link: DigitalLink) -> str:
    """The part of a code that is signed; refuses codes lotline does not issue (a bare GTIN, an item without lot)."""
    if link.kind not in _SIGNABLE_KINDS:
        raise InvalidDigitalLink(
            f"{link.element_string()} names a product, not an issued code: only items, batches and SSCCs are signed",
            kind=str(link.kind),
        )
    if link.kind is CodeKind.ITEM and link.lot is None:
        raise InvalidDigitalLink(
            f"{link.element_string()} has no lot: item codes lotline issues carry GTIN, lot and serial",
            kind=str(link.kind),
        )
    return link.path


def code_digest(link: DigitalLink) -> bytes:
    """The 32 bytes an issuer signs for ``link``."""
    return _digest_of_path(signing_path(link))


def _digest_of_path(path: str) -> bytes:
    return keccak256(_DOMAIN_PREFIX + path.encode("ascii"))


def _encode(recoverable: bytes) -> str:
    """coincurve's ``r ‖ s ‖ recid`` (low s, recid 0 or 1) as EIP-2098 compact base64url text."""
    vs = recoverable[32:64]
    if recoverable[64]:
        vs = bytes([vs[0] | 0x80]) + vs[1:]
    return base64.urlsafe_b64encode(recoverable[:32] + vs).decode("ascii").rstrip("=")


def decode_signature(text: str) -> bytes:
    """Signature text → ``r ‖ s ‖ recid`` for libsecp256k1; anything but the one canonical form is refused."""
    if not isinstance(text, str) or len(text) != SIGNATURE_TEXT_LENGTH or not _BASE64URL.issuperset(text):
        raise InvalidSignature(
            f"a code signature is {SIGNATURE_TEXT_LENGTH} base64url characters (A-Z a-z 0-9 - _)",
            signature=repr(text)[:100],
        )
    raw = base64.urlsafe_b64decode(text + "==")  # cannot fail: 86 characters of the alphabet are 64 bytes
    if _encode_compact(raw) != text:
        raise InvalidSignature("the code signature is not in canonical base64url (stray low bits)", signature=text)
    r = int.from_bytes(raw[:32], "big")
    vs = int.from_bytes(raw[32:], "big")
    s = vs & ~_Y_PARITY_BIT
    if not 0 < r < _CURVE_ORDER or not 0 < s <= _HALF_ORDER:
        raise InvalidSignature("the code signature's r or s is out of range", signature=text)
    return raw[:32] + s.to_bytes(32, "big") + bytes([vs >> 255])


def _encode_compact(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _checksummed(address: str) -> str:
    try:
        return to_checksum_address(address)
    except ValueError as exc:
        raise InvalidInput("the expected issuer is not an address", address=repr(address)[:80]) from exc


def _address_of(public_key: PublicKey) -> str:
    return to_checksum_address(keccak256(public_key.format(compressed=False)[1:])[-20:])


class CodeSigner:
    """One issuer's key, loaded once (deriving the public key costs as much as a signature)."""

    __slots__ = ("_key", "address")

    def __init__(self, private_key: bytes) -> None:
        if not isinstance(private_key, bytes) or len(private_key) != 32:
            raise InvalidInput("not a secp256k1 private key (32 bytes)")
        try:
            self._key = PrivateKey(private_key)
        except ValueError as exc:  # zero, or not below the curve order
            raise InvalidInput("not a secp256k1 private key (between 1 and the curve order)") from exc
        self.address: str = _address_of(self._key.public_key)

    def sign(self, link: DigitalLink) -> str:
        return self.sign_path(signing_path(link))

    def sign_path(self, path: str) -> str:
        """Sign an already validated signing path (what :func:`signing_path` returns)."""
        # libsecp256k1 signs deterministically (RFC 6979) and always with low s, as EIP-2098 needs.
        return _encode(self._key.sign_recoverable(_digest_of_path(path), hasher=None))


def recover_issuer(link: DigitalLink, signature: str) -> str:
    """The checksummed address whose key made ``signature`` over ``link``."""
    raw = decode_signature(signature)
    try:
        public_key = PublicKey.from_signature_and_message(raw, code_digest(link), hasher=None)
    except ValueError as exc:  # r is not the x-coordinate of a curve point
        raise InvalidSignature("no public key matches this code signature", signature=signature) from exc
    return _address_of(public_key)


def verify_code(
    link: DigitalLink,
    signature: str,
    issuers: Mapping[str, str] | Set[str],
    *,
    expected_issuer: str | None = None,
) -> CodeCheck:
    """Check ``signature`` on ``link`` against known issuers (checksummed addresses, optionally with names).

    A malformed signature raises :class:`InvalidSignature`; a well-formed one that is wrong is reported in the
    result. ``expected_issuer`` is who issued the code according to the ledger, when the caller knows.
    """
    raw = decode_signature(signature)
    try:
        public_key = PublicKey.from_signature_and_message(raw, code_digest(link), hasher=None)
    except ValueError:
        return CodeCheck(SignatureStatus.BAD_SIGNATURE)
    signer = _address_of(public_key)
    if expected_issuer is not None and signer != _checksummed(expected_issuer):
        return CodeCheck(SignatureStatus.BAD_SIGNATURE, signer)
    if signer not in issuers:
        return CodeCheck(SignatureStatus.UNKNOWN_ISSUER, signer)
    name = issuers.get(signer) if isinstance(issuers, Mapping) else None
    return CodeCheck(SignatureStatus.VALID, signer, name)


def signed_uri(link: DigitalLink, base_url: str, signature: str) -> str:
    """The QR content: ``link`` on the resolver ``base_url`` with its signature as the ``s`` attribute."""
    decode_signature(signature)
    return f"{link.uri(base_url)}?{SIGNATURE_PARAM}={signature}"


def split_signed(uri: str) -> tuple[DigitalLink, str | None]:
    """A scanned Digital Link and its signature text (None when it carries none).

    The signature is returned as found (check it with :func:`verify_code`); other query attributes are left to
    the Digital Link parser, which ignores them. Two ``s`` parameters are refused: which one would count?
    """
    parts = urlsplit(uri.strip())
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    signatures = [value for key, value in pairs if key == SIGNATURE_PARAM]
    if len(signatures) > 1:
        raise InvalidSignature("the code carries more than one signature", code=uri)
    rest = urlencode([(key, value) for key, value in pairs if key != SIGNATURE_PARAM])
    link = parse_digital_link(urlunsplit((parts.scheme, parts.netloc, parts.path, rest, "")))
    return link, signatures[0] if signatures else None


_worker_signer: CodeSigner | None = None


def _start_worker(private_key: bytes) -> None:
    global _worker_signer  # one signer per worker process, its key loaded once
    _worker_signer = CodeSigner(private_key)


def _sign_chunk(paths: Sequence[str]) -> list[str]:
    assert _worker_signer is not None, "the worker was started without its key"
    sign = _worker_signer.sign_path
    return [sign(path) for path in paths]


def sign_paths(private_key: bytes, paths: Sequence[str], *, workers: int = 2) -> list[str]:
    """Sign validated signing paths in order, on ``workers`` processes when the run is large enough."""
    signer = CodeSigner(private_key)
    if workers <= 1 or len(paths) < POOL_THRESHOLD:
        return [signer.sign_path(path) for path in paths]
    chunks = [paths[start : start + _CHUNK] for start in range(0, len(paths), _CHUNK)]
    # forkserver, not fork: the caller may hold threads (a web server, a database pool) whose locks a forked
    # child would inherit in whatever state they were.
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker, initargs=(private_key,)) as pool:
        return [signature for chunk in pool.map(_sign_chunk, chunks) for signature in chunk]


def sign_many(private_key: bytes, links: Iterable[DigitalLink], *, workers: int = 2) -> list[str]:
    """Signatures of ``links``, in order; equal to ``CodeSigner(private_key).sign`` on each."""
    return sign_paths(private_key, [signing_path(link) for link in links], workers=workers)


def sign_item_serials(
    private_key: bytes, gtin: str, lot: str, serials: Sequence[str], *, workers: int = 2
) -> list[str]:
    """Signatures of the item codes ``gtin``/``lot``/``serial`` for each serial, in order.

    The fast path for issuing a run: the GTIN and lot are validated once and each path is the batch path plus
    the serial, instead of building a :class:`DigitalLink` per code (≈25 µs each, half the cost of signing).
    """
    prefix = DigitalLink(gtin=gtin, lot=lot).path + "/21/"
    paths = [prefix + quote(validate_serial(serial), safe="") for serial in serials]
    return sign_paths(private_key, paths, workers=workers)
