"""Only authority-sealed blocks enter the chain; the trie builder and key-value store under it are exact."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, cast

import pytest
import rlp
from eth.abc import SignedTransactionAPI
from eth.db.trie import make_trie_root_and_nodes
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_keys import keys
from eth_utils import to_canonical_address
from hypothesis import given, settings
from hypothesis import strategies as st

from chain.node import EmbeddedNode, GenesisConfig, NodeConfig
from chain.node.consensus import recover_sealer, sign_header
from chain.node.kvstore import SqliteKV, connect
from chain.node.ordered_trie import trie_root_and_nodes
from ledger.errors import InvalidInput, InvalidSignature


def transfer(account: LocalAccount, nonce: int, to: str) -> bytes:
    tx: dict[str, Any] = {
        "to": to,
        "value": 1,
        "gas": 21_000,
        "gasPrice": 0,
        "nonce": nonce,
        "chainId": 20260,
    }
    return bytes(account.sign_transaction(tx).raw_transaction)


@pytest.fixture
def twins(tmp_path: Path) -> Iterator[tuple[EmbeddedNode, EmbeddedNode, LocalAccount]]:
    """Two nodes on the same genesis: ``producer`` seals, ``follower`` imports what it is given."""
    authority, user = Account.create(), Account.create()
    genesis = GenesisConfig((authority.address,), {user.address: 10**18}, timestamp=1_700_000_000)
    producer = EmbeddedNode(tmp_path / "producer", NodeConfig(genesis, sealer_key=bytes(authority.key)))
    follower = EmbeddedNode(tmp_path / "follower", NodeConfig(genesis))
    yield producer, follower, user
    producer.close()
    follower.close()


def test_block_sealed_by_the_authority_is_imported(
    twins: tuple[EmbeddedNode, EmbeddedNode, LocalAccount],
) -> None:
    producer, follower, user = twins
    producer.send_raw_transaction(transfer(user, 0, producer.genesis.authorities[0]))
    block = producer.seal_pending()
    assert block is not None

    imported = follower.import_block(producer.raw_block(block.header))

    assert imported == block.hash == follower.reader.head().hash
    assert follower.pending_nonce(to_canonical_address(user.address)) == 1


def test_block_sealed_by_another_key_is_refused_and_the_head_stays(
    twins: tuple[EmbeddedNode, EmbeddedNode, LocalAccount],
) -> None:
    producer, follower, user = twins
    producer.send_raw_transaction(transfer(user, 0, producer.genesis.authorities[0]))
    block = producer.seal_pending()
    assert block is not None
    rogue = keys.PrivateKey(bytes(Account.create().key))
    forged_header = sign_header(block.header.copy(coinbase=rogue.public_key.to_canonical_address()), rogue)
    unsealed_header = block.header.copy(extra_data=block.header.extra_data[:32])
    head = follower.reader.head()

    with pytest.raises(InvalidSignature, match="not an authority"):
        follower.import_block(rlp.encode(block.copy(header=forged_header)))
    with pytest.raises(InvalidSignature, match="not sealed"):
        follower.import_block(rlp.encode(block.copy(header=unsealed_header)))
    with pytest.raises(InvalidInput):
        follower.import_block(b"\x01\x02 not rlp")

    assert follower.reader.head().hash == head.hash
    assert recover_sealer(forged_header) == rogue.public_key.to_canonical_address()
    assert follower.import_block(producer.raw_block(block.header)) == block.hash


def test_a_sealer_key_outside_the_authorities_is_refused(tmp_path: Path) -> None:
    authority, stranger = Account.create(), Account.create()
    with pytest.raises(InvalidInput, match="not one of the genesis authorities"):
        EmbeddedNode(tmp_path, NodeConfig(GenesisConfig((authority.address,)), sealer_key=bytes(stranger.key)))


class _Encoded:
    def __init__(self, payload: bytes) -> None:
        self._payload = payload

    def encode(self) -> bytes:
        return self._payload


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=80), max_size=300))
def test_ordered_trie_matches_py_evm_root_and_nodes(values: list[bytes]) -> None:
    expected = make_trie_root_and_nodes(cast(Sequence[SignedTransactionAPI], [_Encoded(v) for v in values]))
    assert trie_root_and_nodes(values) == expected


def test_atomic_batch_that_raises_writes_nothing(tmp_path: Path) -> None:
    store = SqliteKV(connect(tmp_path / "kv.sqlite"))
    store[b"kept"] = b"1"

    def abandon_batch() -> None:
        with store.atomic_batch() as batch:
            batch[b"lost"] = b"2"
            del batch[b"kept"]
            assert b"lost" in batch
            raise RuntimeError("abandon the batch")

    def abandon_outer_transaction() -> None:
        with store.transaction():
            with store.atomic_batch() as batch:
                batch[b"nested"] = b"3"
            assert store[b"nested"] == b"3"
            raise RuntimeError("abandon the outer transaction")

    with pytest.raises(RuntimeError, match="abandon the batch"):
        abandon_batch()
    with pytest.raises(RuntimeError, match="abandon the outer"):
        abandon_outer_transaction()

    assert store[b"kept"] == b"1"
    assert b"lost" not in store
    assert b"nested" not in store
