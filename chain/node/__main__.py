"""Command line: ``python -m chain.node --data-dir DIR [--host H] [--port P] [--block-interval S]``.

``--account ADDR=WEI`` (repeatable) allowlists an account and funds it at genesis.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from chain.node.launch import run_node_server


def _account(text: str) -> tuple[str, int]:
    address, _, balance = text.partition("=")
    return address, int(balance or 0)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m chain.node", description="lotline embedded chain node")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8545)
    parser.add_argument("--block-interval", type=float, default=0.2, help="seconds between blocks (0 = at once)")
    parser.add_argument(
        "--account",
        type=_account,
        action="append",
        default=[],
        help="ADDR=WEI: allowlist (and fund at genesis)",
    )
    parser.add_argument("--chain-id", type=int, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    run_node_server(args.data_dir, args.host, args.port, args.block_interval, dict(args.account), args.chain_id)


if __name__ == "__main__":
    main()
