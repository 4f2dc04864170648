"""Chain nodes for the client suite: each test taking ``node_url`` runs on the embedded node AND on anvil.

Both nodes are real processes started once per session (the embedded node as ``python -m chain.node`` on a
fresh data directory), with the test accounts allowlisted and funded: in the embedded node's genesis, and by
``anvil_setBalance`` on anvil. Tests share one deployed contract per node and keep out of each other's way by
using fresh batch keys, roots and recall ids.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from eth_account import Account

from chain.anvil import running_anvil, running_embedded_node
from chain.client import ChainClient
from ledger.merkle import keccak256

ROLES = ("deployer", "regulator", "anchorer", "producer", "outsider")
KEYS = {name: keccak256(f"lotline chain test {name}".encode()) for name in ROLES}
ADDRESSES = {name: Account.from_key(key).address for name, key in KEYS.items()}
FUNDS = 10**24


def fresh() -> bytes:
    """A 32-byte value no other test uses: batch keys, roots, recall ids, reason hashes."""
    return keccak256(os.urandom(32))


@pytest.fixture(scope="session", params=["embedded", "anvil"])
def node_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    balances = dict.fromkeys(ADDRESSES.values(), FUNDS)
    if request.param == "embedded":
        data_dir = tmp_path_factory.mktemp("embedded-chain")
        with running_embedded_node(data_dir, block_interval=0.02, balances=balances) as url:
            yield url
    else:
        with running_anvil(balances=balances) as url:
            yield url


@pytest.fixture(scope="session")
def client(node_url: str) -> ChainClient:
    """A client of an anchor contract deployed for the session, with the producer role granted."""
    chain = ChainClient(node_url)
    chain.deploy(KEYS["deployer"], ADDRESSES["regulator"], ADDRESSES["anchorer"])
    chain.grant_role(KEYS["regulator"], "PRODUCER_ROLE", ADDRESSES["producer"])
    return chain
