"""Read-only view of the chain on its own SQLite connection.

The RPC thread answers reads here while the sealer thread writes on the other connection: WAL gives each
statement the last committed block, so reads never wait for a block being executed and never see half of one.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass

from eth.abc import (
    BlockAPI,
    BlockHeaderAPI,
    ComputationAPI,
    SignedTransactionAPI,
    StateAPI,
    VirtualMachineAPI,
)
from eth.chains.base import MiningChain
from eth.exceptions import BlockNotFound, HeaderNotFound, OutOfGas, Revert, TransactionNotFound
from eth.vm.spoof import SpoofTransaction
from eth_typing import Address, BlockNumber, Hash32
from eth_utils import ValidationError

from chain.node import index
from chain.node.kvstore import SqliteKV
from ledger.errors import InvalidInput, NotFound, RuleViolation

REVERT_CODE = 3
"""JSON-RPC code for a reverted call; with the revert data, web3.py and ethers decode custom errors."""


@dataclass(frozen=True)
class CallParams:
    """The ``eth_call`` / ``eth_estimateGas`` transaction object, already decoded."""

    sender: Address
    to: Address | None
    data: bytes = b""
    value: int = 0
    gas: int | None = None


class ChainReader:
    def __init__(self, kv: SqliteKV, chain: MiningChain, call_gas_cap: int) -> None:
        self._kv = kv
        self._chain = chain
        self._lock = threading.RLock()
        self.call_gas_cap = call_gas_cap

    @property
    def conn(self) -> sqlite3.Connection:
        return self._kv.conn

    def lock(self) -> threading.RLock:
        """Held by callers that make several reads on the shared connection from another thread."""
        return self._lock

    def head(self) -> BlockHeaderAPI:
        with self._lock:
            return self._chain.get_canonical_head()

    def header_by_number(self, number: int) -> BlockHeaderAPI | None:
        with self._lock:
            try:
                return self._chain.get_canonical_block_header_by_number(BlockNumber(number))
            except HeaderNotFound:
                return None

    def header_by_hash(self, block_hash: bytes) -> BlockHeaderAPI | None:
        with self._lock:
            try:
                header = self._chain.get_block_header_by_hash(Hash32(block_hash))
            except (HeaderNotFound, ValidationError):
                return None
            canonical = self.header_by_number(header.block_number)
            return header if canonical is not None and canonical.hash == header.hash else None

    def block(self, header: BlockHeaderAPI) -> BlockAPI:
        with self._lock:
            try:
                return self._chain.get_block_by_header(header)
            except BlockNotFound as exc:
                raise NotFound(f"block {header.block_number} is missing its body") from exc

    def mined_transaction(self, record: index.TxRecord) -> SignedTransactionAPI:
        with self._lock:
            try:
                return self._chain.get_canonical_transaction_by_index(BlockNumber(record.block_number), record.tx_index)
            except TransactionNotFound as exc:
                raise NotFound(f"transaction 0x{record.hash.hex()} is indexed but missing") from exc

    def _state(self, header: BlockHeaderAPI) -> StateAPI:
        return self._chain.get_vm(header).state

    def balance(self, header: BlockHeaderAPI, address: Address) -> int:
        with self._lock:
            return self._state(header).get_balance(address)

    def nonce(self, header: BlockHeaderAPI, address: Address) -> int:
        with self._lock:
            return self._state(header).get_nonce(address)

    def committed_nonce(self, address: Address) -> int:
        with self._lock:
            return self.nonce(self.head(), address)

    def code(self, header: BlockHeaderAPI, address: Address) -> bytes:
        with self._lock:
            return self._state(header).get_code(address)

    def storage(self, header: BlockHeaderAPI, address: Address, slot: int) -> int:
        with self._lock:
            return self._state(header).get_storage(address, slot)

    def call(self, params: CallParams, header: BlockHeaderAPI) -> bytes:
        """Execute ``params`` on top of ``header`` without a signature or fees; raise on revert."""
        with self._lock:
            vm = self._chain.get_vm(header)
            with vm.in_costless_state() as state:
                computation = _execute(vm, state, params, params.gas or self.call_gas_cap)
                _raise_if_failed(computation)
                return computation.output

    def estimate_gas(self, params: CallParams, header: BlockHeaderAPI) -> int:
        """The least gas that lets ``params`` succeed, to 0.1 %: one full run, then a short bisection.

        py-evm's own estimator starts its bisection at the block gas limit (10⁹ here), which makes an
        accidental infinite loop cost minutes; the search below starts from the gas the full run used.
        """
        cap = params.gas or self.call_gas_cap
        with self._lock:
            vm = self._chain.get_vm(header)
            with vm.in_costless_state() as state:
                full = _execute(vm, state, params, cap)
                _raise_if_failed(full)
                intrinsic = _transaction(vm, state, params, cap).intrinsic_gas
                low = intrinsic + full.get_gas_used() - 1
                high = cap
                guess = min(cap, (low + 2_300) * 64 // 63)
                while high - low > 1 and (high - low) * 1_000 > high:
                    if _execute(vm, state, params, guess).is_success:
                        high = guess
                    else:
                        low = guess
                    guess = (low + high) // 2
                return high


def _transaction(vm: VirtualMachineAPI, state: StateAPI, params: CallParams, gas: int) -> SignedTransactionAPI:
    unsigned = vm.create_unsigned_transaction(
        nonce=state.get_nonce(params.sender),
        gas_price=0,
        gas=gas,
        to=params.to or Address(b""),
        value=params.value,
        data=params.data,
    )
    spoofed: SignedTransactionAPI = SpoofTransaction(unsigned, from_=params.sender)  # type: ignore[assignment]
    return spoofed


def _execute(vm: VirtualMachineAPI, state: StateAPI, params: CallParams, gas: int) -> ComputationAPI:
    snapshot = state.snapshot()
    try:
        return state.costless_execute_transaction(_transaction(vm, state, params, gas))
    except ValidationError as exc:
        raise InvalidInput(str(exc), rpc_code=-32000) from exc
    finally:
        state.revert(snapshot)


def _raise_if_failed(computation: ComputationAPI) -> None:
    if computation.is_success:
        return
    if isinstance(computation.error, Revert):
        raise RuleViolation("execution reverted", rpc_code=REVERT_CODE, data="0x" + computation.output.hex())
    if isinstance(computation.error, OutOfGas):
        raise RuleViolation("gas required exceeds allowance", rpc_code=-32000)
    raise RuleViolation(f"execution failed: {type(computation.error).__name__}", rpc_code=-32000)
