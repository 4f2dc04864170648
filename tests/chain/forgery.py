"""What an insider with SQL access writes to get an event anchored: a well-formed event row, its outbox row.

The forged row looks like the ledger's own: an EPCIS document that hashes to its event id, the organisation's
address as signer, the next nonce, a deadline ahead — but a signature made with another key.
"""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from ledger.event_hash import event_hash, hash_digest
from ledger.merkle import keccak256
from ledger.models import Event, Organisation, OutboxEntry
from ledger.signing import EventSigner, SigningDomain
from tests.ledger.network import Network

FORGER_KEY = keccak256(b"lotline test forger")


def forge_event(db: Session, net: Network) -> Event:
    """A copy of the importer's latest event, one second later, signed with the forger's key under its name."""
    return forge_event_as(db, net.importer, net.signer.domain)


def forge_event_as(db: Session, org: Organisation, domain: SigningDomain) -> Event:
    """A copy of ``org``'s latest event, one second later, signed with the forger's key under its name and
    address, with the next nonce and an outbox row, committed."""
    model = db.scalars(select(Event).where(Event.org_id == org.id).order_by(Event.seq.desc()).limit(1)).one()
    body = {k: v for k, v in model.document.items() if k != "eventID"} | {"eventTime": "2026-01-01T00:00:01.000Z"}
    event_id = event_hash(body)
    nonce = org.signature_nonce + 1
    forged = EventSigner(FORGER_KEY).sign(hash_digest(event_id), nonce=nonce, deadline=2**40, domain=domain)
    seq = db.execute(
        insert(Event)
        .values(
            event_id=event_id,
            event_type=model.event_type,
            action=model.action,
            biz_step=model.biz_step,
            disposition=model.disposition,
            event_time=model.event_time,
            org_id=org.id,
            document={**body, "eventID": event_id},
            signer=org.chain_address,
            nonce=nonce,
            deadline=forged.deadline,
            signature="0x" + forged.signature.hex(),
        )
        .returning(Event.seq)
    ).scalar_one()
    db.execute(insert(OutboxEntry).values(event_seq=seq))
    db.commit()
    return db.get_one(Event, seq)
