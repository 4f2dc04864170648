"""Turns an accepted EPCIS event into ledger rows: the signed event, each batch's hash-chain link, the outbox row.

Everything here runs inside the caller's transaction, after the rules have accepted the event. The event id is
the CBV 2.0 hash of the EPCIS document, so a third party recomputes it from the stored document alone; the
signature binds it to the organisation's key; the outbox row is what the anchoring worker picks up.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ledger.epc_index import named_epcs
from ledger.errors import AlreadyExists
from ledger.event_hash import event_hash, hash_digest
from ledger.keys import KeyVault
from ledger.merkle import chain_head
from ledger.models import Batch, Event, EventBatch, EventEpc, Organisation, OutboxEntry
from ledger.ownership import require_own_location
from ledger.signing import SigningDomain, sign_event

ZERO_HEAD = "0x" + "00" * 32


@dataclass(frozen=True, slots=True)
class Signer:
    """What the ledger needs to sign on behalf of organisations whose keys it keeps (encrypted)."""

    vault: KeyVault
    domain: SigningDomain
    ttl_seconds: int = 3600

    def private_key(self, org: Organisation) -> bytes:
        return self.vault.decrypt(org.encrypted_key, org_ref=org.uscc)


def next_nonce(session: Session, org: Organisation) -> int:
    """The organisation's next signature nonce, allocated by one atomic ``UPDATE … RETURNING``.

    Two requests of one organisation may run at once on PostgreSQL (nothing else locks the organisation's row):
    incrementing the ORM attribute read earlier would give both the same nonce. The row is locked by the update
    until commit, so concurrent events of one organisation get consecutive nonces (docs/events.md).
    """
    nonce = session.execute(
        update(Organisation)
        .where(Organisation.id == org.id)
        .values(signature_nonce=Organisation.signature_nonce + 1)
        .returning(Organisation.signature_nonce)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    set_committed_value(org, "signature_nonce", nonce)
    return nonce


def record_event(
    session: Session,
    signer: Signer,
    *,
    org: Organisation,
    document: dict[str, Any],
    batches: Iterable[Batch],
    event_time: datetime,
    location_id: int | None = None,
) -> Event:
    """Hash, sign and store ``document``; extend the hash chain of every batch it touches.

    The batches must already be locked by the caller (``SELECT … FOR UPDATE``): two events on one batch must not
    read the same previous head. ``location_id``, where the event happened, must be one of ``org``'s locations:
    every scan, registration and capture passes here.
    """
    if location_id is not None:
        require_own_location(session, org, location_id)
    event_id = event_hash(document)
    if session.scalar(select(Event.seq).where(Event.event_id == event_id)) is not None:
        raise AlreadyExists(f"an identical event is already recorded: {event_id}", event_id=event_id)
    digest = hash_digest(event_id)

    signature = sign_event(
        signer.private_key(org),
        digest,
        nonce=next_nonce(session, org),
        deadline=int(time.time()) + signer.ttl_seconds,
        domain=signer.domain,
    )
    stored = {**document, "eventID": event_id}
    event = Event(
        event_id=event_id,
        event_type=str(document["type"]),
        action=document.get("action"),
        biz_step=document.get("bizStep"),
        disposition=document.get("disposition"),
        event_time=event_time,
        org_id=org.id,
        location_id=location_id,
        document=stored,
        signer=signature.signer,
        nonce=signature.nonce,
        deadline=signature.deadline,
        signature="0x" + signature.signature.hex(),
    )
    session.add(event)
    session.flush()
    if epcs := named_epcs(stored):
        session.execute(insert(EventEpc), [{"epc": epc, "event_seq": event.seq, "role": role} for epc, role in epcs])

    for batch in sorted({b.id: b for b in batches}.values(), key=lambda b: b.id):
        head = chain_head(bytes.fromhex(batch.chain_head[2:]), digest)
        batch.event_count += 1
        batch.chain_head = "0x" + head.hex()
        session.add(
            EventBatch(batch_id=batch.id, position=batch.event_count, event_seq=event.seq, head=batch.chain_head)
        )
    session.add(OutboxEntry(event_seq=event.seq))
    return event
