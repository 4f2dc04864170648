"""An event's proof over HTTP, public: what the consumer page's anchored badge links to."""

from __future__ import annotations

import re
from typing import Final

from fastapi import APIRouter

from ledger import errors
from trace_api.verify.schemas import EventProof
from trace_api.verify.service import event_proof
from trace_api.web.deps import ReadSessionDep, StateDep, ViewerOrg
from trace_api.web.errors import error_responses

router = APIRouter(prefix="/api/v1", tags=["verify"])


HEX_DIGEST: Final = re.compile(r"[0-9a-fA-F]{64}")


@router.get("/verify/events/{event_id:path}", response_model=EventProof, responses=error_responses(errors.UnknownEvent))
def verify_event(
    event_id: str, session: ReadSessionDep, state: StateDep, viewer: ViewerOrg, ver: str | None = None
) -> EventProof:
    """An event, its CBV 2.0 hash recomputed, its signature, its Merkle proof, tx and block, and the contract's own
    verdict on the proof (``status``: pending, anchored, verified, mismatch, or refused when the signature is not
    its organisation's and anchoring refused it). Public without a token: the hashes, the proof and the block.
    The EPCIS document itself (counterparties' USCCs, every serial) only with the bearer token of an organisation
    that took part in the event, or of a regulator."""
    return event_proof(session, state.chain_client(), normalise_event_id(event_id, ver), state.signer.domain, viewer)


def normalise_event_id(event_id: str, ver: str | None) -> str:
    """Accept the id as written (``ni:///sha-256;<hex>?ver=CBV2.0`` — whose ``?`` a client may leave unencoded, so
    it arrives as a query parameter) or just the 64 hex digits of the digest."""
    if HEX_DIGEST.fullmatch(event_id):
        return f"ni:///sha-256;{event_id.lower()}?ver=CBV2.0"
    if ver is not None and "?ver=" not in event_id:
        return f"{event_id}?ver={ver}"
    return event_id
