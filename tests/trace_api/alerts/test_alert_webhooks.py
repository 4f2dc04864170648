"""An alert reaches the brand owner's webhook signed exactly as recall messages are (a real receiver on 127.0.0.1),
including one raised before the owner set its webhook."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger.keys import KeyVault
from ledger.models import Organisation
from recall import notify
from recall.endpoints import AddressPolicy, parse_networks
from tests.recall.receiver import running_receiver
from tests.trace_api.client import SECRET, Api
from tests.trace_api.trust_network import coded_network

LOOPBACK = AddressPolicy(parse_networks(["127.0.0.0/8", "::1"]))


def test_the_brand_owner_gets_the_alert_signed_like_a_recall_message(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    net = coded_network(api)
    refused = api.client.post(
        "/api/v1/scans", json={"action": "sell", "codes": [net["links"][0]]}, headers=api.auth(net["shop_token"])
    )
    assert refused.status_code == 409
    vault = KeyVault(SECRET)
    with running_receiver() as receiver, httpx.Client() as http:
        with session_factory() as session:  # the webhook is set after the alert: its message waits for it
            owner = session.scalar(select(Organisation).where(Organisation.name == "进口商"))
            assert owner is not None
            secret = notify.set_webhook(session, vault, owner, receiver.url, policy=LOOPBACK)
            session.commit()
        assert secret is not None
        counts = notify.deliver_pending(session_factory, transport=http, vault=vault, policy=LOOPBACK)
        assert counts.delivered == 1
        [message] = receiver.received
    headers = message.headers
    assert notify.verify(
        secret,
        signature=headers["x-lotline-signature"],
        timestamp=int(headers["x-lotline-timestamp"]),
        delivery_id=headers["x-lotline-delivery"],
        body=message.body,
    )
    payload = message.json
    assert payload["type"] == "alert.raised"
    assert payload["alert"]["kind"] == "settled_twice"
    assert payload["alert"]["detail"]["first"]["by"] == "联华超市"
