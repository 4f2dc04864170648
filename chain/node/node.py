"""The embedded chain node: one process owning the chain database, a mempool and a sealer thread.

Writes (sealing, block import, allowlist changes) go through one SQLite connection under ``_write_lock``;
reads go through :class:`~chain.node.reader.ChainReader` on another. Sealing a block is one SQLite
transaction: state, block, canonical head and the SQL log index commit together, which is what survives
``kill -9``.
"""

from __future__ import annotations

import functools
import logging
import operator
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import rlp
from eth.abc import BlockAPI, BlockHeaderAPI, ReceiptAPI
from eth.vm.forks.cancun.constants import BLOB_TX_TYPE
from eth_keys import keys
from eth_keys.exceptions import BadSignature
from eth_typing import Address
from eth_utils import ValidationError, to_canonical_address

from chain.node import index
from chain.node.consensus import VANITY, chain_class, recover_sealer
from chain.node.genesis import GenesisConfig, checksum
from chain.node.kvstore import SqliteKV, connect
from chain.node.mempool import Mempool, PendingTx
from chain.node.reader import ChainReader
from ledger.errors import Forbidden, InvalidInput, InvalidSignature, RuleViolation

logger = logging.getLogger(__name__)

NOT_AUTHORIZED = "Sender account not authorized to send transactions"
"""Besu's message (code -32007) for a sender outside the account allowlist."""

_UNDECODABLE = (rlp.exceptions.RLPException, ValidationError, ValueError, TypeError, IndexError, BadSignature)


@dataclass(frozen=True)
class NodeConfig:
    """``sealer_key`` (32 bytes) must belong to an authority; without it the node only follows and imports."""

    genesis: GenesisConfig
    sealer_key: bytes | None = None
    block_interval: float = 0.2
    call_gas_cap: int = 50_000_000


class EmbeddedNode:
    def __init__(self, data_dir: Path, config: NodeConfig) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "chain.sqlite"
        self._writer = SqliteKV(connect(self.path))
        index.create_schema(self._writer.conn)
        self.genesis = self._load_or_write_genesis(config.genesis)
        self._key = keys.PrivateKey(config.sealer_key) if config.sealer_key else None
        if self._key is not None and self._key.public_key.to_checksum_address() not in self.genesis.authorities:
            raise InvalidInput("the sealer key is not one of the genesis authorities")
        authorities = [to_canonical_address(a) for a in self.genesis.authorities]
        self._chain = chain_class(self.genesis.chain_id, authorities, self._key)(self._writer)
        read_kv = SqliteKV(connect(self.path, readonly=True))
        read_chain = chain_class(self.genesis.chain_id, authorities, None)(read_kv)
        self.reader = ChainReader(read_kv, read_chain, config.call_gas_cap)
        self._authorities = frozenset(authorities)
        self._allowlist = index.load_allowlist(self._writer.conn)
        self._tx_builder = self._chain.get_vm_class_for_block_number(
            self._chain.header.block_number
        ).get_transaction_builder()
        self._write_lock = threading.Lock()
        self.mempool = Mempool()
        self.block_interval = config.block_interval
        self._stopping = threading.Event()
        self._sealer: threading.Thread | None = None
        self._last_seal = 0.0

    @property
    def chain_id(self) -> int:
        return self.genesis.chain_id

    @property
    def sealer_address(self) -> Address | None:
        return None if self._key is None else Address(self._key.public_key.to_canonical_address())

    def _load_or_write_genesis(self, config: GenesisConfig) -> GenesisConfig:
        """The database's genesis wins over the one passed in: the chain already committed to it."""
        stored = index.get_meta(self._writer.conn, "genesis")
        if stored is not None:
            return GenesisConfig.from_json(stored)
        genesis = config.stamped()
        authorities = [to_canonical_address(a) for a in genesis.authorities]
        with self._writer.transaction() as conn:
            chain_class(genesis.chain_id, authorities, None).from_genesis(
                self._writer, genesis.header_params(), genesis.state()
            )
            index.set_meta(conn, "genesis", genesis.to_json())
            index.add_to_allowlist(conn, genesis.allowlist())
        return genesis

    def start(self) -> EmbeddedNode:
        """Start sealing pending transactions in the background (a following node has nothing to start)."""
        if self._key is not None and self._sealer is None:
            self._sealer = threading.Thread(target=self._seal_loop, name="lotline-sealer", daemon=True)
            self._sealer.start()
        return self

    def close(self) -> None:
        """Stop sealing (the block in progress completes) and close the database."""
        self._stopping.set()
        self.mempool.wake()
        if self._sealer is not None:
            self._sealer.join()
        with self._write_lock, self.reader.lock():
            self._writer.conn.close()
            self.reader.conn.close()

    def _seal_loop(self) -> None:
        while not self._stopping.is_set():
            if not self.mempool.wait_for_work(timeout=0.5):
                continue
            delay = self._last_seal + self.block_interval - time.monotonic()
            if delay > 0 and self._stopping.wait(delay):
                break
            self.seal_pending()

    # --- transactions in -------------------------------------------------------------------------------

    def send_raw_transaction(self, raw: bytes) -> bytes:
        """Validate a signed transaction and queue it; return its hash. The receipt appears once sealed."""
        if self._key is None:
            raise Forbidden("this node does not seal blocks", rpc_code=-32000)
        try:
            tx = self._tx_builder.decode(raw)
        except _UNDECODABLE as exc:
            raise InvalidInput(f"undecodable transaction: {exc}", rpc_code=-32602) from exc
        if tx.type_id == BLOB_TX_TYPE:
            raise InvalidInput("blob transactions are not supported", rpc_code=-32000)
        if tx.chain_id is None:
            raise InvalidInput("only replay-protected (EIP-155) transactions are accepted", rpc_code=-32000)
        if tx.chain_id != self.chain_id:
            raise InvalidInput(f"invalid chain id: expected {self.chain_id}, got {tx.chain_id}", rpc_code=-32000)
        try:
            tx.validate()  # field ranges, intrinsic gas and the signature
            sender = tx.sender
        except _UNDECODABLE as exc:
            raise InvalidSignature(f"invalid transaction: {exc}", rpc_code=-32000) from exc
        if checksum("0x" + sender.hex()) not in self._allowlist:
            raise Forbidden(NOT_AUTHORIZED, rpc_code=-32007)
        if tx.gas > self.genesis.gas_limit // 2:
            raise InvalidInput("exceeds block gas limit", rpc_code=-32000)
        cost = tx.value + tx.gas * tx.max_fee_per_gas
        if cost and self.reader.balance(self.reader.head(), sender) < cost:
            raise RuleViolation("insufficient funds for gas * price + value", rpc_code=-32000)
        self.mempool.add(PendingTx(tx, sender), self.reader.committed_nonce)
        return tx.hash

    def pending_nonce(self, address: Address) -> int:
        return self.mempool.pending_nonce(address, self.reader.committed_nonce)

    # --- sealing ---------------------------------------------------------------------------------------

    def seal_pending(self) -> BlockAPI | None:
        """Seal the oldest pending transactions into one block; None if nothing was pending.

        A block never uses more than half of the gas limit: that is EIP-1559's target, and staying at or
        under it keeps the base fee at zero (see ``genesis.py``).
        """
        with self._write_lock:
            self._last_seal = time.monotonic()
            batch = self.mempool.take(self.genesis.gas_limit // 2)
            if not batch:
                return None
            try:
                with self._writer.transaction() as conn:
                    block, receipts, included, dropped = self._build_block(batch)
                    self._chain.persist_block(block)
                    index.record_block(conn, block, receipts, [p.sender for p in included])
            except Exception:
                # A batch the EVM cannot turn into a valid block is dropped, or the sealer would retry it
                # forever.
                logger.exception("sealing %d transactions failed; dropping them", len(batch))
                self.mempool.settle((), batch, self._writer_nonce)
                return None
            self.mempool.settle(included, dropped, self._writer_nonce)
        for pending in dropped:
            logger.warning("dropped transaction 0x%s from 0x%s", pending.tx.hash.hex(), pending.sender.hex())
        return block

    def _writer_nonce(self, address: Address) -> int:
        return self._chain.get_vm(self._chain.get_canonical_head()).state.get_nonce(address)

    def _build_block(
        self, batch: list[PendingTx]
    ) -> tuple[BlockAPI, list[ReceiptAPI], list[PendingTx], list[PendingTx]]:
        """Apply ``batch`` like ``MiningChain.mine_all`` does, but drop the transactions the EVM refuses.

        A transaction accepted at submission can still be refused here, e.g. a value transfer whose sender
        spent the balance in an earlier transaction of the same block.
        """
        assert self._key is not None
        parent = self._chain.get_canonical_head()
        header = self._chain.create_header_from_parent(
            parent,
            timestamp=max(int(time.time()), parent.timestamp),
            gas_limit=parent.gas_limit,
            coinbase=self.sealer_address,
            extra_data=VANITY,
        )
        vm = self._chain.get_vm(header)
        receipts: list[ReceiptAPI] = []
        included: list[PendingTx] = []
        dropped: list[PendingTx] = []
        for pending in batch:
            if dropped and pending.sender in {d.sender for d in dropped}:
                dropped.append(pending)
                continue
            try:
                receipt, _ = vm.apply_transaction(header, pending.tx)
            except ValidationError:
                dropped.append(pending)
                continue
            # Only gas_used matters to the next transaction; the bloom is folded in once below (header
            # copies are slow in py-evm) and blob gas stays zero because blob transactions are refused.
            header = header.copy(gas_used=receipt.gas_used)
            receipts.append(receipt)
            included.append(pending)
        bloom = functools.reduce(operator.or_, (receipt.bloom for receipt in receipts), 0)
        header = header.copy(bloom=bloom)
        transactions = [p.tx for p in included]
        filled = vm.set_block_transactions_and_withdrawals(vm.get_block(), header, transactions, receipts)
        # mine_block() would also re-derive the roots just computed (validate_block); the chain still checks
        # the header and the seal when the block is persisted, and imported blocks get the full validation.
        return vm.finalize_block(vm.pack_block(filled)).block, receipts, included, dropped

    # --- blocks from elsewhere -------------------------------------------------------------------------

    def import_block(self, encoded: bytes) -> bytes:
        """Import an RLP-encoded block sealed elsewhere: sealed by an authority, extending the head.

        The seal is checked before any transaction runs; a refused block leaves no trace in the database.
        """
        block_class = self._chain.get_vm_class_for_block_number(self._chain.header.block_number).get_block_class()
        try:
            block: BlockAPI = rlp.decode(encoded, sedes=block_class)
        except _UNDECODABLE as exc:
            raise InvalidInput(f"undecodable block: {exc}", rpc_code=-32602) from exc
        try:
            signer = recover_sealer(block.header)
        except ValidationError as exc:
            raise InvalidSignature(f"block is not sealed: {exc}", rpc_code=-32000) from exc
        if signer not in self._authorities:
            raise InvalidSignature(f"block is sealed by 0x{signer.hex()}, not an authority", rpc_code=-32000)
        with self._write_lock:
            if block.header.parent_hash != self._chain.get_canonical_head().hash:
                raise RuleViolation("block does not extend the current head", rpc_code=-32000)
            try:
                with self._writer.transaction() as conn:
                    imported = self._chain.import_block(block).imported_block
                    receipts = imported.get_receipts(self._chain.chaindb)
                    senders = [tx.sender for tx in imported.transactions]
                    index.record_block(conn, imported, receipts, senders)
            except ValidationError as exc:
                raise RuleViolation(f"invalid block: {exc}", rpc_code=-32000) from exc
        self.mempool.forget_included((tx.sender, tx.nonce) for tx in imported.transactions)
        return imported.hash

    def raw_block(self, header: BlockHeaderAPI) -> bytes:
        encoded: bytes = rlp.encode(self.reader.block(header))
        return encoded

    # --- account permissioning -------------------------------------------------------------------------

    def allowlist(self) -> list[str]:
        return sorted(self._allowlist)

    def allow(self, addresses: list[str]) -> None:
        accounts = [checksum(a) for a in addresses]
        with self._write_lock, self._writer.transaction() as conn:
            index.add_to_allowlist(conn, accounts)
        self._allowlist = self._allowlist | set(accounts)

    def disallow(self, addresses: list[str]) -> None:
        accounts = [checksum(a) for a in addresses]
        with self._write_lock, self._writer.transaction() as conn:
            index.remove_from_allowlist(conn, accounts)
        self._allowlist = self._allowlist - set(accounts)
