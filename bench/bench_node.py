"""Throughput of the embedded chain node over JSON-RPC/HTTP.

Starts ``python -m chain.node`` in a subprocess on a fresh data directory (so the client's CPU is not the
node's), deploys a small contract and sends pre-signed ``increment(uint256,bytes32)`` calls — one storage
write, one mapping write and one event each, like an anchoring transaction — in three ways:

1. one transaction per HTTP request, one sequential client on a persistent connection;
2. JSON-RPC batches of ``--batch`` transactions;
3. ``--senders`` concurrent clients, each with its own account and connection.

Rates count from the first request to the moment the last receipt is available (sealed and indexed);
"accepted" is the rate at which the node validated and answered the submissions.

    .venv/bin/python bench/bench_node.py [--txs 1000] [--block-interval 0.2]
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

CHAIN_ID = 20260
# Counter.sol from tests/chain/test_node_rpc.py (solc 0.8.37, evmVersion cancun, optimizer 200 runs).
COUNTER_BYTECODE = bytes.fromhex(
    "6080604052348015600e575f5ffd5b506101de8061001c5f395ff3fe608060405234801561000f575f5ffd5b506004361061003f"
    "575f3560e01c80633fa4f24514610043578063761b59f91461005d578063a43c82f31461007c575b5f5ffd5b61004b5f548156"
    "5b60405190815260200160405180910390f35b61004b61006b366004610136565b60016020525f908152604090205481565b61"
    "008f61008a366004610163565b610091565b005b6103e88211156100c3576040516367e8d3a760e11b815260048101839052"
    "6103e8602482015260440160405180910390fd5b815f5f8282546100d39190610183565b9091555050335f90815260016020"
    "526040812080548492906100f6908490610183565b90915550505f5460405182815233907f9a375ec6204a69222b30356346"
    "8b7c1ab42323932b9b42880c463691f07d969f9060200160405180910390a35050565b5f60208284031215610146575f5ffd"
    "5b81356001600160a01b038116811461015c575f5ffd5b9392505050565b5f5f60408385031215610174575f5ffd5b505080"
    "35926020909101359150565b808201808211156101a257634e487b7160e01b5f52601160045260245ffd5b9291505056fea2"
    "646970667358221220fc0add8aab9b5680b41a908a6a9132a4150023a28ff6a5872b456b1c8faf9b7e64736f6c634300082500"
    "33"
)
INCREMENT = keccak(text="increment(uint256,bytes32)")[:4]


class Client:
    """A persistent HTTP/1.1 connection speaking JSON-RPC (http.client: the cheapest client in the stdlib)."""

    def __init__(self, port: int) -> None:
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self._id = 0

    def post(self, payload: Any) -> Any:
        self._conn.request("POST", "/", json.dumps(payload), {"Content-Type": "application/json"})
        return json.loads(self._conn.getresponse().read())

    def call(self, method: str, *params: Any) -> Any:
        self._id += 1
        answer = self.post({"jsonrpc": "2.0", "id": self._id, "method": method, "params": list(params)})
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def signed_calls(account: LocalAccount, contract: str, first_nonce: int, count: int) -> list[str]:
    calls = []
    for nonce in range(first_nonce, first_nonce + count):
        payload = INCREMENT + (1).to_bytes(32, "big") + nonce.to_bytes(32, "big")
        tx: dict[str, Any] = {
            "to": contract,
            "data": payload,
            "gas": 100_000,
            "gasPrice": 0,
            "nonce": nonce,
            "chainId": CHAIN_ID,
        }
        calls.append("0x" + account.sign_transaction(tx).raw_transaction.hex())
    return calls


def wait_for_receipt(client: Client, tx_hash: str) -> dict[str, Any]:
    while True:
        receipt = client.call("eth_getTransactionReceipt", tx_hash)
        if receipt is not None:
            return dict(receipt)
        time.sleep(0.005)


def report(name: str, count: int, started: float, accepted: float, mined: float, blocks: int) -> None:
    print(
        f"{name:<44} {count:>6} tx  accepted {count / (accepted - started):>7.1f} tx/s"
        f"  mined {count / (mined - started):>7.1f} tx/s  in {blocks:>4} blocks"
    )


def run(port: int, accounts: list[LocalAccount], txs: int, batch: int) -> None:
    client = Client(port)
    deployer = accounts[0]
    deploy = deployer.sign_transaction(
        {"data": COUNTER_BYTECODE, "gas": 1_000_000, "gasPrice": 0, "nonce": 0, "chainId": CHAIN_ID}
    )
    receipt = wait_for_receipt(client, client.call("eth_sendRawTransaction", "0x" + deploy.raw_transaction.hex()))
    contract = receipt["contractAddress"]
    nonces = {a.address: 1 if a is deployer else 0 for a in accounts}

    def next_calls(account: LocalAccount, count: int) -> list[str]:
        calls = signed_calls(account, contract, nonces[account.address], count)
        nonces[account.address] += count
        return calls

    def block_number() -> int:
        return int(client.call("eth_blockNumber"), 16)

    sequential = next_calls(deployer, txs)
    first_block = block_number()
    started = time.perf_counter()
    hashes = [client.call("eth_sendRawTransaction", raw) for raw in sequential]
    accepted = time.perf_counter()
    wait_for_receipt(client, hashes[-1])
    report(
        "one tx per request, sequential",
        txs,
        started,
        accepted,
        time.perf_counter(),
        block_number() - first_block,
    )

    batched = next_calls(deployer, txs)
    first_block = block_number()
    started = time.perf_counter()
    for offset in range(0, txs, batch):
        chunk = batched[offset : offset + batch]
        answers = client.post(
            [
                {"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": [raw]}
                for i, raw in enumerate(chunk)
            ]
        )
        failed = [a for a in answers if "error" in a]
        if failed:
            raise RuntimeError(f"batch refused: {failed[0]}")
        last_hash = answers[-1]["result"]
    accepted = time.perf_counter()
    wait_for_receipt(client, last_hash)
    report(
        f"JSON-RPC batches of {batch}",
        txs,
        started,
        accepted,
        time.perf_counter(),
        block_number() - first_block,
    )

    senders = accounts[1:]
    per_sender = txs // len(senders)
    work = {a.address: next_calls(a, per_sender) for a in senders}
    last_hashes: list[str] = []

    def send_all(raws: list[str]) -> None:
        own = Client(port)
        last_hashes.append([own.call("eth_sendRawTransaction", raw) for raw in raws][-1])

    threads = [threading.Thread(target=send_all, args=(raws,)) for raws in work.values()]
    first_block = block_number()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = time.perf_counter()
    for tx_hash in last_hashes:
        wait_for_receipt(client, tx_hash)
    report(
        f"{len(senders)} concurrent senders, one tx per request",
        per_sender * len(senders),
        started,
        accepted,
        time.perf_counter(),
        block_number() - first_block,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--txs", type=int, default=1000, help="transactions per scenario")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--block-interval", type=float, default=0.2)
    args = parser.parse_args()
    accounts = [Account.create() for _ in range(args.senders + 1)]
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        command = [sys.executable, "-m", "chain.node", "--data-dir", data_dir, "--port", str(port)]
        command += ["--block-interval", str(args.block_interval)]
        for account in accounts:
            command += ["--account", f"{account.address}=0"]
        node = subprocess.Popen(command, cwd=Path(__file__).resolve().parent.parent)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    Client(port).call("eth_chainId")
                    break
                except OSError:
                    if time.monotonic() > deadline or node.poll() is not None:
                        raise
                    time.sleep(0.1)
            print(f"lotline node, block interval {args.block_interval} s, {args.txs} txs per scenario")
            run(port, accounts, args.txs, args.batch)
        finally:
            node.terminate()
            node.wait(timeout=30)


if __name__ == "__main__":
    main()
