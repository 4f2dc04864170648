"""The verify endpoint checks the event's signature: a forged row is never reported verified.

The forged row is what an insider with SQL access writes: a well-formed event under an organisation's name and
address, signed with another key, with an outbox row. Before the worker looks it is pending with an invalid
signature; once the worker's admission check refused it, it is ``refused``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chain.admission import admit
from ledger.models import Organisation
from ledger.signing import SigningDomain
from tests.chain.forgery import forge_event_as
from tests.trace_api.client import Api
from tests.trace_api.pages import register_beef


def forge(session_factory: sessionmaker[Session], uscc: str, domain: SigningDomain) -> str:
    with session_factory() as db:
        org = db.scalars(select(Organisation).where(Organisation.uscc == uscc)).one()
        return forge_event_as(db, org, domain).event_id


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
