"""Recall webhooks against a real HTTP receiver on 127.0.0.1 (a stdlib server in a thread): what is signed, how
failures are retried with backoff, when a delivery is given up, and that a claimed delivery is sent once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chain.anvil import free_port
from ledger.errors import InvalidInput
from ledger.models import DeliveryStatus, Organisation, Recall, WebhookDelivery, utcnow
from recall import notify, service
from recall.endpoints import AddressPolicy, parse_networks
from recall.service import BatchRef
from tests.recall.recall_network import Traded, build_traded
from tests.recall.receiver import Receiver, running_receiver

URL = "https://trace.example.cn"
# The receiver listens on 127.0.0.1, which a deployment reaches only if it allows it.
LOOPBACK = AddressPolicy(parse_networks(["127.0.0.0/8", "::1"]))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


@pytest.fixture
def traded(db: Session) -> Traded:
    return build_traded(db)


def subscribe(db: Session, traded: Traded, org: Organisation, url: str) -> str:
    secret = notify.set_webhook(db, traded.net.signer.vault, org, url, policy=LOOPBACK)
    db.commit()
    assert secret is not None
    return secret


def open_recall(db: Session, traded: Traded) -> Recall:
    recall = service.open_recall(
        db,
        traded.net.regulator,
        batches=[BatchRef(*traded.beef_line)],
        recall_class=1,
        reason="李斯特菌",
        public_url=URL,
    )
    db.commit()
    return recall


def delivery_of(db: Session, org: Organisation) -> WebhookDelivery:
    db.expire_all()
    delivery = db.scalar(select(WebhookDelivery).where(WebhookDelivery.org_id == org.id))
    db.commit()
    assert delivery is not None
    return delivery


def test_a_holder_gets_the_recall_signed_over_timestamp_delivery_id_and_body_with_its_own_secret(
    session_factory: sessionmaker[Session], db: Session, traded: Traded, receiver: Receiver, http: httpx.Client
) -> None:
    net = traded.net
    secret = subscribe(db, traded, net.retailer, receiver.url)
    recall = open_recall(db, traded)

    counts = notify.deliver_pending(session_factory, transport=http, vault=net.signer.vault, policy=LOOPBACK)

    assert counts == notify.DeliveryCounts(delivered=1)  # the others have no webhook URL
    [message] = receiver.received
    headers = message.headers
    assert headers["x-lotline-signature"] == notify.sign(
        secret, int(headers["x-lotline-timestamp"]), headers["x-lotline-delivery"], message.body
    )
    assert notify.verify(
        secret,
        signature=headers["x-lotline-signature"],
        timestamp=int(headers["x-lotline-timestamp"]),
        delivery_id=headers["x-lotline-delivery"],
        body=message.body,
    )
    payload = message.json
    assert (payload["type"], payload["recall"]["number"], payload["recall"]["class"]) == (
        "recall.opened",
        recall.number,
        1,
    )
    assert payload["recall"]["reason"] == "李斯特菌"
    assert {(b["gtin"], b["lot"]) for b in payload["batches"]} == {traded.beef_line, (traded.steak_gtin, "CUT2026-01")}
    assert payload["your_holding"] == [
        {"gtin": net.beef_gtin, "lot": net.beef.lot, "quantity_on_hand": 13, "unit": "EA", "sold_or_administered": 2}
    ]
    assert payload["acknowledge_url"] == f"{URL}/api/v1/recalls/{recall.id}/acknowledgements"
    delivery = delivery_of(db, net.retailer)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.DELIVERED, 1, 204)
    assert delivery.delivery_id == headers["x-lotline-delivery"]


def test_a_message_with_another_body_delivery_id_or_an_old_timestamp_does_not_verify() -> None:
    secret, body, stamp = "whsec_" + "ab" * 32, b'{"type":"recall.opened"}', 1_800_000_000
    signature = notify.sign(secret, stamp, "d-1", body)
    check = {"signature": signature, "timestamp": stamp, "delivery_id": "d-1", "body": body}

    assert notify.verify(secret, **check, now=stamp + 10)  # type: ignore[arg-type]
    assert not notify.verify(secret, **{**check, "body": body + b" "}, now=stamp)  # type: ignore[arg-type]
    assert not notify.verify(secret, **{**check, "delivery_id": "d-2"}, now=stamp)  # type: ignore[arg-type]
    assert not notify.verify(secret, **check, now=stamp + 3600)  # type: ignore[arg-type]
    assert not notify.verify("whsec_" + "cd" * 32, **check, now=stamp)  # type: ignore[arg-type]


def test_a_failing_receiver_is_retried_with_growing_delays_until_it_answers(
    session_factory: sessionmaker[Session], db: Session, traded: Traded, receiver: Receiver, http: httpx.Client
) -> None:
    net = traded.net
    receiver.fail_first = 2
    subscribe(db, traded, net.wholesaler, receiver.url)
    open_recall(db, traded)
    start = utcnow()

    def deliver(at: datetime) -> notify.DeliveryCounts:
        return notify.deliver_pending(session_factory, transport=http, vault=net.signer.vault, policy=LOOPBACK, now=at)

    assert deliver(start) == notify.DeliveryCounts(retrying=1)
    first = delivery_of(db, net.wholesaler)
    assert (first.attempts, first.last_status_code, first.last_error) == (1, 503, "HTTP 503")
    assert first.next_attempt_at == start + notify.BACKOFF[0]
    assert deliver(start + notify.BACKOFF[0] - timedelta(seconds=1)) == notify.DeliveryCounts()  # not due yet
    assert deliver(start + notify.BACKOFF[0]) == notify.DeliveryCounts(retrying=1)
    assert delivery_of(db, net.wholesaler).next_attempt_at == start + notify.BACKOFF[0] + notify.BACKOFF[1]

    assert deliver(start + notify.BACKOFF[0] + notify.BACKOFF[1]) == notify.DeliveryCounts(delivered=1)

    final = delivery_of(db, net.wholesaler)
    assert (final.status, final.attempts, final.last_status_code, final.last_error) == (
        DeliveryStatus.DELIVERED,
        3,
        204,
        None,
    )
    assert len({m.headers["x-lotline-delivery"] for m in receiver.received}) == 1
    assert len({m.body for m in receiver.received}) == 1  # every retry sends the same message
    assert deliver(start + timedelta(days=1)) == notify.DeliveryCounts()  # delivered once, never again


def test_a_delivery_is_given_up_after_its_last_attempt(
    session_factory: sessionmaker[Session], db: Session, traded: Traded, receiver: Receiver, http: httpx.Client
) -> None:
    net = traded.net
    receiver.fail_first = 10_000
    subscribe(db, traded, net.importer, receiver.url)
    open_recall(db, traded)
    at = utcnow()
    for _ in range(notify.MAX_ATTEMPTS):
        notify.deliver_pending(session_factory, transport=http, vault=net.signer.vault, policy=LOOPBACK, now=at)
        at += timedelta(days=1)

    delivery = delivery_of(db, net.importer)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (
        DeliveryStatus.FAILED,
        notify.MAX_ATTEMPTS,
        None,
    )
    notify.deliver_pending(session_factory, transport=http, vault=net.signer.vault, policy=LOOPBACK, now=at)
    assert len(receiver.received) == notify.MAX_ATTEMPTS


def test_an_unreachable_receiver_is_recorded_with_the_transport_error_and_retried(
    session_factory: sessionmaker[Session], db: Session, traded: Traded, http: httpx.Client
) -> None:
    net = traded.net
    subscribe(db, traded, net.retailer, f"http://127.0.0.1:{free_port()}/nobody-listens")
    open_recall(db, traded)

    counts = notify.deliver_pending(session_factory, transport=http, vault=net.signer.vault, policy=LOOPBACK)

    assert counts == notify.DeliveryCounts(retrying=1)
    delivery = delivery_of(db, net.retailer)
    assert delivery.status is DeliveryStatus.PENDING
    assert delivery.last_status_code is None
    assert delivery.last_error is not None
    assert delivery.last_error.startswith("ConnectError")


def test_a_delivery_claimed_by_one_run_is_not_sent_again_by_a_run_during_its_request(
    session_factory: sessionmaker[Session], db: Session, traded: Traded, receiver: Receiver, http: httpx.Client
) -> None:
    net = traded.net
    subscribe(db, traded, net.retailer, receiver.url)
    open_recall(db, traded)
    nested: list[notify.DeliveryCounts] = []
    receiver.on_request = lambda: nested.append(
        notify.deliver_pending(session_factory, transport=http, vault=net.signer.vault, policy=LOOPBACK)
    )

    notify.deliver_pending(session_factory, transport=http, vault=net.signer.vault, policy=LOOPBACK)

    assert nested == [notify.DeliveryCounts()]
    assert len(receiver.received) == 1


def test_an_organisation_that_sets_its_webhook_later_still_gets_the_open_recall(
    session_factory: sessionmaker[Session], db: Session, traded: Traded, receiver: Receiver, http: httpx.Client
) -> None:
    net = traded.net
    open_recall(db, traded)
    assert delivery_of(db, net.importer).status is DeliveryStatus.NO_ENDPOINT
    assert (
        notify.deliver_pending(session_factory, transport=http, vault=net.signer.vault, policy=LOOPBACK)
        == notify.DeliveryCounts()
    )

    secret = subscribe(db, traded, net.importer, receiver.url)
    notify.deliver_pending(session_factory, transport=http, vault=net.signer.vault, policy=LOOPBACK)

    [message] = receiver.received
    assert message.json["your_holding"][0]["quantity_on_hand"] == 65
    stamp, delivery_id = int(message.headers["x-lotline-timestamp"]), message.headers["x-lotline-delivery"]
    assert message.headers["x-lotline-signature"] == notify.sign(secret, stamp, delivery_id, message.body)


def test_the_webhook_secret_is_sealed_apart_from_the_signing_key_and_rotates(db: Session, traded: Traded) -> None:
    net, vault = traded.net, traded.net.signer.vault
    first = subscribe(db, traded, net.retailer, "https://erp.example.cn/hooks")
    blob = net.retailer.webhook_secret_encrypted
    assert blob is not None

    with pytest.raises(InvalidInput):  # a secret blob is not a key blob, even for the same organisation
        vault.decrypt(blob, org_ref=net.retailer.uscc)
    second = subscribe(db, traded, net.retailer, "https://erp.example.cn/hooks")
    assert second != first
    assert notify.webhook_secret(vault, net.retailer) == second
    with pytest.raises(InvalidInput):
        notify.set_webhook(db, vault, net.retailer, "ftp://erp.example.cn/hooks", policy=LOOPBACK)


def test_a_webhook_at_a_private_address_is_refused_when_set_and_not_contacted_when_due(
    session_factory: sessionmaker[Session], db: Session, traded: Traded, receiver: Receiver, http: httpx.Client
) -> None:
    net, public_only = traded.net, AddressPolicy()
    for url in (receiver.url, "http://localhost:6379/", "http://169.254.169.254/latest/meta-data", "http://[::1]/"):
        with pytest.raises(InvalidInput, match="not a public address"):
            notify.set_webhook(db, net.signer.vault, net.retailer, url, policy=public_only)
    assert (net.retailer.webhook_url, net.retailer.webhook_secret_encrypted) == (None, None)
    # Set while the deployment allowed loopback; since then it does not (or the name moved to a private address).
    subscribe(db, traded, net.retailer, receiver.url)
    open_recall(db, traded)

    counts = notify.deliver_pending(session_factory, transport=http, vault=net.signer.vault, policy=public_only)

    assert (counts, receiver.received) == (notify.DeliveryCounts(retrying=1), [])
    delivery = delivery_of(db, net.retailer)
    assert delivery.last_error == (
        "refused: 127.0.0.1 is not a public address "
        "(a deployment lets webhooks reach private networks with LOTLINE_WEBHOOK_ALLOWED_NETWORKS)"
    )
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.PENDING, 1)


def test_a_webhook_named_by_host_is_sent_to_the_address_that_was_checked_with_its_own_host_header(
    session_factory: sessionmaker[Session], db: Session, traded: Traded, receiver: Receiver, http: httpx.Client
) -> None:
    net = traded.net
    by_name = receiver.url.replace("127.0.0.1", "localhost")
    subscribe(db, traded, net.retailer, by_name)
    open_recall(db, traded)

    counts = notify.deliver_pending(session_factory, transport=http, vault=net.signer.vault, policy=LOOPBACK)

    assert counts == notify.DeliveryCounts(delivered=1)
    [message] = receiver.received
    assert message.headers["host"] == by_name.split("/")[2]
    assert message.headers["connection"] == "close"
    assert delivery_of(db, net.retailer).url == by_name


def test_a_stored_url_that_cannot_resolve_is_retried_with_its_reason_and_holds_up_no_other_message(
    session_factory: sessionmaker[Session], db: Session, traded: Traded, receiver: Receiver, http: httpx.Client
) -> None:
    net = traded.net
    subscribe(db, traded, net.retailer, receiver.url)
    subscribe(db, traded, net.wholesaler, receiver.url)
    net.retailer.webhook_url = f"https://{'a' * 64}.example.cn/hooks"  # saved before URLs were checked
    db.commit()
    open_recall(db, traded)

    counts = notify.deliver_pending(session_factory, transport=http, vault=net.signer.vault, policy=LOOPBACK)

    assert counts == notify.DeliveryCounts(delivered=1, retrying=1)
    refused = delivery_of(db, net.retailer)
    assert (refused.status, refused.attempts) == (DeliveryStatus.PENDING, 1)
    assert refused.last_error is not None
    assert refused.last_error.startswith("refused: the webhook URL's host")
    assert [m.json["type"] for m in receiver.delivered()] == ["recall.opened"]


def test_an_unexpected_failure_costs_that_message_an_attempt_and_the_others_still_go(
    session_factory: sessionmaker[Session],
    db: Session,
    traded: Traded,
    receiver: Receiver,
    http: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    net = traded.net
    subscribe(db, traded, net.retailer, receiver.url + "?broken")
    subscribe(db, traded, net.wholesaler, receiver.url)
    open_recall(db, traded)
    real_post = notify._post

    def post_with_a_bug(transport: httpx.Client, policy: AddressPolicy, claimed: Any, *rest: Any) -> Any:
        if claimed.url.endswith("?broken"):
            raise RuntimeError("a bug in the sender")
        return real_post(transport, policy, claimed, *rest)

    monkeypatch.setattr(notify, "_post", post_with_a_bug)

    counts = notify.deliver_pending(session_factory, transport=http, vault=net.signer.vault, policy=LOOPBACK)

    assert counts == notify.DeliveryCounts(delivered=1, retrying=1)
    broken = delivery_of(db, net.retailer)
    assert (broken.status, broken.attempts, broken.last_error) == (
        DeliveryStatus.PENDING,
        1,
        "internal error: RuntimeError",
    )
    assert len(receiver.delivered()) == 1
