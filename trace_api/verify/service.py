"""Proof of one event: its hash recomputed, its signature, its Merkle proof, and the contract's own verdict.

The signature is checked against the organisation's registered address (``ledger.signature_check``; the nonce
order needs the organisation's history, which ``lotline verify`` checks). An event whose signature fails is
never ``verified``: ``refused`` when the anchoring worker refused it, ``mismatch`` if it is anchored anyway.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from chain.client import ChainClient, ChainUnavailable
from ledger import errors
from ledger.declarations import declaration_of
from ledger.declarations import published as published_declaration
from ledger.event_hash import event_hash, hash_digest
from ledger.merkle import verify_proof
from ledger.models import Anchor, AnchorStatus, Event, Movement, Organisation, OutboxEntry, Role
from ledger.signature_check import SignedRow, signature_problem
from ledger.signing import SigningDomain
from trace_api.verify.schemas import AnchorOut, ChainUnreachable, ChainVerdict, EventProof, SignatureOut


def event_proof(
    session: Session,
    client: ChainClient | None,
    event_id: str,
    domain: SigningDomain,
    viewer: Organisation | None = None,
) -> EventProof:
    """``status``: pending until the event is in a confirmed anchor, then anchored; verified or mismatch once
    the contract (when there is one to ask) has checked the proof. The event's document is shown only to a
    ``viewer`` that took part in it or regulates (see docs/anchoring.md): the hashes and the proof are public."""
    event = session.scalar(select(Event).where(Event.event_id == event_id))
    if event is None:
        raise errors.UnknownEvent(f"no event {event_id}", event_id=event_id)
    recomputed = event_hash({k: v for k, v in event.document.items() if k != "eventID"})
    author = session.get(Organisation, event.org_id)
    problem = signature_problem(SignedRow.of(event), domain, author.chain_address if author else None, None)
    proof = EventProof(
        event_id=event.event_id,
        event=event.document if viewer is not None and took_part(session, viewer, event) else None,
        recomputed_hash=recomputed,
        hash_matches=recomputed == event.event_id,
        error_declaration=published_declaration(declared) if (declared := declaration_of(session, event.seq)) else None,
        signature=SignatureOut(
            signer=event.signer,
            nonce=event.nonce,
            deadline=event.deadline,
            signature=event.signature,
            organisation=author.name if author else None,
            valid=problem is None,
            problem=problem,
        ),
        anchor=None,
        on_chain=None,
        status="pending",
    )
    anchor = session.get(Anchor, event.anchor_id) if event.anchor_id is not None else None
    if anchor is None or anchor.status is not AnchorStatus.CONFIRMED or event.merkle_proof is None:
        refused = session.scalar(select(OutboxEntry.refused_at).where(OutboxEntry.event_seq == event.seq))
        proof.status = "refused" if refused is not None else "pending"
        return proof
    return _checked(proof, event, anchor, client)


def took_part(session: Session, org: Organisation, event: Event) -> bool:
    """A regulator, the event's recorder, or a sender or receiver of goods it moved."""
    if org.has_role(Role.REGULATOR) or event.org_id == org.id:
        return True
    moved = select(Movement.id).where(
        Movement.event_seq == event.seq, or_(Movement.from_org_id == org.id, Movement.to_org_id == org.id)
    )
    return session.scalar(moved.limit(1)) is not None


def _checked(proof: EventProof, event: Event, anchor: Anchor, client: ChainClient | None) -> EventProof:
    assert event.merkle_proof is not None
    digest = hash_digest(event.event_id)
    path = [bytes.fromhex(p.removeprefix("0x")) for p in event.merkle_proof]
    root = bytes.fromhex(anchor.merkle_root.removeprefix("0x"))
    proof.anchor = AnchorOut(
        merkle_root=anchor.merkle_root,
        merkle_index=event.merkle_index,
        merkle_proof=event.merkle_proof,
        tx_hash=anchor.tx_hash,
        block_number=anchor.block_number,
        chain_id=anchor.chain_id,
        contract=anchor.contract_address,
        proof_valid_offline=verify_proof(digest, path, root),
    )
    proof.status = "anchored"
    if client is None:
        return proof
    try:
        record = client.root_record(root)
        verified = client.verify_event(digest, path, root)
    except ChainUnavailable as error:
        proof.on_chain = ChainUnreachable(error=error.detail)
        return proof
    proof.on_chain = ChainVerdict(root_block=record.block_number, event_total=record.event_total, verified=verified)
    proof.status = "verified" if verified and proof.hash_matches and proof.signature.valid else "mismatch"
    return proof
