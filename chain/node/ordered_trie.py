"""Root and nodes of a block's transaction or receipt trie, built in one pass over the sorted keys.

py-evm inserts the items one by one into a ``HexaryTrie``, re-encoding the path from the root on every
insert: for a few hundred items per block that was a quarter of sealing time. The keys of these tries are
``rlp(index)``, which are prefix-free, so the trie can be built bottom-up from the sorted keys instead
(as geth's StackTrie does). The result is byte-for-byte py-evm's: a property test compares both.
"""

from __future__ import annotations

from collections.abc import Sequence

import rlp
from eth.constants import BLANK_ROOT_HASH
from eth_typing import Hash32
from eth_utils import keccak

Node = list[object]
Nodes = dict[Hash32, bytes]


def _nibbles(key: bytes) -> tuple[int, ...]:
    return tuple(n for byte in key for n in (byte >> 4, byte & 0x0F))


def _hex_prefix(nibbles: Sequence[int], leaf: bool) -> bytes:
    flag = 2 if leaf else 0
    nibbles = (flag + 1, *nibbles) if len(nibbles) % 2 else (flag, 0, *nibbles)
    return bytes(nibbles[i] << 4 | nibbles[i + 1] for i in range(0, len(nibbles), 2))


def _reference(node: Node, nodes: Nodes) -> object:
    """How a parent points at ``node``: inline below 32 encoded bytes, else by hash (and stored)."""
    encoded = rlp.encode(node)
    if len(encoded) < 32:
        return node
    digest = Hash32(keccak(encoded))
    nodes[digest] = encoded
    return digest


def _build(items: Sequence[tuple[tuple[int, ...], bytes]], depth: int, nodes: Nodes) -> Node:
    if len(items) == 1:
        key, value = items[0]
        return [_hex_prefix(key[depth:], leaf=True), value]
    first, last = items[0][0], items[-1][0]
    shared = depth
    while shared < min(len(first), len(last)) and first[shared] == last[shared]:
        shared += 1
    if shared > depth:
        return [_hex_prefix(first[depth:shared], leaf=False), _reference(_build(items, shared, nodes), nodes)]
    branch: Node = [b""] * 17
    start = 0
    while start < len(items):
        nibble = items[start][0][depth]
        end = start
        while end < len(items) and items[end][0][depth] == nibble:
            end += 1
        branch[nibble] = _reference(_build(items[start:end], depth + 1, nodes), nodes)
        start = end
    return branch


def trie_root_and_nodes(values: Sequence[bytes]) -> tuple[Hash32, dict[Hash32, bytes]]:
    """The root hash of the trie ``{rlp(i): values[i]}`` and its nodes by hash, as py-evm stores them."""
    if not values:
        return BLANK_ROOT_HASH, {}
    items = sorted((_nibbles(rlp.encode(i)), value) for i, value in enumerate(values))
    nodes: Nodes = {}
    encoded_root = rlp.encode(_build(items, 0, nodes))
    root = Hash32(keccak(encoded_root))
    nodes[root] = encoded_root
    return root, nodes
