"""Chain data outlives the node: a clean restart, and ``kill -9`` in the middle of sealing.

SLOTS_BYTECODE is solc 0.8.37 (``evmVersion: "cancun"``, optimizer 200 runs) output for a contract whose
every call writes one storage slot, so storage after a crash can be checked against each receipt:

    // SPDX-License-Identifier: MIT
    pragma solidity ^0.8.24;

    contract Slots {
        fallback() external {
            assembly {
                sstore(calldataload(0), calldataload(32))
            }
        }
    }
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from eth._utils.address import generate_contract_address
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import to_canonical_address, to_checksum_address

from chain.node import EmbeddedNode, GenesisConfig, NodeConfig, index

SLOTS_BYTECODE = bytes.fromhex(
    "6080604052348015600e575f5ffd5b50604d80601a5f395ff3fe6080604052348015600e575f5ffd5b506020355f355500fea264"
    "6970667358221220b40b34d20dc142b81e3a9269ff5101f20500a799ec8f903064a0e9f777eb735d64736f6c63430008250033"
)
REPO = Path(__file__).resolve().parents[2]


def write_slot(account: LocalAccount, contract: str, nonce: int, slot: int, value: int) -> bytes:
    tx: dict[str, Any] = {
        "to": contract,
        "data": slot.to_bytes(32, "big") + value.to_bytes(32, "big"),
        "gas": 60_000,
        "gasPrice": 0,
        "nonce": nonce,
        "chainId": 20260,
    }
    return bytes(account.sign_transaction(tx).raw_transaction)


def deploy(account: LocalAccount) -> tuple[bytes, str]:
    """The signed deployment (the account's first transaction) and the address the contract will get."""
    signed = account.sign_transaction(
        {"data": SLOTS_BYTECODE, "gas": 200_000, "gasPrice": 0, "nonce": 0, "chainId": 20260}
    )
    contract = generate_contract_address(to_canonical_address(account.address), 0)
    return bytes(signed.raw_transaction), to_checksum_address(contract)


def test_restart_reads_the_same_head_balances_storage_and_transactions(tmp_path: Path) -> None:
    authority, user, friend = Account.create(), Account.create(), Account.create()
    config = NodeConfig(GenesisConfig((authority.address,), {user.address: 10**18}), sealer_key=bytes(authority.key))
    node = EmbeddedNode(tmp_path, config)
    raw_deploy, contract = deploy(user)
    node.send_raw_transaction(raw_deploy)
    node.seal_pending()
    transfer = user.sign_transaction(
        {"to": friend.address, "value": 12345, "gas": 21_000, "gasPrice": 0, "nonce": 1, "chainId": 20260}
    )
    node.send_raw_transaction(bytes(transfer.raw_transaction))
    write = node.send_raw_transaction(write_slot(user, contract, 2, slot=7, value=99))
    node.seal_pending()
    head = node.reader.head()
    node.close()

    reopened = EmbeddedNode(tmp_path, NodeConfig(GenesisConfig((friend.address,), chain_id=5), None))
    try:
        again = reopened.reader.head()
        assert (again.hash, again.block_number) == (head.hash, 2)
        assert reopened.chain_id == 20260, "the stored genesis wins over a different config"
        assert reopened.reader.balance(again, to_canonical_address(friend.address)) == 12345
        assert reopened.reader.storage(again, to_canonical_address(contract), 7) == 99
        assert reopened.reader.nonce(again, to_canonical_address(user.address)) == 3
        assert reopened.pending_nonce(to_canonical_address(user.address)) == 3
        record = reopened.reader.mined_transaction(_record(reopened, write))
        assert record.hash == write
        assert user.address in reopened.allowlist()
    finally:
        reopened.close()


def _record(node: EmbeddedNode, tx_hash: bytes) -> index.TxRecord:
    record = index.get_tx(node.reader.conn, tx_hash)
    assert record is not None
    assert record.status == 1
    return record


class Rpc:
    def __init__(self, port: int) -> None:
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def __call__(self, method: str, *params: Any) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
        self._conn.request("POST", "/", body, {"Content-Type": "application/json"})
        answer = json.loads(self._conn.getresponse().read())
        assert "error" not in answer, answer
        return answer["result"]


def start_node(data_dir: Path, port: int, account: LocalAccount) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "chain.node", "--data-dir", str(data_dir), "--port", str(port)]
    command += ["--block-interval", "0.05", "--account", f"{account.address}=0"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Generous: a loaded 2-core CI machine can take many seconds to import py-evm and open the database.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            Rpc(port)("eth_chainId")
            return process
        except OSError:
            assert process.poll() is None, "the node exited during startup"
            time.sleep(0.05)
    raise TimeoutError("the node did not answer within 90 s")


def wait_for_receipt(rpc: Rpc, tx_hash: str) -> dict[str, Any]:
    for _ in range(1500):
        receipt = rpc("eth_getTransactionReceipt", tx_hash)
        if receipt is not None:
            return dict(receipt)
        time.sleep(0.02)
    raise TimeoutError(tx_hash)


def test_kill_9_while_sealing_leaves_a_consistent_chain(tmp_path: Path) -> None:
    user = Account.create()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = start_node(tmp_path, port, user)
    try:
        rpc = Rpc(port)
        raw_deploy, contract = deploy(user)
        wait_for_receipt(rpc, rpc("eth_sendRawTransaction", "0x" + raw_deploy.hex()))
        settled = [
            rpc("eth_sendRawTransaction", "0x" + write_slot(user, contract, n, n, n + 1000).hex()) for n in range(1, 41)
        ]
        wait_for_receipt(rpc, settled[-1])
        settled_head = rpc("eth_getBlockByNumber", "latest", False)
        in_flight = [
            rpc("eth_sendRawTransaction", "0x" + write_slot(user, contract, n, n, n + 1000).hex())
            for n in range(41, 341)
        ]
        time.sleep(0.3)
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()

    process = start_node(tmp_path, port, user)
    try:
        rpc = Rpc(port)
        head = rpc("eth_getBlockByNumber", "latest", False)
        assert int(head["number"], 16) >= int(settled_head["number"], 16)
        assert rpc("eth_getBlockByNumber", settled_head["number"], False)["hash"] == settled_head["hash"]
        mined = [h for h in settled + in_flight if rpc("eth_getTransactionReceipt", h) is not None]
        assert mined[: len(settled)] == settled, "every transaction confirmed before the kill is still there"
        assert mined == (settled + in_flight)[: len(mined)], "blocks are whole: no gap in the nonce sequence"
        nonce = int(rpc("eth_getTransactionCount", user.address, "latest"), 16)
        assert nonce == 1 + len(mined)
        for n in (1, 40, len(mined)):
            assert int(rpc("eth_getStorageAt", contract, hex(n), "latest"), 16) == n + 1000
        assert int(rpc("eth_getStorageAt", contract, hex(len(mined) + 1), "latest"), 16) == 0
        latest_block = rpc("eth_getBlockByNumber", head["number"], True)
        assert all(tx["blockHash"] == head["hash"] for tx in latest_block["transactions"])
    finally:
        process.terminate()
        process.wait()
