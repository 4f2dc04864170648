"""Ethereum JSON-RPC shapes: hex quantities in, blocks, transactions, receipts and logs out.

Field names follow the execution-apis spec, which is what web3.py 8 and ethers v6 parse.
"""

from __future__ import annotations

from typing import Any, cast

import rlp
from eth.abc import BlockAPI, BlockHeaderAPI, SignedTransactionAPI
from eth.constants import BLANK_ROOT_HASH
from eth_utils import is_hex, to_checksum_address

from chain.node import index
from ledger.errors import InvalidInput

JSON = dict[str, Any]


def quantity(value: int) -> str:
    return hex(value)


def data(value: bytes) -> str:
    return "0x" + value.hex()


def address(value: bytes) -> str:
    return to_checksum_address(value)


def word(value: int) -> str:
    return "0x" + value.to_bytes(32, "big").hex()


def parse_quantity(value: Any, name: str) -> int:
    if isinstance(value, str) and value.startswith(("0x", "0X")) and len(value) > 2 and is_hex(value):
        return int(value, 16)
    raise InvalidInput(f"{name} must be a hex quantity, got {value!r}", rpc_code=-32602)


def parse_data(value: Any, name: str, length: int | None = None) -> bytes:
    if isinstance(value, str) and value.startswith(("0x", "0X")) and len(value) % 2 == 0:
        try:
            raw = bytes.fromhex(value[2:])
        except ValueError:
            raw = None
        if raw is not None and (length is None or len(raw) == length):
            return raw
    expected = "hex data" if length is None else f"{length} bytes of hex data"
    raise InvalidInput(f"{name} must be {expected}, got {value!r}", rpc_code=-32602)


def parse_address(value: Any, name: str = "address") -> bytes:
    return parse_data(value, name, 20)


def header_json(header: BlockHeaderAPI) -> JSON:
    return {
        "number": quantity(header.block_number),
        "hash": data(header.hash),
        "parentHash": data(header.parent_hash),
        "nonce": data(header.nonce),
        "mixHash": data(header.mix_hash),
        "sha3Uncles": data(header.uncles_hash),
        "logsBloom": data(header.bloom.to_bytes(256, "big")),
        "transactionsRoot": data(header.transaction_root),
        "stateRoot": data(header.state_root),
        "receiptsRoot": data(header.receipt_root),
        "miner": address(header.coinbase),
        "difficulty": quantity(header.difficulty),
        "totalDifficulty": quantity(header.difficulty),
        "extraData": data(header.extra_data),
        "gasLimit": quantity(header.gas_limit),
        "gasUsed": quantity(header.gas_used),
        "timestamp": quantity(header.timestamp),
        # Cancun headers always carry these; py-evm types them as optional for older forks.
        "baseFeePerGas": quantity(header.base_fee_per_gas or 0),
        "withdrawalsRoot": data(header.withdrawals_root or BLANK_ROOT_HASH),
        "blobGasUsed": quantity(header.blob_gas_used or 0),
        "excessBlobGas": quantity(header.excess_blob_gas or 0),
        "parentBeaconBlockRoot": data(header.parent_beacon_block_root or BLANK_ROOT_HASH),
    }


def block_json(block: BlockAPI, senders: list[bytes], full: bool) -> JSON:
    header = block.header
    result = header_json(header)
    result["size"] = quantity(len(rlp.encode(block)))
    result["uncles"] = []
    result["withdrawals"] = []
    if full:
        result["transactions"] = [
            transaction_json(tx, sender, header, position)
            for position, (tx, sender) in enumerate(zip(block.transactions, senders, strict=True))
        ]
    else:
        result["transactions"] = [data(tx.hash) for tx in block.transactions]
    return result


def transaction_json(
    tx: SignedTransactionAPI, sender: bytes, header: BlockHeaderAPI | None, position: int | None
) -> JSON:
    """A mined transaction (``header`` and ``position`` given) or a pending one (both None)."""
    tx_type = tx.type_id or 0
    result: JSON = {
        "type": quantity(tx_type),
        "hash": data(tx.hash),
        "nonce": quantity(tx.nonce),
        "blockHash": None if header is None else data(header.hash),
        "blockNumber": None if header is None else quantity(header.block_number),
        "transactionIndex": None if position is None else quantity(position),
        "from": address(sender),
        "to": address(tx.to) if tx.to else None,
        "value": quantity(tx.value),
        "gas": quantity(tx.gas),
        "input": data(tx.data),
        "r": quantity(tx.r),
        "s": quantity(tx.s),
    }
    if tx.chain_id is not None:
        result["chainId"] = quantity(tx.chain_id)
    if tx_type == 0:
        result["gasPrice"] = quantity(tx.gas_price)
        result["v"] = quantity(cast(Any, tx).v)  # legacy transactions keep v; typed ones have y_parity
        return result
    result["yParity"] = result["v"] = quantity(tx.y_parity)
    result["accessList"] = [
        {"address": address(entry), "storageKeys": [word(key) for key in keys]} for entry, keys in tx.access_list
    ]
    if tx_type == 1:
        result["gasPrice"] = quantity(tx.gas_price)
    else:
        result["maxFeePerGas"] = quantity(tx.max_fee_per_gas)
        result["maxPriorityFeePerGas"] = quantity(tx.max_priority_fee_per_gas)
        base_fee = 0 if header is None else header.base_fee_per_gas or 0
        price = min(tx.max_fee_per_gas, base_fee + tx.max_priority_fee_per_gas)
        result["gasPrice"] = quantity(tx.max_fee_per_gas if header is None else price)
    return result


def log_json(row: index.LogRow) -> JSON:
    block_number, log_index, block_hash, tx_index, tx_hash, emitter, *topics, payload = row
    return {
        "removed": False,
        "logIndex": quantity(log_index),
        "transactionIndex": quantity(tx_index),
        "transactionHash": data(tx_hash),
        "blockHash": data(block_hash),
        "blockNumber": quantity(block_number),
        "address": address(emitter),
        "data": data(payload),
        "topics": [data(topic) for topic in topics if topic is not None],
    }


def receipt_json(record: index.TxRecord, logs: list[index.LogRow]) -> JSON:
    return {
        "type": quantity(record.type),
        "transactionHash": data(record.hash),
        "transactionIndex": quantity(record.tx_index),
        "blockHash": data(record.block_hash),
        "blockNumber": quantity(record.block_number),
        "from": address(record.sender),
        "to": address(record.recipient) if record.recipient else None,
        "contractAddress": address(record.contract_address) if record.contract_address else None,
        "cumulativeGasUsed": quantity(record.cumulative_gas_used),
        "gasUsed": quantity(record.gas_used),
        "effectiveGasPrice": quantity(record.effective_gas_price),
        "status": quantity(record.status),
        "logsBloom": data(record.bloom),
        "logs": [log_json(row) for row in logs],
    }
