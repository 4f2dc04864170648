"""Merkle trees, proofs, hash chains and batch keys, checked against independent oracles.

The oracles use eth-utils' Keccak (pycryptodome underneath, not the C library ledger.merkle uses), eth-abi
and web3's ``solidity_keccak``, and define the tree recursively as RFC 6962 does, so a bug would have to be
made twice, in two different ways, to go unnoticed.

The FIXED_* constants are shared test vectors: the Solidity tests of the anchor contract use the same values.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from eth_abi.abi import encode as abi_encode
from eth_utils.crypto import keccak as eth_keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from web3 import Web3

from ledger.errors import InvalidGTIN, InvalidInput, InvalidLot
from ledger.merkle import (
    ZERO_HEAD,
    MerkleTree,
    batch_key,
    chain_head,
    fold_heads,
    keccak256,
    leaf_hash,
    verify_proof,
)

# --- shared test vectors (also in contracts/ tests) ---------------------------------------------------------
FIXED_DIGESTS = [bytes([i]) * 32 for i in range(1, 8)]  # 0x0101…01, 0x0202…02, … 0x0707…07
FIXED_LEAF_1 = bytes.fromhex("ce895d90d3a0ed5312ae8dcfff377010c4aa1b7e9f1fa69836a3802d014c313e")
FIXED_ROOTS = {  # root of the tree over FIXED_DIGESTS[:n]
    1: FIXED_LEAF_1,
    2: bytes.fromhex("c47aba36d45add76b43fb8cfe13e4a9ee53d408aadcf3351d97f1a0d95166d36"),
    3: bytes.fromhex("f77d538f6b32f657ef12d915dabb1fd678e5ed52ec05b5749f55eabfe958c16b"),
    4: bytes.fromhex("4469f373d51a67932bfae0fbb07d0e7214525854e88be31e6ec1f5f68017a254"),
    5: bytes.fromhex("860a0459d79032d92ef51856c140ad0a716c4c0620850f99fb2f588a60076547"),
    7: bytes.fromhex("4637e2a9e44a95a5e1850582d64de34c34a416ea84f00686a6de1aec23ce2f90"),
}
FIXED_PROOFS_OF_5 = {  # proofs in the 5-leaf tree; index 4 is the promoted odd leaf
    2: [
        bytes.fromhex("ab2d50f09b2cda9b97030b838937fefc0a7a0bebb429b3107e22a752c0390682"),
        bytes.fromhex("c47aba36d45add76b43fb8cfe13e4a9ee53d408aadcf3351d97f1a0d95166d36"),
        bytes.fromhex("949c3be2ec4f3b1e4b900cd975d8336b8bd90d441d2df470c787ee78bd156c9e"),
    ],
    4: [bytes.fromhex("4469f373d51a67932bfae0fbb07d0e7214525854e88be31e6ec1f5f68017a254")],
}
FIXED_HEAD_OF_3 = bytes.fromhex("30d1f677dc7300cb48a9b55745d841a6096d3c1e4c5c9d9a14cad00d2f081ac2")
FIXED_BATCH = ("09506000134352", "LOT-2026A")
FIXED_BATCH_KEY = bytes.fromhex("c2da376a59b53fd8ae4719ef25b3fc32d06790034475fd0a6b94ab5b2da0e089")


# --- oracles ------------------------------------------------------------------------------------------------
def oz_leaf(digest: bytes) -> bytes:
    """Solidity: keccak256(bytes.concat(keccak256(abi.encode(digest))))."""
    return eth_keccak(eth_keccak(abi_encode(["bytes32"], [digest])))


def oz_commutative(a: bytes, b: bytes) -> bytes:
    """OpenZeppelin Hashes.commutativeKeccak256: the numerically smaller bytes32 first."""
    lo, hi = sorted((a, b), key=lambda word: int.from_bytes(word, "big"))
    return eth_keccak(lo + hi)


def oz_process_proof(leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """OpenZeppelin MerkleProof.processProof."""
    node = leaf
    for sibling in proof:
        node = oz_commutative(node, sibling)
    return node


def _split(n: int) -> int:
    """RFC 6962: the largest power of two strictly below n."""
    return 1 << ((n - 1).bit_length() - 1)


class RecursiveOracle:
    """The tree defined top-down (RFC 6962 MTH and PATH), memoised per leaf range."""

    def __init__(self, digests: Sequence[bytes]) -> None:
        self.leaves = [oz_leaf(d) for d in digests]
        self._roots: dict[tuple[int, int], bytes] = {}

    def root(self, lo: int = 0, hi: int | None = None) -> bytes:
        hi = len(self.leaves) if hi is None else hi
        if hi - lo == 1:
            return self.leaves[lo]
        if (lo, hi) not in self._roots:
            mid = lo + _split(hi - lo)
            self._roots[lo, hi] = oz_commutative(self.root(lo, mid), self.root(mid, hi))
        return self._roots[lo, hi]

    def path(self, index: int, lo: int = 0, hi: int | None = None) -> list[bytes]:
        hi = len(self.leaves) if hi is None else hi
        if hi - lo == 1:
            return []
        mid = lo + _split(hi - lo)
        if index < mid:
            return [*self.path(index, lo, mid), self.root(mid, hi)]
        return [*self.path(index, mid, hi), self.root(lo, mid)]


digest_st = st.binary(min_size=32, max_size=32)
# A small pool makes repeated digests (and so equal sibling hashes) likely; the tree must not care.
digest_lists = st.one_of(
    st.lists(digest_st, min_size=1, max_size=300),
    st.lists(st.sampled_from(FIXED_DIGESTS[:3]), min_size=1, max_size=40),
)


def _flip_bit(data: bytes, bit: int) -> bytes:
    altered = bytearray(data)
    altered[(bit // 8) % len(data)] ^= 1 << (bit % 8)
    return bytes(altered)


# --- fixed vectors ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("n", sorted(FIXED_ROOTS))
def test_fixed_vector_roots_match_the_shared_constants(n: int) -> None:
    assert MerkleTree.build(FIXED_DIGESTS[:n]).root == FIXED_ROOTS[n]
    assert RecursiveOracle(FIXED_DIGESTS[:n]).root() == FIXED_ROOTS[n]


@pytest.mark.parametrize("index", sorted(FIXED_PROOFS_OF_5))
def test_fixed_vector_proofs_match_the_shared_constants_and_verify(index: int) -> None:
    tree = MerkleTree.build(FIXED_DIGESTS[:5])
    assert tree.proof(index) == FIXED_PROOFS_OF_5[index]
    assert oz_process_proof(oz_leaf(FIXED_DIGESTS[index]), FIXED_PROOFS_OF_5[index]) == FIXED_ROOTS[5]


def test_fixed_vector_leaf_is_the_openzeppelin_double_hash() -> None:
    assert leaf_hash(FIXED_DIGESTS[0]) == FIXED_LEAF_1 == oz_leaf(FIXED_DIGESTS[0])


def test_fixed_vector_chain_head_and_batch_key() -> None:
    assert fold_heads(FIXED_DIGESTS[:3]) == FIXED_HEAD_OF_3
    assert batch_key(*FIXED_BATCH) == FIXED_BATCH_KEY


# --- properties against the oracle --------------------------------------------------------------------------
@settings(max_examples=150, deadline=None)
@given(digest_lists)
def test_root_and_every_proof_equal_the_recursive_definition_and_verify(digests: list[bytes]) -> None:
    tree = MerkleTree.build(digests)
    oracle = RecursiveOracle(digests)
    assert tree.root == oracle.root()
    assert list(tree.leaves) == oracle.leaves
    assert len(tree) == len(digests)
    for index, digest in enumerate(digests):
        proof = tree.proof(index)
        assert proof == oracle.path(index)
        assert len(proof) <= (len(digests) - 1).bit_length()
        assert oz_process_proof(oz_leaf(digest), proof) == tree.root
        assert verify_proof(digest, proof, tree.root)


@settings(deadline=None)
@given(digest_lists, st.data())
def test_any_altered_digest_proof_element_or_root_is_rejected(digests: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree.build(digests)
    index = data.draw(st.integers(0, len(digests) - 1), label="index")
    digest, proof = digests[index], tree.proof(index)
    bit = data.draw(st.integers(0, 255), label="bit")

    assert not verify_proof(_flip_bit(digest, bit), proof, tree.root)
    assert not verify_proof(digest, proof, _flip_bit(tree.root, bit))
    if proof:
        position = data.draw(st.integers(0, len(proof) - 1), label="position")
        altered = [*proof]
        altered[position] = _flip_bit(altered[position], bit)
        assert not verify_proof(digest, altered, tree.root)
        assert not verify_proof(digest, proof[:-1], tree.root)
        assert not verify_proof(digest, [*proof, proof[-1]], tree.root)


@settings(deadline=None)
@given(st.lists(digest_st, min_size=2, max_size=64, unique=True), st.data())
def test_a_proof_does_not_prove_another_digest_of_the_same_tree(digests: list[bytes], data: st.DataObject) -> None:
    tree = MerkleTree.build(digests)
    i, j = data.draw(st.lists(st.integers(0, len(digests) - 1), min_size=2, max_size=2, unique=True))
    assert not verify_proof(digests[j], tree.proof(i), tree.root)


@settings(deadline=None)
@given(st.lists(digest_st, min_size=2, max_size=64, unique=True))
def test_an_internal_node_presented_as_a_digest_is_rejected(digests: list[bytes]) -> None:
    # The second-preimage attack the double-hashed leaf exists to stop: claim a node one layer up is a leaf
    # and hand over the rest of the path.
    tree = MerkleTree.build(digests)
    proof = tree.proof(0)
    internal = oz_commutative(tree.leaves[0], proof[0])
    assert not verify_proof(internal, proof[1:], tree.root)


# --- edges --------------------------------------------------------------------------------------------------
def test_a_single_digest_is_its_own_root_with_an_empty_proof() -> None:
    tree = MerkleTree.build([FIXED_DIGESTS[0]])
    assert tree.root == leaf_hash(FIXED_DIGESTS[0])
    assert tree.proof(0) == []
    assert verify_proof(FIXED_DIGESTS[0], [], tree.root)


def test_an_empty_tree_is_refused() -> None:
    with pytest.raises(InvalidInput, match="at least one"):
        MerkleTree.build([])


@pytest.mark.parametrize("bad", [b"", bytes(31), bytes(33), "00" * 32])
def test_a_digest_that_is_not_32_bytes_is_refused(bad: bytes) -> None:
    with pytest.raises(InvalidInput):
        MerkleTree.build([FIXED_DIGESTS[0], bad])
    with pytest.raises(InvalidInput):
        leaf_hash(bad)


@pytest.mark.parametrize("index", [-1, 5, 6])
def test_a_proof_index_outside_the_tree_raises_index_error(index: int) -> None:
    with pytest.raises(IndexError):
        MerkleTree.build(FIXED_DIGESTS[:5]).proof(index)


def test_a_malformed_proof_is_not_a_proof_rather_than_an_error() -> None:
    tree = MerkleTree.build(FIXED_DIGESTS[:5])
    proof = tree.proof(2)
    assert not verify_proof(FIXED_DIGESTS[2], [proof[0][:31], *proof[1:]], tree.root)
    assert not verify_proof(FIXED_DIGESTS[2], [proof[0].hex(), *proof[1:]], tree.root)  # type: ignore[list-item]
    assert not verify_proof(FIXED_DIGESTS[2][:31], proof, tree.root)
    assert not verify_proof(FIXED_DIGESTS[2], proof, tree.root[:31])


def test_keccak256_is_ethereum_keccak_not_sha3() -> None:
    assert keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


# --- hash chain and batch key -------------------------------------------------------------------------------
@given(digest_st, digest_st)
def test_chain_head_is_solidity_keccak_of_the_packed_pair(prev: bytes, digest: bytes) -> None:
    assert chain_head(prev, digest) == Web3.solidity_keccak(["bytes32", "bytes32"], [prev, digest])


@given(st.lists(digest_st, max_size=20), st.lists(digest_st, max_size=20))
def test_fold_heads_continues_from_an_anchored_head(first: list[bytes], rest: list[bytes]) -> None:
    head = ZERO_HEAD
    for digest in first + rest:
        head = Web3.solidity_keccak(["bytes32", "bytes32"], [head, digest])
    assert fold_heads(first + rest) == head
    assert fold_heads(rest, start=fold_heads(first)) == head


def test_fold_heads_of_nothing_is_the_zero_head() -> None:
    assert fold_heads([]) == ZERO_HEAD == bytes(32)


def test_reordering_a_batch_history_changes_its_head() -> None:
    a, b, c = FIXED_DIGESTS[:3]
    assert fold_heads([a, b, c]) != fold_heads([a, c, b])


def test_chain_head_refuses_a_short_digest() -> None:
    with pytest.raises(InvalidInput):
        chain_head(ZERO_HEAD, bytes(31))


@given(
    st.text(alphabet="0123456789", min_size=14, max_size=14),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=20),
)
def test_batch_key_is_solidity_keccak_of_the_gs1_element_string(gtin: str, lot: str) -> None:
    assert batch_key(gtin, lot) == Web3.solidity_keccak(["string"], [f"01{gtin}10{lot}"])


@pytest.mark.parametrize("gtin", ["0950600013435", "095060001343521", "0950600013435X", "０９５０６０００１３４３５２"])
def test_batch_key_refuses_a_gtin_that_is_not_14_ascii_digits(gtin: str) -> None:
    with pytest.raises(InvalidGTIN):
        batch_key(gtin, "LOT1")


@pytest.mark.parametrize("lot", ["", "L" * 21])
def test_batch_key_refuses_an_empty_or_overlong_lot(lot: str) -> None:
    with pytest.raises(InvalidLot):
        batch_key("09506000134352", lot)
