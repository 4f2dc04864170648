"""lotline's one client for the anchor contract: its functions, over any EVM node's JSON-RPC.

The transactions themselves (signing, nonces, fees, receipts, replaying a failure to name its error) are
:class:`chain.transactions.ContractRpc`'s; the same code serves the embedded py-evm node, anvil in the tests
and a Besu QBFT network in production.

Anchoring a set of batch heads larger than one transaction can carry is split. The Merkle root travels in
the LAST transaction; the ones before it anchor *continuation roots* (see :func:`continuation_root`) with an
event total of 0. A root on chain therefore means every head of its anchor landed: a retry after a crash
checks :meth:`ChainClient.root_record` and either stops there or resumes, dropping the heads that already
landed (the contract refuses a head that does not move forward, so they are recognised as stale).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from eth_utils.address import to_checksum_address

from chain.artifacts import (
    BatchRecord,
    ContractArtifact,
    ContractReverted,
    Flow,
    HeadUpdate,
    RecallRecord,
    RootRecord,
    role_id,
)
from chain.transactions import ChainUnavailable, ContractRpc, TxReceipt
from ledger.errors import InvalidInput
from ledger.merkle import DIGEST_SIZE, keccak256, verify_proof

__all__ = ["ANCHOR_BASE_GAS", "HEAD_GAS", "AnchorReceipt", "ChainClient", "ChainUnavailable", "TxReceipt"]

HEAD_GAS: Final = 56_000
"""Upper bound of the gas one batch head costs in ``anchor``: two storage slots written from zero (22,100
each), a cold slot read, the log and the calldata. Updates of known batches cost less; unused gas is free."""
ANCHOR_BASE_GAS: Final = 120_000
"""Intrinsic gas, role check, the root record and its event: everything in ``anchor`` but the heads."""


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


class ChainClient(ContractRpc):
    """Client of one anchor contract on one node; safe to share between the threads of one process."""

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


def _check_anchor_input(merkle_root: bytes, updates: Sequence[HeadUpdate]) -> None:
    if len(merkle_root) != DIGEST_SIZE or merkle_root == bytes(DIGEST_SIZE):
        raise InvalidInput("a Merkle root is 32 bytes and not zero", merkle_root="0x" + merkle_root.hex())
    if len({u.batch_key for u in updates}) != len(updates):
        raise InvalidInput("an anchor carries at most one head per batch")
    for update in updates:
        if len(update.batch_key) != DIGEST_SIZE or len(update.head) != DIGEST_SIZE or update.event_count <= 0:
            raise InvalidInput("a head update is (32-byte batch key, 32-byte head, positive event count)")
