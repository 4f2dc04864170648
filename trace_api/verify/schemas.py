"""An event's proof over the JSON API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from trace_api.web.schemas import Response


class SignatureOut(Response):
    signer: str = Field(description="the address that signed the event's EIP-712 digest")
    nonce: int
    deadline: int
    signature: str
    organisation: str | None
    valid: bool = Field(description="the signature recovers to the organisation's registered address, in time")
    problem: str | None = Field(default=None, description="why the signature is not valid")


class AnchorOut(Response):
    merkle_root: str
    merkle_index: int | None
    merkle_proof: list[str]
    tx_hash: str | None
    block_number: int | None
    chain_id: int | None
    contract: str | None
    proof_valid_offline: bool = Field(description="the Merkle proof recomputed here leads to the anchored root")


class ChainVerdict(Response):
    root_block: int = Field(description="the block the Merkle root was anchored in, as the contract records it")
    event_total: int
    verified: bool = Field(description="the contract's own check of the Merkle proof")


class ChainUnreachable(Response):
    error: str


class EventProof(Response):
    event_id: str
    event: dict[str, Any] | None = Field(
        description="the EPCIS 2.0 event as stored, for the organisations that took part in it and for regulators "
        "(bearer token); none for anyone else, since it names counterparties and every serial it moved"
    )
    recomputed_hash: str
    hash_matches: bool
    error_declaration: dict[str, Any] | None = Field(
        default=None,
        description="EPCIS errorDeclaration captured for this event, kept beside it (the hash ignores it)",
    )
    signature: SignatureOut
    anchor: AnchorOut | None = Field(description="none until the event is in a confirmed anchor")
    on_chain: ChainVerdict | ChainUnreachable | None = Field(description="none when there is no chain to ask")
    status: Literal["pending", "anchored", "verified", "mismatch", "refused"]
