"""lotline's embedded permissioned chain: py-evm (Cancun rules), proof-of-authority sealing, JSON-RPC.

    node = EmbeddedNode(data_dir, NodeConfig(GenesisConfig(authorities=(addr,)), sealer_key=key)).start()
    serve(node, "127.0.0.1", 8545)

or ``python -m chain.node --data-dir DIR`` / :func:`run_node_server`.
"""

from __future__ import annotations

from chain.node.genesis import GenesisConfig
from chain.node.keccak import use_fastest_keccak
from chain.node.launch import run_node_server
from chain.node.node import EmbeddedNode, NodeConfig
from chain.node.server import RunningServer, serve, serve_in_thread

use_fastest_keccak()

__all__ = [
    "EmbeddedNode",
    "GenesisConfig",
    "NodeConfig",
    "RunningServer",
    "run_node_server",
    "serve",
    "serve_in_thread",
]
