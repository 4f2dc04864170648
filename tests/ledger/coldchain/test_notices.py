"""A new excursion tells its holder and every regulator by signed webhook, through the recalls' deliveries."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger.coldchain.readings import Scope
from ledger.models import DeliveryStatus, LogScope, WebhookDelivery
from ledger.settings import parse_networks
from recall import notify
from recall.endpoints import AddressPolicy
from tests.ledger.coldchain.test_excursions import readings, ship, upload, vaccine
from tests.ledger.network import Network, build_network
from tests.recall.receiver import Receiver, running_receiver

LOOPBACK = AddressPolicy(parse_networks(["127.0.0.0/8", "::1"]))


@pytest.fixture
def net(db: Session) -> Iterator[Network]:
    return build_network(db)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def test_the_holder_and_the_regulator_are_told_and_the_message_is_signed(
    db: Session, net: Network, session_factory: sessionmaker[Session], receiver: Receiver
) -> None:
    secret = notify.set_webhook(db, net.signer.vault, net.clinic, receiver.url, policy=LOOPBACK)
    assert secret is not None
    shipment = ship(db, net, vaccine(net, 20), net.clinic)
    [excursion] = upload(
        db, net, net.importer, Scope(LogScope.SHIPMENT, shipment.id), readings((0, 60, 5.0), (60, 240, 12.0))
    ).outcome.new
    db.commit()
    deliveries = db.scalars(select(WebhookDelivery).order_by(WebhookDelivery.org_id)).all()
    assert [(d.org_id, d.excursion_id, d.recall_id, d.status) for d in deliveries] == [
        (net.regulator.id, excursion.id, None, DeliveryStatus.NO_ENDPOINT),
        (net.clinic.id, excursion.id, None, DeliveryStatus.PENDING),
    ]
    number = excursion.number
    db.commit()  # SQLite: let the worker's sessions write
    with httpx.Client() as http:
        counts = notify.deliver_pending(session_factory, transport=http, vault=net.signer.vault, policy=LOOPBACK)
    assert counts.delivered == 1
    [message] = receiver.delivered()
    assert message.headers["x-lotline-event"] == "excursion.opened"
    assert notify.verify(
        secret,
        signature=message.headers["x-lotline-signature"],
        timestamp=int(message.headers["x-lotline-timestamp"]),
        delivery_id=message.headers["x-lotline-delivery"],
        body=message.body,
    )
    sent = message.json["excursion"]
    assert (sent["number"], sent["kind"], sent["ended_at"]) == (number, "hot", None)
    assert sent["goods"] == [{"gtin": net.vaccine_gtin, "lot": net.vaccine.lot, "quantity": 20}]


def test_a_regulator_that_sets_its_webhook_later_gets_the_open_excursion_s_message(
    db: Session, net: Network, receiver: Receiver
) -> None:
    shipment = ship(db, net, vaccine(net, 20), net.clinic)
    upload(db, net, net.importer, Scope(LogScope.SHIPMENT, shipment.id), readings((0, 60, 5.0), (60, 240, 12.0)))
    notify.set_webhook(db, net.signer.vault, net.regulator, receiver.url, policy=LOOPBACK)
    delivery = db.scalar(select(WebhookDelivery).where(WebhookDelivery.org_id == net.regulator.id))
    assert delivery is not None
    assert delivery.status is DeliveryStatus.PENDING
