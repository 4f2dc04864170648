"""Proof of one event, checked against the chain live: what a consumer's "anchored" badge links to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from chain.client import ChainClient, ChainUnavailable
from ledger import errors
from ledger.event_hash import event_hash, hash_digest
from ledger.merkle import verify_proof
from ledger.models import Anchor, AnchorStatus, Event, Organisation


def event_proof(session: Session, client: ChainClient | None, event_id: str) -> dict[str, Any]:
    event = session.scalar(select(Event).where(Event.event_id == event_id))
    if event is None:
        raise errors.UnknownEvent(f"no event {event_id}", event_id=event_id)
    document = {k: v for k, v in event.document.items() if k != "eventID"}
    recomputed = event_hash(document)
    digest = hash_digest(event.event_id)
    author = session.get(Organisation, event.org_id)
    out: dict[str, Any] = {
        "event_id": event.event_id,
        "event": event.document,
        "recomputed_hash": recomputed,
        "hash_matches": recomputed == event.event_id,
        "signature": {
            "signer": event.signer,
            "nonce": event.nonce,
            "deadline": event.deadline,
            "signature": event.signature,
            "organisation": author.name if author else None,
        },
        "anchor": None,
        "on_chain": None,
    }
    anchor = session.get(Anchor, event.anchor_id) if event.anchor_id is not None else None
    if anchor is None or anchor.status is not AnchorStatus.CONFIRMED or event.merkle_proof is None:
        out["status"] = "pending"
        return out
    proof = [bytes.fromhex(p.removeprefix("0x")) for p in event.merkle_proof]
    root = bytes.fromhex(anchor.merkle_root.removeprefix("0x"))
    out["anchor"] = {
        "merkle_root": anchor.merkle_root,
        "merkle_index": event.merkle_index,
        "merkle_proof": event.merkle_proof,
        "tx_hash": anchor.tx_hash,
        "block_number": anchor.block_number,
        "chain_id": anchor.chain_id,
        "contract": anchor.contract_address,
        "proof_valid_offline": verify_proof(digest, proof, root),
    }
    if client is None:
        out["status"] = "anchored"
        return out
    try:
        root_record = client.root_record(root)
        on_chain_valid = client.verify_event(digest, proof, root)
        out["on_chain"] = {
            "root_block": root_record.block_number,
            "event_total": root_record.event_total,
            "verified": on_chain_valid,
        }
        out["status"] = "verified" if on_chain_valid and out["hash_matches"] else "mismatch"
    except ChainUnavailable as error:
        out["on_chain"] = {"error": error.detail}
        out["status"] = "anchored"
    return out
