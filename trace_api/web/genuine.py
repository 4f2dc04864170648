"""Is the scanned label the one its issuer printed? The ``?s=`` signature of an item code, checked on every lookup
(docs/identifiers.md, "Checked online").

The fast path costs nothing: the ledger keeps the signature it issued with each code, and lotline's signatures are
deterministic (RFC 6979), so the genuine label's text equals the stored one. Only a label that differs is recovered
(≈60 µs) to tell an altered signature from one made with another organisation's key.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.code_signing import recover_issuer
from ledger.errors import InvalidSignature
from ledger.identifiers import DigitalLink
from ledger.models import Code, Organisation


class SignatureVerdict(StrEnum):
    VALID = "valid"
    NOT_SIGNED = "not_signed"  # issued without a signature (captured from another system): nothing to check
    MISSING = "missing"  # the label carries no signature
    INVALID = "invalid"  # malformed, altered, or made with a key nobody on this network holds
    FOREIGN = "foreign"  # a real signature, but by another organisation than the code's issuer

    @property
    def genuine(self) -> bool:
        return self in (SignatureVerdict.VALID, SignatureVerdict.NOT_SIGNED)


def check_signature(session: Session, link: DigitalLink, code: Code, signature: str | None) -> SignatureVerdict:
    if code.signature is None:
        return SignatureVerdict.NOT_SIGNED
    if not signature:
        return SignatureVerdict.MISSING
    if signature == code.signature:
        return SignatureVerdict.VALID
    try:
        signer = recover_issuer(link, signature)
    except InvalidSignature:
        return SignatureVerdict.INVALID
    issuer = session.get(Organisation, code.issued_by_org_id)
    if issuer is not None and issuer.chain_address == signer:
        return SignatureVerdict.VALID
    known = session.scalar(select(Organisation.id).where(Organisation.chain_address == signer))
    return SignatureVerdict.FOREIGN if known is not None else SignatureVerdict.INVALID
