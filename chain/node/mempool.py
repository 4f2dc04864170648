"""Pending transactions between ``eth_sendRawTransaction`` and the block that includes them.

The pool keeps arrival order, which is also nonce order per sender because a transaction is only accepted with
exactly the sender's next nonce (gaps are refused rather than queued, so a client sees its mistake at once).
Each sender's next nonce is remembered from its first transaction on: that lets submissions proceed without
touching chain state while the sealer thread is executing a block.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from eth.abc import SignedTransactionAPI
from eth_typing import Address

from ledger.errors import Conflict, InvalidInput


@dataclass(frozen=True)
class PendingTx:
    tx: SignedTransactionAPI
    sender: Address


NonceLookup = Callable[[Address], int]


class Mempool:
    def __init__(self) -> None:
        self._work = threading.Condition()
        self._queue: list[PendingTx] = []
        self._by_hash: dict[bytes, PendingTx] = {}
        self._next_nonce: dict[bytes, int] = {}

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, pending: PendingTx, committed_nonce: NonceLookup) -> None:
        """Queue a transaction carrying its sender's next nonce; refuse duplicates and nonce gaps."""
        tx = pending.tx
        with self._work:
            if tx.hash in self._by_hash:
                raise Conflict("already known", rpc_code=-32000)
            expected = self._nonce_locked(pending.sender, committed_nonce)
            if tx.nonce < expected:
                raise InvalidInput(f"nonce too low: next nonce {expected}, tx nonce {tx.nonce}", rpc_code=-32000)
            if tx.nonce > expected:
                raise InvalidInput(f"nonce too high: next nonce {expected}, tx nonce {tx.nonce}", rpc_code=-32000)
            self._queue.append(pending)
            self._by_hash[tx.hash] = pending
            self._next_nonce[pending.sender] = expected + 1
            self._work.notify_all()

    def pending_nonce(self, sender: Address, committed_nonce: NonceLookup) -> int:
        with self._work:
            return self._nonce_locked(sender, committed_nonce)

    def _nonce_locked(self, sender: Address, committed_nonce: NonceLookup) -> int:
        # A sender with nothing pending has no cached entry, so its committed nonce is final for this moment:
        # the sealer only advances nonces of senders whose transactions are in the pool.
        if sender not in self._next_nonce:
            self._next_nonce[sender] = committed_nonce(sender)
        return self._next_nonce[sender]

    def get(self, tx_hash: bytes) -> PendingTx | None:
        with self._work:
            return self._by_hash.get(tx_hash)

    def wait_for_work(self, timeout: float) -> bool:
        with self._work:
            return self._work.wait_for(lambda: bool(self._queue), timeout)

    def wake(self) -> None:
        with self._work:
            self._work.notify_all()

    def take(self, gas_budget: int) -> list[PendingTx]:
        """The oldest transactions whose gas limits fit in ``gas_budget``; they stay pending until settled."""
        with self._work:
            batch: list[PendingTx] = []
            for pending in self._queue:
                gas_budget -= pending.tx.gas
                if gas_budget < 0:
                    break
                batch.append(pending)
            return batch

    def settle(self, done: Iterable[PendingTx], dropped: Iterable[PendingTx], committed_nonce: NonceLookup) -> None:
        """Forget transactions now in a block or refused by the EVM.

        A refused transaction leaves a nonce gap, so the sender's later pending transactions could never be
        included either: they are dropped too and the sender starts again from its committed nonce.
        """
        dropped_senders = {p.sender for p in dropped}
        gone = {p.tx.hash for p in done} | {p.tx.hash for p in dropped}
        with self._work:
            keep: list[PendingTx] = []
            for pending in self._queue:
                if pending.tx.hash in gone or pending.sender in dropped_senders:
                    del self._by_hash[pending.tx.hash]
                else:
                    keep.append(pending)
            self._queue = keep
            for sender in dropped_senders:
                self._next_nonce[sender] = committed_nonce(sender)

    def forget_included(self, txs: Iterable[tuple[Address, int]]) -> None:
        """A block sealed elsewhere included these (sender, nonce): drop what they make stale."""
        included = dict(txs)  # the last nonce of each sender wins: blocks list a sender's nonces in order
        with self._work:
            stale = [p for p in self._queue if p.tx.nonce <= included.get(p.sender, -1)]
            for pending in stale:
                self._queue.remove(pending)
                self._by_hash.pop(pending.tx.hash, None)
            for sender, nonce in included.items():
                self._next_nonce[sender] = max(self._next_nonce.get(sender, 0), nonce + 1)
