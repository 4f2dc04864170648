"""Merkle trees and hash chains over event digests, built so the anchor contract can check them on chain.

Every construction here is mirrored by one line of Solidity; changing any of them breaks proofs that are
already anchored, so they are fixed:

* leaf — ``keccak256(bytes.concat(keccak256(abi.encode(digest))))``: OpenZeppelin's double-hashed leaf. A
  leaf (32 bytes hashed twice) can never be confused with an internal node (64 bytes hashed once), which
  closes the second-preimage attack on trees whose leaves are 64 bytes long.
* node — ``Hashes.commutativeKeccak256(a, b)``: the smaller 32-byte word first. Proofs then carry no
  left/right flags, which is what ``MerkleProof.verify(proof, root, leaf)`` expects.
* layout — leaves in the given order, paired left to right layer by layer; the odd node at the end of a layer
  moves up unchanged. That is the tree of RFC 6962 (split at the largest power of two below ``n``), so proofs
  are at most ``ceil(log2 n)`` long and the last events of a batch do not get longer proofs than the others.
* per-batch chain — ``head_n = keccak256(abi.encodePacked(head_{n-1}, digest_n))`` from 32 zero bytes; the
  chain fixes the order of a batch's events, which a Merkle root alone does not make checkable per batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from sha3 import keccak_256  # C Keccak, ~5x faster here than pycryptodome's (cffi)

from ledger.errors import InvalidGTIN, InvalidInput, InvalidLot

DIGEST_SIZE: Final = 32
ZERO_HEAD: Final = bytes(DIGEST_SIZE)
_MAX_LOT_LENGTH: Final = 20


def keccak256(data: bytes) -> bytes:
    """Ethereum's Keccak-256 (the pre-standard padding, not SHA3-256 from hashlib)."""
    digest: bytes = keccak_256(data).digest()
    return digest


def _require_digest(digest: bytes, what: str = "event digest") -> None:
    if not isinstance(digest, bytes) or len(digest) != DIGEST_SIZE:
        raise InvalidInput(f"an {what} is exactly {DIGEST_SIZE} bytes", value=repr(digest)[:80])


def leaf_hash(digest: bytes) -> bytes:
    """The tree leaf of one event digest (``bytes32``)."""
    _require_digest(digest)
    return keccak256(keccak256(digest))


def _node(a: bytes, b: bytes) -> bytes:
    return keccak256(a + b if a < b else b + a)


class MerkleTree:
    """An immutable tree over event digests; build it with :meth:`build`.

    ``layers[0]`` holds the leaf hashes and ``layers[-1]`` the root alone. All layers are kept so that every
    proof is a walk of ``log2 n`` list look-ups: anchoring asks for the proof of each event in the batch.
    """

    __slots__ = ("_layers",)

    def __init__(self, layers: tuple[tuple[bytes, ...], ...]) -> None:
        self._layers = layers

    @classmethod
    def build(cls, digests: Sequence[bytes]) -> MerkleTree:
        """Build the tree over ``digests`` in their given order (an event's index is its position here)."""
        if not digests:
            raise InvalidInput("a Merkle tree needs at least one event digest")
        for digest in digests:
            _require_digest(digest)
        # The hashing loops are inlined rather than calling leaf_hash/_node: on 100k-leaf batches the function
        # calls cost as much as the hashing.
        layer = tuple([keccak_256(keccak_256(d).digest()).digest() for d in digests])
        layers = [layer]
        while len(layer) > 1:
            nxt = [
                keccak_256(a + b if a < b else b + a).digest() for a, b in zip(layer[0::2], layer[1::2], strict=False)
            ]
            if len(layer) % 2:
                nxt.append(layer[-1])
            layer = tuple(nxt)
            layers.append(layer)
        return cls(tuple(layers))

    @property
    def root(self) -> bytes:
        return self._layers[-1][0]

    @property
    def leaves(self) -> tuple[bytes, ...]:
        """The leaf hashes (not the digests), in the order the digests were given."""
        return self._layers[0]

    def __len__(self) -> int:
        return len(self._layers[0])

    def proof(self, index: int) -> list[bytes]:
        """Sibling hashes from the leaf at ``index`` up to the root: ``proof`` of ``MerkleProof.verify``."""
        if not 0 <= index < len(self):
            raise IndexError(f"leaf index {index} is outside a tree of {len(self)} leaves")
        path = []
        for layer in self._layers:
            sibling = index ^ 1
            if sibling < len(layer):
                path.append(layer[sibling])
            index >>= 1
        return path


def proof_nodes(digest: bytes, proof: Iterable[bytes]) -> list[bytes]:
    """The hashes a proof walks through, from the event's leaf up to the root it leads to: what someone checking
    a proof by hand computes, one line per sibling (the proof page shows them)."""
    nodes = [leaf_hash(digest)]
    for sibling in proof:
        _require_digest(sibling, "proof node")
        nodes.append(_node(nodes[-1], sibling))
    return nodes


def verify_proof(digest: bytes, proof: Iterable[bytes], root: bytes) -> bool:
    """True when ``proof`` shows that ``digest`` is a leaf of the tree with ``root``.

    Proofs arrive from outside (the consumer page links them), so anything malformed is simply not a proof:
    this returns False rather than raising.
    """
    if not (isinstance(digest, bytes) and isinstance(root, bytes) and len(digest) == len(root) == DIGEST_SIZE):
        return False
    node = leaf_hash(digest)
    for sibling in proof:
        if not isinstance(sibling, bytes) or len(sibling) != DIGEST_SIZE:
            return False
        node = _node(node, sibling)
    return node == root


def chain_head(prev: bytes, digest: bytes) -> bytes:
    """The next head of a batch's event chain: ``keccak256(abi.encodePacked(prev, digest))``."""
    _require_digest(prev, "event chain head")
    _require_digest(digest)
    return keccak256(prev + digest)


def fold_heads(digests: Iterable[bytes], *, start: bytes = ZERO_HEAD) -> bytes:
    """The chain head after ``digests``, continuing from ``start`` (the batch's head already on chain)."""
    head = start
    for digest in digests:
        head = chain_head(head, digest)
    return head


def batch_key(gtin14: str, lot: str) -> bytes:
    """The batch's on-chain ``bytes32`` key: ``keccak256(bytes(string.concat("01", gtin, "10", lot)))``.

    The string is the GS1 element string of the batch. Its split is only unambiguous because the GTIN has a
    fixed length, so that is checked here; full identifier validation (check digit, GS1 character set) is the
    identifier module's job and happens before a batch exists.
    """
    if len(gtin14) != 14 or not gtin14.isascii() or not gtin14.isdigit():
        raise InvalidGTIN("a batch key needs a GTIN of exactly 14 digits", gtin=gtin14)
    if not 0 < len(lot) <= _MAX_LOT_LENGTH:
        raise InvalidLot(f"a lot number has 1 to {_MAX_LOT_LENGTH} characters", lot=lot)
    return keccak256(f"01{gtin14}10{lot}".encode())
