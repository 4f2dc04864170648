"""Start a node the operator's way: a data directory, an authority key kept in it, and a JSON-RPC port."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from eth_account import Account

from chain.node.genesis import GenesisConfig
from chain.node.node import EmbeddedNode, NodeConfig
from chain.node.server import serve

logger = logging.getLogger(__name__)

KEY_FILE = "authority.key"


def authority_key(data_dir: Path) -> bytes:
    """The sealing key stored in ``data_dir``, created (hex, mode 0600) on first start."""
    path = data_dir / KEY_FILE
    if path.exists():
        return bytes.fromhex(path.read_text().strip().removeprefix("0x"))
    data_dir.mkdir(parents=True, exist_ok=True)
    key = bytes(Account.create().key)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key.hex() + "\n")
    return key


def run_node_server(
    data_dir: Path,
    host: str,
    port: int,
    block_interval: float,
    accounts: Mapping[str, int] | None = None,
    chain_id: int | None = None,
) -> None:
    """Run a single-authority node on ``data_dir`` until interrupted.

    ``accounts`` (address → wei) are allowlisted and funded at genesis; on later starts the stored genesis
    wins and they are only added to the allowlist (balances cannot change after genesis).
    """
    key = authority_key(data_dir)
    genesis = GenesisConfig(
        authorities=(Account.from_key(key).address,),
        accounts=dict(accounts or {}),
        **({"chain_id": chain_id} if chain_id else {}),
    )
    node = EmbeddedNode(data_dir, NodeConfig(genesis, sealer_key=key, block_interval=block_interval))
    if accounts:
        node.allow(list(accounts))
    node.start()
    logger.info(
        "lotline chain %d sealing as %s, JSON-RPC on http://%s:%d",
        node.chain_id,
        genesis.authorities[0],
        host,
        port,
    )
    try:
        serve(node, host, port)
    finally:
        node.close()
