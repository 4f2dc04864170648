"""Deploy the anchor contract once per chain and find it again on every later start.

The deployment is recorded in a small JSON file (address, chain id, block number and hash, the artifact's
source hash). A later start trusts the record only after checking it against the chain: the node must be the
same chain (chain id, and the recorded block still has the recorded hash — a reset dev chain replays the
same deployer nonce and would put *a* contract at the same address), and the code there must be exactly the
committed ``deployedBytecode``. Anything else is refused with the reason, never silently redeployed: the
anchors already written point at the old contract, and a new one would orphan them.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from chain.client import ChainClient
from ledger.errors import Conflict, InvalidInput


@contextmanager
def _exclusive(record_path: Path) -> Iterator[None]:
    # The API and the worker may both start at once; only one of them may deploy.
    record_path.parent.mkdir(parents=True, exist_ok=True)
    with open(record_path.with_suffix(record_path.suffix + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def read_deployment(record_path: Path) -> dict[str, Any]:
    try:
        record: dict[str, Any] = json.loads(record_path.read_text(encoding="utf-8"))
        missing = {"address", "chainId", "blockNumber", "blockHash"} - set(record)
    except (ValueError, TypeError) as exc:
        missing = {str(exc)}
    if missing:
        detail = f"unreadable deployment record {record_path}: missing or invalid {sorted(missing)}"
        raise InvalidInput(detail, path=str(record_path))
    return record


def _write(record_path: Path, record: dict[str, Any]) -> None:
    tmp = record_path.with_suffix(record_path.suffix + ".tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, record_path)


def verify_deployment(client: ChainClient, record: dict[str, Any], record_path: Path) -> None:
    """Raise :class:`Conflict` unless the chain still holds the recorded deployment."""
    where = {"path": str(record_path), "address": record["address"]}
    if record["chainId"] != client.chain_id():
        raise Conflict(
            f"{record_path} records a deployment on chain {record['chainId']}, but the node is chain "
            f"{client.chain_id()}: point LOTLINE_CHAIN_RPC_URL at the right network",
            **where,
        )
    number, recorded_hash = int(record["blockNumber"]), record["blockHash"]
    block = client.block(number)
    if block is None or "0x" + bytes(block["hash"]).hex() != recorded_hash:
        raise Conflict(
            f"block {number} of this chain is not the block that deployed the contract: the chain was reset. "
            f"Restore its data, or delete {record_path} to deploy afresh (earlier anchors are then lost)",
            **where,
        )
    if client.code_at(record["address"]) != client.artifact.deployed_bytecode:
        raise Conflict(
            f"the code at {record['address']} is not the committed {client.artifact.name} "
            f"(artifact source hash {client.artifact.source_hash}, recorded {record.get('sourceHash')}): "
            "the contract was changed without a redeployment, or the record points elsewhere",
            **where,
        )


def ensure_deployed(
    client: ChainClient, deployer_key: bytes, regulator_admin: str, anchorer: str, record_path: Path
) -> str:
    """The anchor contract's address: the recorded one after checking it, or a new deployment recorded now.

    Binds ``client`` to that address.
    """
    with _exclusive(record_path):
        if record_path.exists():
            record = read_deployment(record_path)
            verify_deployment(client, record, record_path)
            client.bind(record["address"])
            return client.contract_address
        receipt = client.deploy_receipt(deployer_key, regulator_admin, anchorer)
        _write(
            record_path,
            {
                "contract": client.artifact.name,
                "address": client.contract_address,
                "chainId": client.chain_id(),
                "blockNumber": receipt.block_number,
                "blockHash": "0x" + receipt.block_hash.hex(),
                "txHash": "0x" + receipt.tx_hash.hex(),
                "sourceHash": client.artifact.source_hash,
                "compiler": client.artifact.compiler_version,
            },
        )
        return client.contract_address
