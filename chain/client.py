"""lotline's one client for the anchor contract, over JSON-RPC to any EVM node.

The same code talks to the embedded py-evm node, to anvil in the tests and to a Besu QBFT network in
production, so it assumes nothing beyond the standard ``eth_*`` methods: transactions are signed here with the
caller's key and sent raw (nodes hold no accounts), gas prices come from the node (zero on the embedded node
and on free-gas Besu networks), and custom errors are decoded from revert data with the committed ABI.

Anchoring a set of batch heads larger than one transaction can carry is split. The Merkle root travels in
the LAST transaction; the ones before it anchor *continuation roots* (see :func:`continuation_root`) with an
event total of 0. A root on chain therefore means every head of its anchor landed: a retry after a crash
checks :meth:`ChainClient.root_record` and either stops there or resumes, dropping the heads that already
landed (the contract refuses a head that does not move forward, so they are recognised as stale).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
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

from chain.artifacts import (
    BatchRecord,
    ContractArtifact,
    ContractReverted,
    Flow,
    HeadUpdate,
    RecallRecord,
    RootRecord,
    load_artifact,
    role_id,
)
from ledger.errors import Forbidden, InvalidInput, LotlineError, RuleViolation
from ledger.merkle import DIGEST_SIZE, keccak256, verify_proof

T = TypeVar("T")

HEAD_GAS: Final = 56_000
"""Upper bound of the gas one batch head costs in ``anchor``: two storage slots written from zero (22,100
each), a cold slot read, the log and the calldata. Updates of known batches cost less; unused gas is free."""
ANCHOR_BASE_GAS: Final = 120_000
"""Intrinsic gas, role check, the root record and its event: everything in ``anchor`` but the heads."""
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


@dataclass(frozen=True)
class AnchorReceipt:
    """One anchor transaction. ``tx_hash`` is None when the root was already on chain and nothing was sent."""

    merkle_root: bytes
    tx_hash: bytes | None
    block_number: int
    gas_used: int
    head_count: int
    event_total: int
    continuation: bool


def continuation_root(merkle_root: bytes, chunk: Sequence[tuple[bytes, bytes, int]]) -> bytes:
    """The stand-in root of a transaction that carries part of ``merkle_root``'s heads but not the root.

    ``keccak256(merkleRoot ‖ keccak256(batchKey ‖ head ‖ uint64(eventCount) for each head))``: unique per
    root and per content, so a resumed anchor whose chunks differ never collides with what already landed.
    Its root record carries an event total of 0; no event can prove inclusion in it (that would need a
    Keccak pre-image), so it never stands in for the root itself.
    """
    body = b"".join(key + head + count.to_bytes(8, "big") for key, head, count in chunk)
    return keccak256(merkle_root + keccak256(body))


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


class ChainClient:
    """Client of one anchor contract on one node; safe to share between the threads of one process."""

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

    # --- the contract --------------------------------------------------------------------------------------

    def deploy(self, deployer_key: bytes, regulator_admin: str, anchorer: str) -> str:
        """Deploy a new anchor contract, bind this client to it and return its address."""
        self.deploy_receipt(deployer_key, regulator_admin, anchorer)
        return self.contract_address

    def deploy_receipt(self, deployer_key: bytes, regulator_admin: str, anchorer: str) -> TxReceipt:
        """:meth:`deploy`, returning the deployment's receipt (``chain.deploy`` records its block)."""
        admin, anchoring = to_checksum_address(regulator_admin), to_checksum_address(anchorer)
        data = self.artifact.encode_deployment(admin, anchoring)
        (receipt,) = self.wait([self.send(deployer_key, data, create=True)])
        self.bind(str(receipt.contract_address))
        return receipt

    def code_at(self, address: str, block: Any = "latest") -> bytes:
        return bytes(self._retrying(self.w3.eth.get_code, to_checksum_address(address), block))

    def has_role(self, role: str, account: str) -> bool:
        return bool(self._view("hasRole", role_id(role), to_checksum_address(account))[0])

    def grant_role(self, admin_key: bytes, role: str, account: str) -> None:
        if not self.has_role(role, account):
            self.transact(admin_key, "grantRole", role_id(role), to_checksum_address(account))

    def register_batch(self, producer_key: bytes, batch_key: bytes, flow: Flow, registration_hash: bytes) -> None:
        """Register a batch; a retry finding it registered with the same hash returns without sending."""
        record = self.batch_record(batch_key)
        if record.registered and record.registration_hash == registration_hash:
            return
        self.transact(producer_key, "registerBatch", batch_key, int(flow), registration_hash)

    def anchor(
        self,
        anchorer_key: bytes,
        merkle_root: bytes,
        event_total: int,
        heads: Iterable[tuple[bytes, bytes, int]],
        *,
        max_gas_per_tx: int | None = None,
    ) -> list[AnchorReceipt]:
        """Anchor ``merkle_root`` of ``event_total`` events with the new heads of the batches they touched.

        Idempotent: a root already on chain is reported, not re-sent; heads already at or past their count
        on chain are dropped. Heads that do not fit in one transaction's gas go first in continuation
        transactions, and the root follows in the last one (see the module docstring).
        """
        updates = [HeadUpdate(*h) for h in heads]
        _check_anchor_input(merkle_root, updates)
        anchored = self.root_record(merkle_root)
        if anchored.anchored:
            return [AnchorReceipt(merkle_root, None, anchored.block_number, 0, 0, anchored.event_total, False)]
        per_tx = max(1, (self.gas_budget(max_gas_per_tx) - ANCHOR_BASE_GAS) // HEAD_GAS)
        chunks = [updates[i : i + per_tx] for i in range(0, len(updates), per_tx)] or [[]]
        continuations = [_AnchorPart(merkle_root, 0, chunk, True) for chunk in chunks[:-1]]
        receipts = self._land(anchorer_key, continuations)
        return receipts + self._land(anchorer_key, [_AnchorPart(merkle_root, event_total, chunks[-1], False)])

    def _land(self, key: bytes, parts: list[_AnchorPart]) -> list[AnchorReceipt]:
        """Send ``parts`` back to back, then wait for all of them.

        No dry run first: on the embedded node executing a thousand heads costs seconds, and a dry run would
        double it to catch a case that only a resumed or concurrent anchor meets. A part refused for a stale
        head is sent again without the heads the chain already has (read back one by one; that is rare).
        """
        receipts: list[AnchorReceipt] = []
        for _ in range(3):
            hashes = [self.send(key, part.calldata(self.artifact), gas=part.gas) for part in parts]
            stale: list[_AnchorPart] = []
            for part, tx_hash in zip(parts, hashes, strict=True):
                try:
                    (receipt,) = self.wait([tx_hash])
                except ContractReverted as exc:
                    if exc.error != "LotlineAnchorStaleHead":
                        raise
                    stale.append(part.without(self._landed(part.heads)))
                    continue
                receipts.append(part.receipt(tx_hash, receipt))
            parts = [part for part in stale if part.heads or not part.continuation]
            if not parts:
                return receipts
        raise ChainUnavailable("anchor heads keep going stale: another anchorer is racing this one")

    def _landed(self, heads: Sequence[HeadUpdate]) -> set[bytes]:
        return {u.batch_key for u in heads if self.batch_record(u.batch_key).event_count >= u.event_count}

    def open_recall(
        self,
        regulator_key: bytes,
        recall_id: bytes,
        batch_keys: Sequence[bytes],
        recall_class: int,
        reason_hash: bytes,
    ) -> None:
        self.transact(regulator_key, "openRecall", recall_id, list(batch_keys), recall_class, reason_hash)

    def close_recall(self, regulator_key: bytes, recall_id: bytes, reason_hash: bytes) -> None:
        self.transact(regulator_key, "closeRecall", recall_id, reason_hash)

    def place_hold(self, regulator_key: bytes, batch_key: bytes, reason_hash: bytes) -> None:
        self.transact(regulator_key, "placeHold", batch_key, reason_hash)

    def release_hold(self, regulator_key: bytes, batch_key: bytes, reason_hash: bytes) -> None:
        self.transact(regulator_key, "releaseHold", batch_key, reason_hash)

    def batch_record(self, batch_key: bytes) -> BatchRecord:
        return BatchRecord.from_abi(self._view("batchRecord", batch_key)[0])

    def root_record(self, merkle_root: bytes) -> RootRecord:
        return RootRecord(*self._view("rootRecord", merkle_root)[0])

    def recall_record(self, recall_id: bytes) -> RecallRecord:
        return RecallRecord.from_abi(self._view("recallRecord", recall_id)[0])

    def verify_event(self, digest: bytes, proof: Sequence[bytes], merkle_root: bytes) -> bool:
        """The contract's verdict on an inclusion proof; raises if ``merkle_root`` was never anchored."""
        return bool(self._view("verifyEvent", digest, list(proof), merkle_root)[0])

    @staticmethod
    def check_inclusion(digest: bytes, proof: Sequence[bytes], merkle_root: bytes) -> bool:
        """The same verdict computed here (ledger.merkle), for a cross-check that trusts no node."""
        return verify_proof(digest, proof, merkle_root)


@dataclass(frozen=True)
class _AnchorPart:
    """One anchor transaction of a possibly split anchor: the root (or its continuation) and its heads."""

    merkle_root: bytes
    event_total: int
    heads: list[HeadUpdate]
    continuation: bool

    @property
    def root(self) -> bytes:
        return continuation_root(self.merkle_root, self.heads) if self.continuation else self.merkle_root

    @property
    def gas(self) -> int:
        return ANCHOR_BASE_GAS + HEAD_GAS * len(self.heads)

    def calldata(self, artifact: ContractArtifact) -> bytes:
        keys, new_heads, counts = ([u[i] for u in self.heads] for i in range(3))
        return artifact.encode_call("anchor", self.root, self.event_total, keys, new_heads, counts)

    def without(self, batch_keys: set[bytes]) -> _AnchorPart:
        kept = [u for u in self.heads if u.batch_key not in batch_keys]
        return _AnchorPart(self.merkle_root, self.event_total, kept, self.continuation)

    def receipt(self, tx_hash: bytes, receipt: TxReceipt) -> AnchorReceipt:
        return AnchorReceipt(
            self.root,
            tx_hash,
            receipt.block_number,
            receipt.gas_used,
            len(self.heads),
            self.event_total,
            self.continuation,
        )


def _refused(message: str, sender: str) -> LotlineError:
    if "not authorized" in message or "not permitted" in message:
        return Forbidden(f"the node does not let {sender} send transactions", sender=sender)
    return RuleViolation(f"the node refused the transaction: {message}", sender=sender)


def _check_anchor_input(merkle_root: bytes, updates: Sequence[HeadUpdate]) -> None:
    if len(merkle_root) != DIGEST_SIZE or merkle_root == bytes(DIGEST_SIZE):
        raise InvalidInput("a Merkle root is 32 bytes and not zero", merkle_root="0x" + merkle_root.hex())
    if len({u.batch_key for u in updates}) != len(updates):
        raise InvalidInput("an anchor carries at most one head per batch")
    for update in updates:
        if len(update.batch_key) != DIGEST_SIZE or len(update.head) != DIGEST_SIZE or update.event_count <= 0:
            raise InvalidInput("a head update is (32-byte batch key, 32-byte head, positive event count)")
