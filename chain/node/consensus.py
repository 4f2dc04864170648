"""Proof of authority for a Cancun-rules chain: the sealer signs each header, importers check the signer.

py-evm's Clique implementation only runs on pre-merge VMs, so this follows Clique's seal format on top of
``CancunVM`` (the newest fork whose bytecode solc's ``evmVersion: "cancun"`` targets and that py-evm 0.12 runs
without Prague's system-contract machinery):

- ``extraData`` = 32 bytes of vanity + a 65-byte secp256k1 signature ``r || s || v`` (``v`` in {0, 1});
- the signed hash is the keccak of the RLP header whose ``extraData`` is the vanity alone;
- ``coinbase`` is the sealer's address, so explorers and ``eth_getBlock().miner`` show who sealed;
- a header whose recovered signer is not in the authority set is invalid, wherever it comes from.

Header timestamps may equal the parent's (Clique with ``period = 0`` allows the same): a node sealing several
blocks per second would otherwise run its clock ahead of wall time, and contracts compare
``block.timestamp`` with real deadlines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar, cast

import rlp
from eth.abc import (
    BlockAndMetaWitness,
    BlockAPI,
    BlockHeaderAPI,
    ConsensusAPI,
    ConsensusContextAPI,
    ReceiptAPI,
    SignedTransactionAPI,
    VirtualMachineAPI,
    WithdrawalAPI,
)
from eth.chains.base import MiningChain
from eth.vm.forks.cancun import CancunVM
from eth_keys.datatypes import PrivateKey, Signature
from eth_keys.exceptions import BadSignature
from eth_typing import Address, BlockNumber
from eth_utils import ValidationError, keccak

from chain.node.ordered_trie import trie_root_and_nodes

VANITY_LENGTH = 32
SIGNATURE_LENGTH = 65
SEALED_EXTRA_DATA_LENGTH = VANITY_LENGTH + SIGNATURE_LENGTH
VANITY = b"lotline".ljust(VANITY_LENGTH, b"\0")


def seal_hash(header: BlockHeaderAPI) -> bytes:
    """The hash a sealer signs: the header with the signature part of ``extraData`` cut off."""
    unsigned = header.copy(extra_data=header.extra_data[:VANITY_LENGTH])
    return keccak(rlp.encode(unsigned))


def sign_header(header: BlockHeaderAPI, key: PrivateKey) -> BlockHeaderAPI:
    """Return ``header`` sealed by ``key`` (any previous signature is replaced)."""
    unsigned = header.copy(extra_data=header.extra_data[:VANITY_LENGTH].ljust(VANITY_LENGTH, b"\0"))
    signature = key.sign_msg_hash(seal_hash(unsigned))
    return unsigned.copy(extra_data=unsigned.extra_data + signature.to_bytes())


def recover_sealer(header: BlockHeaderAPI) -> Address:
    """The address that signed ``header``; ValidationError if there is no well-formed seal."""
    if len(header.extra_data) != SEALED_EXTRA_DATA_LENGTH:
        raise ValidationError(
            f"extraData must be {SEALED_EXTRA_DATA_LENGTH} bytes (vanity + seal), got {len(header.extra_data)}"
        )
    try:
        signature = Signature(header.extra_data[VANITY_LENGTH:])
        public_key = signature.recover_public_key_from_msg_hash(seal_hash(header))
    except (BadSignature, ValueError) as exc:
        raise ValidationError(f"unreadable block seal: {exc}") from exc
    return Address(public_key.to_canonical_address())


class AuthorityConsensus(ConsensusAPI):
    """Accepts a header only when its seal recovers to a configured authority that is also its coinbase."""

    authorities: ClassVar[frozenset[bytes]] = frozenset()

    def __init__(self, context: ConsensusContextAPI) -> None:
        self._context = context

    def validate_seal(self, header: BlockHeaderAPI) -> None:
        signer = recover_sealer(header)
        if signer not in self.authorities:
            raise ValidationError(f"block #{header.block_number} is sealed by 0x{signer.hex()}, not an authority")
        if header.coinbase != signer:
            raise ValidationError(f"block #{header.block_number} coinbase is not its sealer 0x{signer.hex()}")

    def validate_seal_extension(self, header: BlockHeaderAPI, parents: Iterable[BlockHeaderAPI]) -> None:
        self.validate_seal(header)

    @classmethod
    def get_fee_recipient(cls, header: BlockHeaderAPI) -> Address:
        return header.coinbase


class SealingCancunVM(CancunVM):
    """CancunVM that seals the blocks it finalizes when it holds an authority key.

    Blocks that already carry a seal (imported ones) keep it, so ``import_block`` re-executes them and then
    checks the original signature instead of re-signing.
    """

    sealer_key: PrivateKey | None = None
    extra_data_max_bytes: ClassVar[int] = SEALED_EXTRA_DATA_LENGTH

    def finalize_block(self, block: BlockAPI) -> BlockAndMetaWitness:
        result = super().finalize_block(block)
        header = result.block.header
        if self.sealer_key is None or len(header.extra_data) == SEALED_EXTRA_DATA_LENGTH:
            return result
        sealed = result.block.copy(header=sign_header(header, self.sealer_key))
        return BlockAndMetaWitness(sealed, result.meta_witness)

    def set_block_transactions_and_withdrawals(
        self,
        base_block: BlockAPI,
        new_header: BlockHeaderAPI,
        transactions: Sequence[SignedTransactionAPI],
        receipts: Sequence[ReceiptAPI],
        withdrawals: Sequence[WithdrawalAPI] | None = None,
    ) -> BlockAPI:
        """py-evm's version with the one-pass trie builder (identical roots and nodes, ~8x faster)."""
        tx_root, tx_nodes = trie_root_and_nodes([tx.encode() for tx in transactions])
        receipt_root, receipt_nodes = trie_root_and_nodes([receipt.encode() for receipt in receipts])
        self.chaindb.persist_trie_data_dict({**tx_nodes, **receipt_nodes})
        header_fields: dict[str, object] = {"transaction_root": tx_root, "receipt_root": receipt_root}
        block_fields: dict[str, object] = {"transactions": transactions}
        if withdrawals:
            withdrawals_root, withdrawal_nodes = trie_root_and_nodes([w.encode() for w in withdrawals])
            self.chaindb.persist_trie_data_dict(withdrawal_nodes)
            header_fields["withdrawals_root"] = withdrawals_root
            block_fields["withdrawals"] = withdrawals
        return base_block.copy(header=new_header.copy(**header_fields), **block_fields)

    @classmethod
    def validate_header(cls, header: BlockHeaderAPI, parent_header: BlockHeaderAPI) -> None:
        if parent_header is not None and header.timestamp == parent_header.timestamp:
            # The only relaxed rule (see module docstring): check everything else on a copy one second later.
            header = header.copy(timestamp=header.timestamp + 1)
        super().validate_header(header, parent_header)


def chain_class(chain_id: int, authorities: Iterable[bytes], sealer_key: PrivateKey | None) -> type[MiningChain]:
    """A chain class for one network: its id, its authority set and (on a sealing node) the sealer's key."""
    consensus = cast(
        "type[ConsensusAPI]",
        type("LotlineAuthorityConsensus", (AuthorityConsensus,), {"authorities": frozenset(authorities)}),
    )
    vm = SealingCancunVM.configure(__name__="LotlineVM", consensus_class=consensus, sealer_key=sealer_key)
    vm_configuration: tuple[tuple[BlockNumber, type[VirtualMachineAPI]], ...] = ((BlockNumber(0), vm),)
    return MiningChain.configure(__name__="LotlineChain", vm_configuration=vm_configuration, chain_id=chain_id)
