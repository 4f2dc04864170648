"""The verify endpoint checks the event's signature: a forged row is never reported verified.

The forged row is what an insider with SQL access writes: a well-formed event under an organisation's name and
address, signed with another key, with an outbox row. Before the worker looks it is pending with an invalid
signature; once the worker's admission check refused it, it is ``refused``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from chain.admission import admit
from ledger.event_hash import event_hash, hash_digest
from ledger.merkle import keccak256
from ledger.models import Event, Organisation, OutboxEntry
from ledger.signing import EventSigner, SigningDomain
from tests.trace_api.client import Api
from tests.trace_api.pages import register_beef

FORGER = EventSigner(keccak256(b"lotline test forger"))


def forge(session_factory: sessionmaker[Session], uscc: str, domain: SigningDomain) -> str:
    with session_factory() as db:
        org = db.scalars(select(Organisation).where(Organisation.uscc == uscc)).one()
        model = db.scalars(select(Event).where(Event.org_id == org.id)).first()
        assert model is not None
        body: dict[str, Any] = {k: v for k, v in model.document.items() if k != "eventID"}
        body["eventTime"] = "2026-01-01T00:00:01.000Z"
        event_id = event_hash(body)
        signature = FORGER.sign(hash_digest(event_id), nonce=org.signature_nonce + 1, deadline=2**40, domain=domain)
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
                nonce=signature.nonce,
                deadline=signature.deadline,
                signature="0x" + signature.signature.hex(),
            )
            .returning(Event.seq)
        ).scalar_one()
        db.execute(insert(OutboxEntry).values(event_seq=seq))
        db.commit()
    return event_id


def test_a_forged_event_row_shows_an_invalid_signature_and_once_refused_says_so(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    importer, token = api.org("浙江冷链进口有限公司", "producer")
    register_beef(api, token)
    domain = api.client.app.state.lotline.signer.domain  # type: ignore[attr-defined]
    event_id = forge(session_factory, str(importer["uscc"]), domain)

    before = api.client.get(f"/api/v1/verify/events/{event_id}").json()
    admit(session_factory, domain)
    after = api.client.get(f"/api/v1/verify/events/{event_id}").json()

    assert (before["status"], before["signature"]["valid"]) == ("pending", False)
    assert before["signature"]["problem"].startswith("SignerMismatch")
    assert (after["status"], after["signature"]["valid"]) == ("refused", False)


def test_a_genuine_event_has_a_valid_signature(api: Api) -> None:
    _importer, token = api.org("浙江冷链进口有限公司", "producer")
    batch = register_beef(api, token)
    view = api.client.get(f"/01/{batch['gtin']}/10/{batch['lot']}", headers={"Accept": "application/json"}).json()

    proof = api.client.get(f"/api/v1/verify/events/{view['journey'][0]['event_id']}").json()

    assert (proof["status"], proof["signature"]["valid"], proof["signature"]["problem"]) == ("pending", True, None)
