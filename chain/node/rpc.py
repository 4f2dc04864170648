"""JSON-RPC 2.0 dispatch and the ``eth_*``/``net_*``/``web3_*``/``perm_*`` methods web3.py and ethers call.

Handlers take the decoded ``params`` list and return JSON-ready values. Refusals are ``LotlineError``s whose
``rpc_code`` context picks the JSON-RPC code (``-32000`` when absent); ``data`` carries revert data.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from eth.abc import BlockHeaderAPI
from eth_typing import Address

from chain.node import formats, index
from chain.node.formats import JSON, data, parse_address, parse_data, parse_quantity, quantity
from chain.node.node import EmbeddedNode
from chain.node.reader import CallParams
from ledger.errors import InvalidInput, LotlineError, NotFound

logger = logging.getLogger(__name__)

CLIENT_VERSION = "lotline-node/0.1 (py-evm 0.12, Cancun rules)"
MAX_LOGS = 10_000
Handler = Callable[[EmbeddedNode, list[Any]], Any]


def _param(params: list[Any], position: int, default: Any = ...) -> Any:
    if position < len(params) and params[position] is not None:
        return params[position]
    if default is ...:
        raise InvalidInput(f"missing parameter {position}", rpc_code=-32602)
    return default


def _header(node: EmbeddedNode, tag: Any) -> BlockHeaderAPI:
    """Resolve a block tag, number or EIP-1898 object; unknown blocks are an error for state reads."""
    header = _maybe_header(node, tag)
    if header is None:
        raise NotFound("header not found", rpc_code=-32000)
    return header


def _maybe_header(node: EmbeddedNode, tag: Any) -> BlockHeaderAPI | None:
    reader = node.reader
    if isinstance(tag, dict):
        if "blockHash" in tag:
            return reader.header_by_hash(parse_data(tag["blockHash"], "blockHash", 32))
        tag = tag.get("blockNumber", "latest")
    if tag in ("latest", "pending", "safe", "finalized"):
        # One authority seals and nothing reorganises: the head is final as soon as it is sealed.
        return reader.head()
    if tag == "earliest":
        return reader.header_by_number(0)
    return reader.header_by_number(parse_quantity(tag, "block"))


def _call_params(obj: Any) -> CallParams:
    if not isinstance(obj, dict):
        raise InvalidInput("transaction object expected", rpc_code=-32602)
    payload = obj.get("input", obj.get("data")) or "0x"
    return CallParams(
        sender=Address(parse_address(obj["from"], "from") if obj.get("from") else b"\0" * 20),
        to=Address(parse_address(obj["to"], "to")) if obj.get("to") else None,
        data=parse_data(payload, "input"),
        value=parse_quantity(obj["value"], "value") if obj.get("value") else 0,
        gas=parse_quantity(obj["gas"], "gas") if obj.get("gas") else None,
    )


def _block(node: EmbeddedNode, header: BlockHeaderAPI | None, full: Any) -> JSON | None:
    if header is None:
        return None
    block = node.reader.block(header)
    senders = index.senders_of_block(node.reader.conn, header.block_number) if full else []
    return formats.block_json(block, senders, bool(full))


def _transaction(node: EmbeddedNode, params: list[Any]) -> JSON | None:
    tx_hash = parse_data(_param(params, 0), "hash", 32)
    record = index.get_tx(node.reader.conn, tx_hash)
    if record is not None:
        header = node.reader.header_by_number(record.block_number)
        tx = node.reader.mined_transaction(record)
        return formats.transaction_json(tx, record.sender, header, record.tx_index)
    pending = node.mempool.get(tx_hash)
    return None if pending is None else formats.transaction_json(pending.tx, pending.sender, None, None)


def _receipt(node: EmbeddedNode, params: list[Any]) -> JSON | None:
    tx_hash = parse_data(_param(params, 0), "hash", 32)
    record = index.get_tx(node.reader.conn, tx_hash)
    if record is None:
        return None
    return formats.receipt_json(record, index.logs_of_tx(node.reader.conn, tx_hash))


def _logs(node: EmbeddedNode, params: list[Any]) -> list[JSON]:
    query = _param(params, 0, {})
    if not isinstance(query, dict):
        raise InvalidInput("filter object expected", rpc_code=-32602)
    if query.get("blockHash"):
        header = _maybe_header(node, {"blockHash": query["blockHash"]})
        if header is None:
            raise NotFound("unknown block", rpc_code=-32000)
        first = last = int(header.block_number)
    else:
        head = node.reader.head().block_number
        first_header = _maybe_header(node, query.get("fromBlock") or "latest")
        last_header = _maybe_header(node, query.get("toBlock") or "latest")
        first = first_header.block_number if first_header else head + 1
        last = last_header.block_number if last_header else head
    emitters = query.get("address") or []
    emitters = [emitters] if isinstance(emitters, str) else emitters
    topics: list[list[bytes] | None] = []
    for entry in query.get("topics") or []:
        choices = [entry] if isinstance(entry, str) else entry
        topics.append([parse_data(t, "topic", 32) for t in choices] if choices else None)
    rows = index.query_logs(node.reader.conn, first, last, [parse_address(a) for a in emitters], topics, MAX_LOGS + 1)
    if len(rows) > MAX_LOGS:
        raise InvalidInput(f"query returned more than {MAX_LOGS} results", rpc_code=-32005)
    return [formats.log_json(row) for row in rows]


def _fee_history(node: EmbeddedNode, params: list[Any]) -> JSON:
    requested = _param(params, 0)
    count = min(requested if isinstance(requested, int) else parse_quantity(requested, "blockCount"), 1024)
    newest = _header(node, _param(params, 1, "latest")).block_number
    percentiles = _param(params, 2, [])
    oldest = max(0, newest - count + 1)
    headers = [node.reader.header_by_number(n) for n in range(oldest, newest + 1)]
    result: JSON = {
        "oldestBlock": quantity(oldest),
        # One more than the blocks asked for: the base fee of the block after the newest, always zero here.
        "baseFeePerGas": [quantity(h.base_fee_per_gas or 0) for h in headers if h] + ["0x0"],
        "gasUsedRatio": [h.gas_used / h.gas_limit for h in headers if h],
    }
    if percentiles:
        result["reward"] = [["0x0"] * len(percentiles) for _ in headers]
    return result


def _send_raw(node: EmbeddedNode, params: list[Any]) -> str:
    return data(node.send_raw_transaction(parse_data(_param(params, 0), "transaction")))


def _nonce(node: EmbeddedNode, params: list[Any]) -> str:
    account = Address(parse_address(_param(params, 0)))
    if _param(params, 1, "latest") == "pending":
        return quantity(node.pending_nonce(account))
    return quantity(node.reader.nonce(_header(node, params[1] if len(params) > 1 else "latest"), account))


def _accounts_param(params: list[Any]) -> list[str]:
    accounts = _param(params, 0)
    if not isinstance(accounts, list) or not all(isinstance(a, str) for a in accounts):
        raise InvalidInput("a list of account addresses is expected", rpc_code=-32602)
    return accounts


def _allow(node: EmbeddedNode, params: list[Any]) -> str:
    node.allow(_accounts_param(params))
    return "Success"


def _disallow(node: EmbeddedNode, params: list[Any]) -> str:
    node.disallow(_accounts_param(params))
    return "Success"


def _state_read(read: Callable[[EmbeddedNode, BlockHeaderAPI, Address, list[Any]], Any], tag_at: int) -> Handler:
    def handler(node: EmbeddedNode, params: list[Any]) -> Any:
        account = Address(parse_address(_param(params, 0)))
        return read(node, _header(node, _param(params, tag_at, "latest")), account, params)

    return handler


METHODS: dict[str, Handler] = {
    "web3_clientVersion": lambda node, p: CLIENT_VERSION,
    "net_version": lambda node, p: str(node.chain_id),
    "net_listening": lambda node, p: True,
    "net_peerCount": lambda node, p: "0x0",
    "eth_chainId": lambda node, p: quantity(node.chain_id),
    "eth_syncing": lambda node, p: False,
    "eth_accounts": lambda node, p: [],
    "eth_mining": lambda node, p: node.sealer_address is not None,
    "eth_coinbase": lambda node, p: formats.address(node.sealer_address or b"\0" * 20),
    "eth_gasPrice": lambda node, p: "0x0",
    "eth_maxPriorityFeePerGas": lambda node, p: "0x0",
    "eth_blockNumber": lambda node, p: quantity(node.reader.head().block_number),
    "eth_feeHistory": _fee_history,
    "eth_getBalance": _state_read(lambda node, h, a, p: quantity(node.reader.balance(h, a)), 1),
    "eth_getCode": _state_read(lambda node, h, a, p: data(node.reader.code(h, a)), 1),
    "eth_getStorageAt": _state_read(
        lambda node, h, a, p: formats.word(node.reader.storage(h, a, parse_quantity(_param(p, 1), "slot"))), 2
    ),
    "eth_getTransactionCount": _nonce,
    "eth_call": lambda node, p: data(
        node.reader.call(_call_params(_param(p, 0)), _header(node, _param(p, 1, "latest")))
    ),
    "eth_estimateGas": lambda node, p: quantity(
        node.reader.estimate_gas(_call_params(_param(p, 0)), _header(node, _param(p, 1, "latest")))
    ),
    "eth_sendRawTransaction": _send_raw,
    "eth_getTransactionByHash": _transaction,
    "eth_getTransactionReceipt": _receipt,
    "eth_getBlockByNumber": lambda node, p: _block(node, _maybe_header(node, _param(p, 0)), _param(p, 1, False)),
    "eth_getBlockByHash": lambda node, p: _block(
        node, node.reader.header_by_hash(parse_data(_param(p, 0), "hash", 32)), _param(p, 1, False)
    ),
    "eth_getLogs": _logs,
    "perm_addAccountsToAllowlist": _allow,
    "perm_removeAccountsFromAllowlist": _disallow,
    "perm_getAccountsAllowlist": lambda node, p: node.allowlist(),
    "debug_getRawBlock": lambda node, p: data(node.raw_block(_header(node, _param(p, 0)))),
    "lotline_importRawBlock": lambda node, p: data(node.import_block(parse_data(_param(p, 0), "block"))),
}


def _error(request_id: Any, code: int, message: str, error_data: Any = None) -> JSON:
    error: JSON = {"code": code, "message": message}
    if error_data is not None:
        error["data"] = error_data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


def handle_request(node: EmbeddedNode, request: Any) -> JSON | None:
    """Answer one request object; None for a notification (a request without an id)."""
    if not isinstance(request, dict) or request.get("jsonrpc") != "2.0" or not isinstance(request.get("method"), str):
        return _error(request.get("id") if isinstance(request, dict) else None, -32600, "invalid request")
    request_id = request.get("id")
    params = request.get("params", [])
    handler = METHODS.get(request["method"])
    if handler is None:
        response = _error(request_id, -32601, f"the method {request['method']} does not exist/is not available")
    elif not isinstance(params, list):
        response = _error(request_id, -32602, "params must be an array")
    else:
        try:
            response = {"jsonrpc": "2.0", "id": request_id, "result": handler(node, params)}
        except LotlineError as exc:
            response = _error(request_id, exc.context.get("rpc_code", -32000), exc.detail, exc.context.get("data"))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            response = _error(request_id, -32602, f"invalid params: {exc}")
        except Exception:
            logger.exception("internal error in %s", request["method"])
            response = _error(request_id, -32603, "internal error")
    return None if "id" not in request else response


def handle_payload(node: EmbeddedNode, body: bytes) -> bytes | None:
    """Answer an HTTP body: one request or a batch. None when there is nothing to send back."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return json.dumps(_error(None, -32700, "parse error")).encode()
    if isinstance(payload, list):
        if not payload:
            return json.dumps(_error(None, -32600, "invalid request: empty batch")).encode()
        responses = [r for r in (handle_request(node, item) for item in payload) if r is not None]
        return json.dumps(responses).encode() if responses else None
    response = handle_request(node, payload)
    return None if response is None else json.dumps(response).encode()
