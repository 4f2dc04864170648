"""The embedded node through its JSON-RPC server, driven by a real web3.py 8 client.

COUNTER_BYTECODE is solc 0.8.37 (``evmVersion: "cancun"``, optimizer 200 runs) output for:

    // SPDX-License-Identifier: MIT
    pragma solidity ^0.8.24;

    contract Counter {
        error CounterStepTooLarge(uint256 requested, uint256 limit);
        event Incremented(address indexed by, uint256 indexed newValue, bytes32 note);

        uint256 public value;
        mapping(address => uint256) public perSender;

        function increment(uint256 by, bytes32 note) external {
            if (by > 1000) revert CounterStepTooLarge(by, 1000);
            value += by;
            perSender[msg.sender] += by;
            emit Incremented(msg.sender, value, note);
        }
    }
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from eth_abi.abi import encode as abi_encode
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, Web3RPCError
from web3.middleware import ExtraDataToPOAMiddleware
from web3.types import TxParams, Wei

from chain.node import EmbeddedNode, GenesisConfig, NodeConfig, RunningServer, serve_in_thread

COUNTER_ABI = json.loads(
    '[{"inputs":[{"name":"requested","type":"uint256"},{"name":"limit","type":"uint256"}],'
    '"name":"CounterStepTooLarge","type":"error"},'
    '{"anonymous":false,"inputs":[{"indexed":true,"name":"by","type":"address"},'
    '{"indexed":true,"name":"newValue","type":"uint256"},{"indexed":false,"name":"note","type":"bytes32"}],'
    '"name":"Incremented","type":"event"},'
    '{"inputs":[{"name":"by","type":"uint256"},{"name":"note","type":"bytes32"}],"name":"increment",'
    '"outputs":[],"stateMutability":"nonpayable","type":"function"},'
    '{"inputs":[{"name":"","type":"address"}],"name":"perSender","outputs":[{"name":"","type":"uint256"}],'
    '"stateMutability":"view","type":"function"},'
    '{"inputs":[],"name":"value","outputs":[{"name":"","type":"uint256"}],"stateMutability":"view","type":"function"}]'
)
COUNTER_BYTECODE = (
    "0x6080604052348015600e575f5ffd5b506101de8061001c5f395ff3fe608060405234801561000f575f5ffd5b506004361061003f"
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
ONE_ETHER = 10**18


class Chain:
    """A running node, its server and a web3 client, plus the keys the tests sign with."""

    def __init__(self, data_dir: Path, authority: LocalAccount, users: list[LocalAccount]) -> None:
        self.data_dir, self.authority, self.users = data_dir, authority, users
        genesis = GenesisConfig((authority.address,), {u.address: ONE_ETHER for u in users})
        self.node = EmbeddedNode(data_dir, NodeConfig(genesis, sealer_key=bytes(authority.key), block_interval=0.05))
        self.node.start()
        self.server: RunningServer = serve_in_thread(self.node)
        self.w3 = Web3(Web3.HTTPProvider(self.server.url))
        self.w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)

    def close(self) -> None:
        self.server.stop()
        self.node.close()

    def transact(self, account: LocalAccount, tx: dict[str, Any]) -> Any:
        """Sign ``tx`` (filled in by web3 where left out) and wait for its receipt."""
        tx = {
            "from": account.address,
            "nonce": self.w3.eth.get_transaction_count(account.address, "pending"),
            **tx,
        }
        if "gas" not in tx:
            tx["gas"] = self.w3.eth.estimate_gas(cast(TxParams, tx))
        signed = account.sign_transaction({"chainId": 20260, **tx})
        tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
        return self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.02)

    def deploy_counter(self, account: LocalAccount) -> Contract:
        factory = self.w3.eth.contract(abi=COUNTER_ABI, bytecode=COUNTER_BYTECODE)
        tx = factory.constructor().build_transaction({"from": account.address, "gasPrice": 0})
        receipt = self.transact(account, {"data": tx["data"], "gasPrice": 0})
        assert receipt["status"] == 1
        contract: Contract = self.w3.eth.contract(address=receipt["contractAddress"], abi=COUNTER_ABI)
        return contract

    def rpc(self, body: bytes) -> Any:
        request = urllib.request.Request(self.server.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def call(self, method: str, *params: Any) -> Any:
        return self.rpc(json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}).encode())


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    running = Chain(tmp_path_factory.mktemp("node"), Account.create(), [Account.create() for _ in range(3)])
    yield running
    running.close()


@pytest.fixture(scope="module")
def counter(chain: Chain) -> Contract:
    return chain.deploy_counter(chain.users[0])


def test_web3_sees_the_configured_chain_and_a_zero_fee_market(chain: Chain) -> None:
    w3 = chain.w3
    assert w3.eth.chain_id == 20260
    assert w3.net.version == "20260"
    assert w3.eth.gas_price == 0
    assert w3.eth.max_priority_fee == 0
    genesis = w3.eth.get_block("earliest")
    assert genesis["number"] == 0
    assert genesis["baseFeePerGas"] == 0
    assert genesis["gasLimit"] == 1_000_000_000
    assert w3.eth.get_balance(chain.users[0].address) == ONE_ETHER


def test_deployed_contract_answers_calls_and_records_transactions_with_logs(chain: Chain, counter: Contract) -> None:
    user = chain.users[0]
    before = counter.functions.value().call()
    params: TxParams = {
        "from": user.address,
        "gasPrice": Wei(0),
        "nonce": chain.w3.eth.get_transaction_count(user.address, "pending"),
    }
    tx = counter.functions.increment(5, b"lot-1".ljust(32, b"\0")).build_transaction(params)
    receipt = chain.transact(user, {"to": counter.address, "data": tx["data"], "gasPrice": 0, "gas": tx["gas"]})

    assert receipt["status"] == 1
    assert receipt["effectiveGasPrice"] == 0
    assert counter.functions.value().call() == before + 5
    assert counter.functions.perSender(user.address).call() >= 5
    (event,) = counter.events.Incremented().process_receipt(receipt)
    assert event["args"]["by"] == user.address
    assert event["args"]["newValue"] == before + 5
    block = chain.w3.eth.get_block(receipt["blockNumber"], full_transactions=True)
    assert block["miner"] == chain.authority.address
    assert block["transactions"][receipt["transactionIndex"]]["from"] == user.address
    mined = chain.w3.eth.get_transaction(receipt["transactionHash"])
    assert mined["blockHash"] == block["hash"]
    assert mined["to"] == counter.address


def test_get_logs_filters_by_address_and_indexed_topics(chain: Chain, counter: Contract) -> None:
    first, second = chain.users[0], chain.users[1]
    for account, step in ((first, 1), (second, 2), (first, 3)):
        data = counter.functions.increment(step, b"\0" * 32)._encode_transaction_data()
        chain.transact(account, {"to": counter.address, "data": data, "gasPrice": 0})
    topic = counter.events.Incremented().topic
    by_second = "0x" + "00" * 12 + second.address[2:].lower()

    everything = chain.w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest", "address": counter.address})
    only_second = chain.w3.eth.get_logs({"fromBlock": 0, "address": counter.address, "topics": [topic, by_second]})
    either = chain.w3.eth.get_logs({"fromBlock": 0, "topics": [None, [by_second, "0x" + "00" * 32]]})
    other_contract = chain.w3.eth.get_logs({"fromBlock": 0, "address": chain.authority.address})

    assert len(everything) >= 3
    assert [log["transactionHash"] for log in only_second] == [
        log["transactionHash"] for log in everything if log["topics"][1].hex().endswith(second.address[2:].lower())
    ]
    assert len(only_second) == 1
    assert either == only_second
    assert other_contract == []
    in_block = chain.w3.eth.get_logs({"blockHash": only_second[0]["blockHash"], "address": counter.address})
    assert only_second[0] in in_block


def test_revert_comes_back_as_the_contracts_custom_error(chain: Chain, counter: Contract) -> None:
    user = chain.users[0]
    with pytest.raises(ContractCustomError) as refused:
        counter.functions.increment(5000, b"\0" * 32).call({"from": user.address})
    selector = Web3.keccak(text="CounterStepTooLarge(uint256,uint256)")[:4]
    assert refused.value.data == "0x" + (selector + abi_encode(["uint256", "uint256"], [5000, 1000])).hex()
    with pytest.raises(ContractCustomError):
        counter.functions.increment(5000, b"\0" * 32).estimate_gas({"from": user.address})


def test_eip1559_transaction_with_zero_max_fee_is_mined(chain: Chain) -> None:
    sender, receiver = chain.users[1], chain.users[2]
    receipt = chain.transact(
        sender, {"to": receiver.address, "value": 7, "maxFeePerGas": 0, "maxPriorityFeePerGas": 0, "type": 2}
    )
    assert receipt["status"] == 1
    assert receipt["type"] == 2
    assert chain.w3.eth.get_balance(receiver.address) >= 7


def test_sender_outside_the_allowlist_is_refused_until_added(chain: Chain) -> None:
    outsider = Account.create()
    tx = {
        "to": chain.users[0].address,
        "value": 0,
        "gas": 21_000,
        "gasPrice": 0,
        "nonce": 0,
        "chainId": 20260,
    }
    raw = outsider.sign_transaction(tx).raw_transaction

    with pytest.raises(Web3RPCError) as refused:
        chain.w3.eth.send_raw_transaction(raw)
    assert refused.value.rpc_response is not None
    assert refused.value.rpc_response["error"]["code"] == -32007
    assert refused.value.rpc_response["error"]["message"] == "Sender account not authorized to send transactions"

    assert chain.call("perm_addAccountsToAllowlist", [outsider.address])["result"] == "Success"
    assert outsider.address in chain.call("perm_getAccountsAllowlist")["result"]
    receipt = chain.w3.eth.wait_for_transaction_receipt(chain.w3.eth.send_raw_transaction(raw), timeout=30)
    assert receipt["status"] == 1

    chain.call("perm_removeAccountsFromAllowlist", [outsider.address])
    again = outsider.sign_transaction({**tx, "nonce": 1}).raw_transaction
    assert chain.call("eth_sendRawTransaction", "0x" + again.hex())["error"]["code"] == -32007


def test_bad_requests_get_standard_errors_and_the_node_keeps_answering(chain: Chain) -> None:
    user = chain.users[0]
    wrong_chain = user.sign_transaction(
        {"to": user.address, "value": 0, "gas": 21_000, "gasPrice": 0, "nonce": 0, "chainId": 1}
    ).raw_transaction
    nonce = chain.w3.eth.get_transaction_count(user.address, "pending")
    gapped = user.sign_transaction(
        {"to": user.address, "value": 0, "gas": 21_000, "gasPrice": 0, "nonce": nonce + 5, "chainId": 20260}
    ).raw_transaction
    tampered = bytearray(gapped)
    tampered[-40] ^= 0xFF

    assert chain.rpc(b"{not json")["error"]["code"] == -32700
    assert chain.rpc(b'{"jsonrpc": "2.0", "id": 1}')["error"]["code"] == -32600
    assert chain.rpc(b"[]")["error"]["code"] == -32600
    assert chain.call("eth_noSuchMethod")["error"]["code"] == -32601
    assert chain.call("eth_getBalance", "not-an-address", "latest")["error"]["code"] == -32602
    assert chain.call("eth_sendRawTransaction", "0xdeadbeef")["error"]["code"] == -32602
    wrong = chain.call("eth_sendRawTransaction", "0x" + wrong_chain.hex())["error"]
    assert (wrong["code"], wrong["message"]) == (-32000, "invalid chain id: expected 20260, got 1")
    assert "nonce too high" in chain.call("eth_sendRawTransaction", "0x" + gapped.hex())["error"]["message"]
    assert chain.call("eth_sendRawTransaction", "0x" + bytes(tampered).hex())["error"]["code"] in (
        -32000,
        -32007,
    )
    assert chain.w3.eth.block_number >= 0


def test_duplicate_transaction_is_refused_as_already_known(chain: Chain) -> None:
    user = chain.users[2]
    nonce = chain.w3.eth.get_transaction_count(user.address, "pending")
    raw = user.sign_transaction(
        {"to": user.address, "value": 0, "gas": 21_000, "gasPrice": 0, "nonce": nonce, "chainId": 20260}
    ).raw_transaction
    first = chain.call("eth_sendRawTransaction", "0x" + raw.hex())
    second = chain.call("eth_sendRawTransaction", "0x" + raw.hex())

    assert "result" in first
    assert second["error"]["message"] in (
        "already known",
        f"nonce too low: next nonce {nonce + 1}, tx nonce {nonce}",
    )
    chain.w3.eth.wait_for_transaction_receipt(first["result"], timeout=30)


def test_batch_request_answers_each_entry_in_order(chain: Chain) -> None:
    user = chain.users[0]
    nonce = chain.w3.eth.get_transaction_count(user.address, "pending")
    raws = [
        user.sign_transaction(
            {
                "to": user.address,
                "value": 0,
                "gas": 21_000,
                "gasPrice": 0,
                "nonce": nonce + i,
                "chainId": 20260,
            }
        ).raw_transaction
        for i in range(20)
    ]
    batch = [
        {"jsonrpc": "2.0", "id": i, "method": "eth_sendRawTransaction", "params": ["0x" + raw.hex()]}
        for i, raw in enumerate(raws)
    ]
    batch.append({"jsonrpc": "2.0", "id": "x", "method": "eth_blockNumber", "params": []})
    batch.append({"jsonrpc": "2.0", "method": "eth_blockNumber", "params": []})  # a notification: no answer

    answers = chain.rpc(json.dumps(batch).encode())

    assert [a["id"] for a in answers] == [*range(20), "x"]
    hashes = [a["result"] for a in answers[:20]]
    receipts = [chain.w3.eth.wait_for_transaction_receipt(h, timeout=30) for h in hashes]
    assert {r["status"] for r in receipts} == {1}
    assert chain.w3.eth.get_transaction_count(user.address) == nonce + 20


def test_fee_history_and_block_tags_that_wallets_ask_for(chain: Chain) -> None:
    history = chain.w3.eth.fee_history(3, "latest", [50])
    assert set(history["baseFeePerGas"]) == {0}
    for tag in ("latest", "pending", "safe", "finalized"):
        assert chain.w3.eth.get_block(tag)["number"] == chain.w3.eth.get_block("latest")["number"]
    assert chain.call("eth_getBlockByNumber", hex(10**9), False)["result"] is None
    assert chain.w3.eth.syncing is False
    assert len(chain.w3.eth.accounts) == 0
    assert chain.call("eth_coinbase")["result"] == chain.authority.address
    assert chain.call("eth_mining")["result"] is True
