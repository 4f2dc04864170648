"""An event's proof as a person follows it: what was recorded, the hashes, the Merkle path hash by hash, the block,
and the values to check it without trusting this server.

It shows what anyone may see of an event (see docs/anchoring.md): the step as the consumer page words it, the
event's hash, the Merkle path, the anchoring transaction and block, and the contract's address. The event
document itself — counterparties' identifiers, every serial it names — is not on this page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import errors
from ledger.declarations import declaration_of
from ledger.event_hash import hash_digest
from ledger.journey import Step, event_step
from ledger.merkle import proof_nodes
from ledger.models import Event
from trace_api.verify.schemas import ChainUnreachable, ChainVerdict, EventProof


@dataclass(frozen=True)
class PathStep:
    """One sibling of the path and the node it makes with the hash below it."""

    sibling: str
    node: str


@dataclass(frozen=True)
class OnChain:
    chain_id: int | None
    block_number: int | None
    tx_hash: str | None
    contract: str | None
    root: str
    leaf_index: int | None
    leaf: str
    path: list[PathStep]
    proof_valid_offline: bool
    root_block: int | None  # as the contract records it, when it was asked
    event_total: int | None
    contract_verified: bool | None  # None: the contract was not asked (no node configured) or could not be reached
    chain_error: str | None


@dataclass(frozen=True)
class Declaration:
    """An EPCIS error declaration about the event: when, why (a CBV reason), and the events that correct it."""

    time: datetime
    reason: str | None
    corrective: list[tuple[str, str | None]]  # each id, with its proof page when it is a CBV 2.0 event hash


@dataclass(frozen=True)
class ReadableProof:
    event_id: str
    digest: str
    status: str
    hash_matches: bool
    what: str | None
    time: datetime
    by: str
    roles: list[str]
    region_code: str | None
    anchor: OnChain | None
    declaration: Declaration | None = None

    @property
    def path_values(self) -> str:
        """The proof as a Solidity ``bytes32[]`` literal, for pasting into a contract call."""
        return "[" + ",".join(step.sibling for step in self.anchor.path) + "]" if self.anchor else "[]"


def readable_proof(session: Session, proof: EventProof) -> ReadableProof:
    """The page's view of a checked proof (``verify.service.event_proof``), with the event's public facts."""
    seq = session.scalar(select(Event.seq).where(Event.event_id == proof.event_id))
    step: Step | None = event_step(session, seq) if seq is not None else None
    if step is None:
        raise errors.UnknownEvent(f"no event {proof.event_id}", event_id=proof.event_id)
    digest = hash_digest(proof.event_id)
    return ReadableProof(
        event_id=proof.event_id,
        digest="0x" + digest.hex(),
        status=proof.status,
        hash_matches=proof.hash_matches,
        what=step.what,
        time=step.event_time,
        by=step.by.name,
        roles=step.by.roles,
        region_code=step.region_code,
        anchor=_on_chain(proof, digest),
        declaration=_declaration(session, seq),
    )


def _declaration(session: Session, seq: int | None) -> Declaration | None:
    row = declaration_of(session, seq) if seq is not None else None
    if row is None:
        return None
    reason = (row.reason or "").removeprefix("https://ref.gs1.org/cbv/ER-").removeprefix("urn:epcglobal:cbv:er:")
    corrective = [(event_id, _proof_href(event_id)) for event_id in row.corrective_event_ids]
    return Declaration(row.declaration_time, reason or None, corrective)


def _proof_href(event_id: str) -> str | None:
    try:
        return f"/proof/{hash_digest(event_id).hex()}"
    except errors.InvalidEvent:  # a urn:uuid the partner never sent us: nothing to link to
        return None


def _on_chain(proof: EventProof, digest: bytes) -> OnChain | None:
    anchor = proof.anchor
    if anchor is None:
        return None
    siblings = anchor.merkle_proof
    nodes = proof_nodes(digest, [bytes.fromhex(s.removeprefix("0x")) for s in siblings])
    verdict = proof.on_chain
    return OnChain(
        chain_id=anchor.chain_id,
        block_number=anchor.block_number,
        tx_hash=anchor.tx_hash,
        contract=anchor.contract,
        root=anchor.merkle_root,
        leaf_index=anchor.merkle_index,
        leaf="0x" + nodes[0].hex(),
        path=[PathStep(sibling, "0x" + node.hex()) for sibling, node in zip(siblings, nodes[1:], strict=True)],
        proof_valid_offline=anchor.proof_valid_offline,
        root_block=verdict.root_block if isinstance(verdict, ChainVerdict) else None,
        event_total=verdict.event_total if isinstance(verdict, ChainVerdict) else None,
        contract_verified=verdict.verified if isinstance(verdict, ChainVerdict) else None,
        chain_error=verdict.error if isinstance(verdict, ChainUnreachable) else None,
    )
