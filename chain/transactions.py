"""Transactions to one contract over JSON-RPC: signed here, sent raw, waited for in batches, failures replayed.

The plumbing under :class:`chain.client.ChainClient`, which adds the anchor contract's functions. It assumes
nothing beyond the standard ``eth_*`` methods, so the embedded py-evm node, anvil and Besu all serve: nodes hold
no accounts, gas prices come from the node, and a failed transaction is re-run as a call to recover its custom
error, decoded with the committed ABI.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import requests
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from web3 import HTTPProvider, Web3
from web3.exceptions import BlockNotFound, ContractLogicError, TransactionNotFound, Web3RPCError
from web3.middleware import ExtraDataToPOAMiddleware
from web3.types import RPCEndpoint

from chain.artifacts import ContractArtifact, ContractReverted, load_artifact
from ledger.errors import Forbidden, InvalidInput, LotlineError, RuleViolation

T = TypeVar("T")

GAS_MARGIN: Final = 1.25
"""eth_estimateGas is exact for the state it ran on; the margin absorbs state changing before inclusion."""

_TRANSIENT = (requests.ConnectionError, requests.Timeout, ConnectionError, TimeoutError)
_FEE_TTL = 1.0
_RECEIPT_BATCH = 500


class ChainUnavailable(LotlineError):
    """The node did not answer (after retries) or did not mine in time; the operation may be retried."""


@dataclass(frozen=True)
class TxReceipt:
    """The parts of a transaction receipt lotline uses."""

    tx_hash: bytes
    block_number: int
    block_hash: bytes
    gas_used: int
    status: int
    contract_address: str | None

    @classmethod
    def from_rpc(cls, raw: dict[str, Any]) -> TxReceipt:
        created = raw.get("contractAddress")
        return cls(
            bytes.fromhex(raw["transactionHash"][2:]),
            int(raw["blockNumber"], 16),
            bytes.fromhex(raw["blockHash"][2:]),
            int(raw["gasUsed"], 16),
            int(raw["status"], 16),
            to_checksum_address(created) if created else None,
        )


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, requests.HTTPError):
        status = exc.response.status_code if exc.response is not None else 0
        return status == 429 or status >= 500
    return isinstance(exc, _TRANSIENT)


class _Nonces:
    """Next nonce per sender for this process: read once from the node's "pending" count, then counted here.

    Sends of one sender are serialised under its lock, so nonces reach the node in order; a node that
    disagrees ("nonce too low/high", e.g. another process used the key) makes the count reload.
    """

    def __init__(self, fetch: Callable[[str], int]) -> None:
        self._fetch = fetch
        self._next: dict[str, int] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def lock(self, sender: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(sender, threading.Lock())

    def peek(self, sender: str) -> int:
        if sender not in self._next:
            self._next[sender] = self._fetch(sender)
        return self._next[sender]

    def advance(self, sender: str) -> None:
        self._next[sender] += 1

    def forget(self, sender: str) -> None:
        self._next.pop(sender, None)


class ContractRpc:
    """JSON-RPC to one contract on one node: calls, signed sends, receipts; safe to share between threads."""

    def __init__(
        self, rpc_url: str, *, contract_address: str | None = None, timeout: float = 60.0, retries: int = 6
    ) -> None:
        """``timeout`` bounds the wait for a receipt; ``retries`` the attempts of one request whose
        connection fails (backoff from 0.1 s, doubling: 6 attempts ride out about 6 s of node restart)."""
        # Retries are done here, not by the provider: it would not retry eth_sendRawTransaction.
        session = requests.Session()
        session.trust_env = False  # no proxy lookup per request (≈0.7 ms each): nodes are reached directly
        self._provider = HTTPProvider(
            rpc_url, request_kwargs={"timeout": 30}, session=session, exception_retry_configuration=None
        )
        self.w3 = Web3(self._provider)
        # Harmless where extraData is short; the embedded node seals 97-byte (vanity + signature) extraData.
        self.w3.middleware_onion.inject(ExtraDataToPOAMiddleware, layer=0)
        self.rpc_url = rpc_url
        self.timeout = timeout
        self.retries = retries
        self.artifact: ContractArtifact = load_artifact()
        self._address = None if contract_address is None else to_checksum_address(contract_address)
        self._nonces = _Nonces(lambda a: self._retrying(self.w3.eth.get_transaction_count, a, "pending"))
        self._accounts: dict[bytes, LocalAccount] = {}
        self._chain_id: int | None = None
        self._fees: tuple[float, dict[str, int], int] | None = None

    # --- plumbing ----------------------------------------------------------------------------------------

    @property
    def contract_address(self) -> str:
        if self._address is None:
            raise InvalidInput("no anchor contract address: deploy or pass contract_address")
        return self._address

    def bind(self, address: str) -> None:
        """Point this client at the contract deployed at ``address``."""
        self._address = to_checksum_address(address)

    def _retrying(self, fn: Callable[..., T], *args: Any) -> T:
        """Call ``fn``, retrying transport failures (node restarting, connection reset) with backoff."""
        for attempt in range(self.retries):
            try:
                return fn(*args)
            except Exception as exc:
                if not _is_transient(exc):
                    raise
                if attempt == self.retries - 1:
                    raise ChainUnavailable(f"the chain node at {self.rpc_url} does not answer: {exc}") from exc
                time.sleep(0.1 * 2**attempt)
        raise AssertionError("unreachable")

    def _account(self, key: bytes) -> LocalAccount:
        if key not in self._accounts:
            self._accounts[key] = Account.from_key(key)
        return self._accounts[key]

    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self._retrying(lambda: self.w3.eth.chain_id))
        return self._chain_id

    def block_number(self) -> int:
        return int(self._retrying(lambda: self.w3.eth.block_number))

    def block(self, number: int) -> dict[str, Any] | None:
        """The header fields of block ``number``; None if the chain is not that long."""
        try:
            return dict(self._retrying(self.w3.eth.get_block, number))
        except BlockNotFound:
            return None

    def _fee_fields(self) -> tuple[dict[str, int], int]:
        """Fee fields for a new transaction and the latest block's gas limit, cached for a second."""
        now = time.monotonic()
        if self._fees is None or now - self._fees[0] > _FEE_TTL:
            block = self._retrying(self.w3.eth.get_block, "latest")
            base = block.get("baseFeePerGas")
            if base is None:
                fields = {"gasPrice": int(self._retrying(lambda: self.w3.eth.gas_price))}
            else:
                tip = 0 if base == 0 else int(self._retrying(lambda: self.w3.eth.max_priority_fee))
                # Twice the base fee lets the transaction survive several blocks of rising fees.
                fields = {"maxFeePerGas": 2 * base + tip, "maxPriorityFeePerGas": tip}
            self._fees = (now, fields, int(block["gasLimit"]))
        return self._fees[1], self._fees[2]

    def gas_budget(self, max_gas_per_tx: int | None = None) -> int:
        """Gas one transaction may use: half the block gas limit, or less if asked.

        Half, because the embedded node refuses more (a block past EIP-1559's target would raise its zero
        base fee) and a transaction that fills whole blocks would starve everyone else's.
        """
        budget = self._fee_fields()[1] // 2
        return budget if max_gas_per_tx is None else min(budget, max_gas_per_tx)

    def _reverted(self, exc: ContractLogicError) -> ContractReverted:
        data = exc.data if isinstance(exc.data, str) and exc.data.startswith("0x") else "0x"
        return self.artifact.revert_error(bytes.fromhex(data[2:]), str(exc.message))

    def _call(self, data: bytes, *, sender: str | None = None, gas: int | None = None, block: Any = "latest") -> bytes:
        tx: dict[str, Any] = {"to": self.contract_address, "data": data}
        if sender is not None:
            tx["from"] = sender
        if gas is not None:
            tx["gas"] = gas
        try:
            return bytes(self._retrying(self.w3.eth.call, tx, block))
        except ContractLogicError as exc:
            raise self._reverted(exc) from exc

    def _view(self, function: str, *args: Any) -> tuple[Any, ...]:
        return self.artifact.decode_result(function, self._call(self.artifact.encode_call(function, *args)))

    def _estimate(self, sender: str, to: str | None, data: bytes) -> int:
        tx: dict[str, Any] = {"from": sender, "data": data}
        if to is not None:
            tx["to"] = to
        try:
            estimate = int(self._retrying(self.w3.eth.estimate_gas, tx))
        except ContractLogicError as exc:
            raise self._reverted(exc) from exc
        return int(estimate * GAS_MARGIN)

    def send(self, key: bytes, data: bytes, *, gas: int | None = None, create: bool = False) -> bytes:
        """Sign and send one transaction to the contract (``create``: a deployment) and return its hash.

        Does not wait: callers pipeline many sends and then wait once (:meth:`wait`). Without ``gas`` the
        node estimates it, which also surfaces a revert before anything is sent.
        """
        account = self._account(key)
        sender = account.address
        target = None if create else self.contract_address
        gas = gas if gas is not None else self._estimate(sender, target, data)
        with self._nonces.lock(sender):
            for _ in range(3):
                fees, _limit = self._fee_fields()
                tx: dict[str, Any] = {
                    "chainId": self.chain_id(),
                    "nonce": self._nonces.peek(sender),
                    "gas": gas,
                }
                tx.update(fees, value=0, data=data, **({"to": target} if target else {}))
                signed = account.sign_transaction(tx)
                try:
                    self._retrying(self.w3.eth.send_raw_transaction, signed.raw_transaction)
                except Web3RPCError as exc:
                    message = str(exc).lower()
                    if "already known" in message or ("nonce too" in message and self._known(signed.hash)):
                        pass  # an earlier attempt of this very transaction reached the node
                    elif "nonce too" in message:
                        self._nonces.forget(sender)
                        continue
                    else:
                        self._nonces.forget(sender)
                        raise _refused(message, sender) from exc
                self._nonces.advance(sender)
                return bytes(signed.hash)
        raise ChainUnavailable(f"the node keeps refusing the nonces of {sender}", sender=sender)

    def _known(self, tx_hash: bytes) -> bool:
        try:
            self._retrying(self.w3.eth.get_transaction, tx_hash)
        except TransactionNotFound:
            return False
        return True

    def wait(self, tx_hashes: Sequence[bytes]) -> list[TxReceipt]:
        """Receipts of ``tx_hashes`` in order; raise :class:`ContractReverted` for one that failed.

        Receipts are polled in JSON-RPC batches: waiting for a thousand pipelined transactions then costs a
        few requests rather than a thousand.
        """
        deadline = time.monotonic() + self.timeout
        receipts: dict[bytes, TxReceipt] = {}
        delay = 0.002
        while pending := [h for h in tx_hashes if h not in receipts][:_RECEIPT_BATCH]:
            receipts.update(self._mined(pending))
            if len(receipts) < len(tx_hashes):
                if time.monotonic() > deadline:
                    raise ChainUnavailable(f"no receipt within {self.timeout:.0f} s", pending=len(pending))
                time.sleep(delay)
                delay = min(delay * 1.5, 0.2)
        for tx_hash in tx_hashes:
            if receipts[tx_hash].status != 1:
                raise self._replay_failure(tx_hash, receipts[tx_hash])
        return [receipts[h] for h in tx_hashes]

    def _mined(self, tx_hashes: Sequence[bytes]) -> dict[bytes, TxReceipt]:
        calls = [(RPCEndpoint("eth_getTransactionReceipt"), ["0x" + h.hex()]) for h in tx_hashes]
        answers = self._retrying(self._provider.make_batch_request, calls)
        if not isinstance(answers, list):
            raise ChainUnavailable(f"the node refused a batch request: {answers.get('error')}")
        return {h: TxReceipt.from_rpc(a["result"]) for h, a in zip(tx_hashes, answers, strict=True) if a.get("result")}

    def _replay_failure(self, tx_hash: bytes, receipt: TxReceipt) -> ContractReverted:
        """Re-run a failed transaction as a call to recover the revert data.

        First on its parent block; if it passes there, a transaction mined before it in the same block changed
        the state (two anchorers racing), so again on the state its block left, which holds that change.
        """
        tx = self._retrying(self.w3.eth.get_transaction, tx_hash)
        for block in (receipt.block_number - 1, receipt.block_number):
            try:
                self._call(tx["input"], sender=tx["from"], gas=tx["gas"], block=block)
            except ContractReverted as exc:
                exc.context["tx_hash"] = "0x" + tx_hash.hex()
                return exc
        return ContractReverted(
            f"transaction 0x{tx_hash.hex()} failed (out of gas, or state changed before it was mined)",
            error="unknown",
            args={},
            tx_hash="0x" + tx_hash.hex(),
        )

    def transact(self, key: bytes, function: str, *args: Any) -> TxReceipt:
        (receipt,) = self.wait([self.send(key, self.artifact.encode_call(function, *args))])
        return receipt


def _refused(message: str, sender: str) -> LotlineError:
    if "not authorized" in message or "not permitted" in message:
        return Forbidden(f"the node does not let {sender} send transactions", sender=sender)
    return RuleViolation(f"the node refused the transaction: {message}", sender=sender)
