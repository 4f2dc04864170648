"""The anchoring service and the chain-job executor against a real embedded node and the real ledger database.

The node runs as its own process (``python -m chain.node``) for the module; each test deploys a fresh anchor
contract with ``chain.deploy.ensure_deployed`` whose regulator admin is that test's regulator organisation,
as ``lotline up`` does. The ledger is the conftest database (SQLite, or PostgreSQL with
``LOTLINE_TEST_DATABASE_URL``).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from chain.anchoring import anchor_pending, anchoring_lag, claim
from chain.anvil import running_anvil, running_embedded_node
from chain.artifacts import Flow
from chain.client import ANCHOR_BASE_GAS, HEAD_GAS, AnchorReceipt, ChainClient
from chain.deploy import ensure_deployed
from chain.jobs import ROLE_ON_CHAIN, allowlist, run_chain_jobs
from ledger import trade
from ledger.errors import Forbidden
from ledger.event_hash import hash_digest
from ledger.goods import BatchLine, Goods
from ledger.keys import generate_private_key
from ledger.merkle import keccak256
from ledger.models import (
    Anchor,
    AnchorStatus,
    Batch,
    ChainJob,
    ChainJobStatus,
    Event,
    EventBatch,
    OutboxEntry,
    Role,
)
from ledger.signing import sign_event
from tests.chain.forgery import forge_event
from tests.ledger.network import Network, build_network, make_signer

DOMAIN = make_signer().domain
OPERATOR_KEY = keccak256(b"lotline anchoring test operator")
OPERATOR = Account.from_key(OPERATOR_KEY).address


@pytest.fixture(scope="module")
def node_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("anchoring-chain")
    with running_embedded_node(data_dir, block_interval=0.02, balances={OPERATOR: 10**24}) as url:
        yield url


@pytest.fixture
def net(db: Session) -> Network:
    return build_network(db)


@pytest.fixture
def chain(node_url: str, net: Network, tmp_path: Path) -> ChainClient:
    return deployed_client(node_url, net, tmp_path)


def deployed_client(node_url: str, net: Network, record_dir: Path) -> ChainClient:
    """A client of a contract deployed for this test, with the network's regulator as admin (`lotline up`)."""
    client = ChainClient(node_url)
    allowlist(client, net.regulator.chain_address)
    ensure_deployed(client, OPERATOR_KEY, net.regulator.chain_address, OPERATOR, record_dir / "deployment.json")
    return client


def ship_and_receive(db: Session, net: Network, quantity: int = 5) -> None:
    """Two more events on the beef batch: the importer ships to the wholesaler, who receives."""
    goods = Goods(lines=(BatchLine(net.beef_gtin, net.beef.lot, quantity),))
    _, shipment = trade.ship(db, net.signer, trade.ScanContext(net.importer), goods, to_org_id=net.wholesaler.id)
    trade.receive(db, net.signer, trade.ScanContext(net.wholesaler), shipment_id=shipment.id)
    db.commit()


def count(db: Session, stmt: Any) -> int:
    """Read in a transaction of its own: on SQLite an open transaction holds the write lock services need."""
    value = db.scalar(stmt)
    db.commit()
    return int(value or 0)


def events(db: Session) -> int:
    return count(db, select(func.count()).select_from(Event))


def nonce_of(client: ChainClient, address: str) -> int:
    return int(client.w3.eth.get_transaction_count(to_checksum_address(address)))


def operator_nonce(client: ChainClient) -> int:
    return nonce_of(client, OPERATOR)


def assert_chain_heads_equal_ledger(db: Session, client: ChainClient) -> None:
    db.expire_all()
    for batch in db.scalars(select(Batch)):
        record = client.batch_record(bytes.fromhex(batch.batch_key[2:]))
        assert ("0x" + record.head.hex(), record.event_count) == (batch.chain_head, batch.event_count)
    db.commit()


def test_anchoring_gives_every_event_a_proof_the_chain_accepts_and_heads_equal_the_ledgers(
    db: Session, session_factory: sessionmaker[Session], net: Network, chain: ChainClient
) -> None:
    ship_and_receive(db, net)

    result = anchor_pending(session_factory, chain, OPERATOR_KEY, domain=DOMAIN)

    assert result is not None
    assert (result.events, result.batches, result.transactions, result.resumed) == (events(db), 2, 1, 0)
    db.expire_all()
    anchor = db.scalars(select(Anchor)).one()
    assert anchor.status == AnchorStatus.CONFIRMED
    assert (anchor.tx_hash, anchor.block_number) == (
        result.anchors[0].tx_hash,
        result.anchors[0].block_number,
    )
    root = bytes.fromhex(anchor.merkle_root[2:])
    for event in db.scalars(select(Event)):
        assert (event.anchor_id, event.merkle_proof is not None) == (anchor.id, True)
        proof = [bytes.fromhex(p[2:]) for p in event.merkle_proof or []]
        assert chain.verify_event(hash_digest(event.event_id), proof, root)
    assert_chain_heads_equal_ledger(db, chain)
    assert anchoring_lag(db) == 0


def test_a_second_run_sends_nothing_and_anchors_nothing_new(
    session_factory: sessionmaker[Session], db: Session, net: Network, chain: ChainClient
) -> None:
    assert anchor_pending(session_factory, chain, OPERATOR_KEY, domain=DOMAIN) is not None
    nonce = operator_nonce(chain)

    assert anchor_pending(session_factory, chain, OPERATOR_KEY, domain=DOMAIN) is None

    assert operator_nonce(chain) == nonce
    assert count(db, select(func.count()).select_from(Anchor)) == 1


def test_an_anchor_claimed_before_a_crash_is_finished_by_the_next_run_without_claiming_again(
    session_factory: sessionmaker[Session], db: Session, net: Network, chain: ChainClient
) -> None:
    claimed = claim(session_factory, domain=DOMAIN)  # the worker dies here, before sending
    assert claimed is not None
    assert anchoring_lag(db) == events(db)

    result = anchor_pending(session_factory, chain, OPERATOR_KEY, domain=DOMAIN)

    assert result is not None
    assert [(a.anchor_id, a.resumed, a.transactions) for a in result.anchors] == [(claimed, True, 1)]
    assert count(db, select(func.count()).select_from(Anchor)) == 1
    assert anchoring_lag(db) == 0
    assert_chain_heads_equal_ledger(db, chain)


class DiesAfterSending(ChainClient):
    """A real client whose worker is killed right after the anchor transaction was mined."""

    landed: list[AnchorReceipt]

    def anchor(self, *args: Any, **kwargs: Any) -> list[AnchorReceipt]:
        self.landed = super().anchor(*args, **kwargs)
        raise KeyboardInterrupt("worker killed after the anchor landed")


def test_a_crash_after_the_anchor_landed_is_confirmed_by_the_next_run_without_a_second_transaction(
    session_factory: sessionmaker[Session], db: Session, net: Network, node_url: str, chain: ChainClient
) -> None:
    dying = DiesAfterSending(node_url, contract_address=chain.contract_address)
    with pytest.raises(KeyboardInterrupt):
        anchor_pending(session_factory, dying, OPERATOR_KEY, domain=DOMAIN)
    assert db.scalars(select(Anchor.status)).one() == AnchorStatus.PENDING
    db.commit()
    nonce = operator_nonce(chain)

    result = anchor_pending(session_factory, chain, OPERATOR_KEY, domain=DOMAIN)

    assert result is not None
    (root,) = result.anchors
    assert (root.resumed, root.transactions) == (True, 0)
    assert operator_nonce(chain) == nonce
    # The proof still names the transaction that did land, found again from its log.
    assert root.tx_hash == "0x" + (dying.landed[-1].tx_hash or b"").hex()
    db.expire_all()
    assert db.scalars(select(Anchor.status)).one() == AnchorStatus.CONFIRMED
    assert anchoring_lag(db) == 0


def test_events_after_an_anchor_land_in_the_next_anchor_and_the_heads_advance(
    session_factory: sessionmaker[Session], db: Session, net: Network, chain: ChainClient
) -> None:
    anchor_pending(session_factory, chain, OPERATOR_KEY, domain=DOMAIN)
    beef_key = bytes.fromhex(net.beef.batch_key[2:])
    before = chain.batch_record(beef_key)
    ship_and_receive(db, net)

    result = anchor_pending(session_factory, chain, OPERATOR_KEY, domain=DOMAIN)

    assert result is not None
    assert (result.events, result.batches) == (2, 1)
    after = chain.batch_record(beef_key)
    assert after.event_count == before.event_count + 2
    assert_chain_heads_equal_ledger(db, chain)
    second = db.scalar(select(func.max(Anchor.id)))
    assert count(db, select(func.count()).select_from(Event).where(Event.anchor_id == second)) == 2


def test_a_batch_head_is_anchored_as_of_its_last_claimed_event_not_the_batch_row(
    session_factory: sessionmaker[Session], db: Session, net: Network, chain: ChainClient
) -> None:
    ship_and_receive(db, net)
    total = events(db)
    beef_key = bytes.fromhex(net.beef.batch_key[2:])

    anchor_pending(session_factory, chain, OPERATOR_KEY, domain=DOMAIN, max_events=total - 1)  # the receive waits

    record = chain.batch_record(beef_key)
    db.expire_all()
    link = db.scalars(
        select(EventBatch).where(EventBatch.batch_id == net.beef.id, EventBatch.position == record.event_count)
    ).one()
    assert (record.event_count, "0x" + record.head.hex()) == (net.beef.event_count - 1, link.head)
    assert anchoring_lag(db) == 1
    db.commit()
    anchor_pending(session_factory, chain, OPERATOR_KEY, domain=DOMAIN)
    assert_chain_heads_equal_ledger(db, chain)


def test_an_anchor_too_big_for_one_transaction_is_split_and_every_head_lands(
    session_factory: sessionmaker[Session], db: Session, net: Network, chain: ChainClient
) -> None:
    one_head_per_tx = ANCHOR_BASE_GAS + HEAD_GAS

    result = anchor_pending(session_factory, chain, OPERATOR_KEY, domain=DOMAIN, max_gas_per_tx=one_head_per_tx)

    assert result is not None
    assert (result.batches, result.transactions) == (2, 2)
    assert_chain_heads_equal_ledger(db, chain)
    root = bytes.fromhex(db.scalars(select(Anchor.merkle_root)).one()[2:])
    assert chain.root_record(root).event_total == result.events


def test_two_workers_anchoring_at_once_never_share_an_event_and_every_proof_holds(
    session_factory: sessionmaker[Session], db: Session, net: Network, chain: ChainClient
) -> None:
    for _ in range(5):
        ship_and_receive(db, net, quantity=2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            while anchor_pending(session_factory, chain, OPERATOR_KEY, domain=DOMAIN, max_events=2) is not None:
                pass
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=worker) for _ in range(2)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()

    assert errors == []
    assert anchoring_lag(db) == 0
    anchored = Counter(db.scalars(select(OutboxEntry.anchor_id)))
    for anchor in db.scalars(select(Anchor)):
        assert (anchor.status, anchored[anchor.id]) == (AnchorStatus.CONFIRMED, anchor.event_count)
    for event, root in db.execute(select(Event, Anchor.merkle_root).join(Anchor, Anchor.id == Event.anchor_id)):
        proof = [bytes.fromhex(p[2:]) for p in event.merkle_proof or []]
        assert chain.verify_event(hash_digest(event.event_id), proof, bytes.fromhex(root[2:]))
    assert count(db, select(func.count()).select_from(Event).where(Event.anchor_id.is_(None))) == 0
    assert_chain_heads_equal_ledger(db, chain)


def test_chain_jobs_grant_every_role_and_register_every_batch_with_its_producer_key(
    session_factory: sessionmaker[Session], db: Session, net: Network, chain: ChainClient
) -> None:
    result = run_chain_jobs(session_factory, chain, vault=net.signer.vault)

    assert (result.done, result.retrying, result.failed) == (7, 0, 0)  # 5 organisations, 2 batches
    for org in (net.regulator, net.importer, net.wholesaler, net.retailer, net.clinic):
        assert all(chain.has_role(ROLE_ON_CHAIN[Role(r)], org.chain_address) for r in org.roles)
    assert not chain.has_role("PRODUCER_ROLE", net.wholesaler.chain_address)
    for batch, flow in ((net.beef, Flow.COLD_CHAIN), (net.vaccine, Flow.VACCINE)):
        record = chain.batch_record(bytes.fromhex(batch.batch_key[2:]))
        assert (record.registrant, record.flow) == (net.importer.chain_address, flow)
        assert "0x" + record.registration_hash.hex() == batch.registration_hash
    db.expire_all()
    register_jobs = db.scalars(select(ChainJob).where(ChainJob.kind == "register_batch")).all()
    assert all(j.status == ChainJobStatus.DONE and j.tx_hash for j in register_jobs)


def test_a_chain_job_run_again_finds_its_work_done_and_sends_nothing(
    session_factory: sessionmaker[Session], db: Session, net: Network, chain: ChainClient
) -> None:
    run_chain_jobs(session_factory, chain, vault=net.signer.vault)
    db.execute(update(ChainJob).values(status=ChainJobStatus.PENDING, tx_hash=None))
    db.commit()
    nonces = [nonce_of(chain, o.chain_address) for o in (net.regulator, net.importer)]

    result = run_chain_jobs(session_factory, chain, vault=net.signer.vault)

    assert (result.done, result.failed) == (7, 0)
    assert [nonce_of(chain, o.chain_address) for o in (net.regulator, net.importer)] == nonces
    db.expire_all()
    assert db.scalars(select(ChainJob.tx_hash).where(ChainJob.tx_hash.is_not(None))).all() == []


def test_a_failing_chain_job_keeps_its_error_and_succeeds_on_a_later_run(
    session_factory: sessionmaker[Session], db: Session, net: Network, chain: ChainClient
) -> None:
    not_the_admin = generate_private_key()  # an account the node does not let send at all

    first = run_chain_jobs(session_factory, chain, vault=net.signer.vault, admin_key=not_the_admin)

    # Only the regulator admin's own grant needs nothing sent. The other grants fail for want of the admin,
    # the registrations for want of PRODUCER_ROLE; nothing is given up yet.
    assert (first.done, first.retrying, first.failed) == (1, 6, 0)
    db.expire_all()
    failed = db.scalars(select(ChainJob).where(ChainJob.status == ChainJobStatus.PENDING)).all()
    assert all(j.attempts == 1 and j.last_error for j in failed)
    assert {j.kind for j in failed} == {"grant_roles", "register_batch"}
    db.commit()
    second = run_chain_jobs(session_factory, chain, vault=net.signer.vault)
    assert (second.done, second.retrying, second.failed) == (6, 0, 0)
    db.expire_all()
    assert {
        (j.attempts, j.last_error) for j in db.scalars(select(ChainJob).where(ChainJob.id.in_([f.id for f in failed])))
    } == {(2, None)}


def test_a_chain_job_that_keeps_failing_is_given_up_after_its_attempts(
    session_factory: sessionmaker[Session], db: Session, net: Network, chain: ChainClient
) -> None:
    for _ in range(2):
        run_chain_jobs(session_factory, chain, vault=net.signer.vault, admin_key=generate_private_key(), max_attempts=2)
    db.expire_all()
    outcomes = {(j.status, j.attempts) for j in db.scalars(select(ChainJob))}
    assert outcomes == {(ChainJobStatus.DONE, 1), (ChainJobStatus.FAILED, 2)}  # done: the admin's own grant
    db.commit()
    assert run_chain_jobs(session_factory, chain, vault=net.signer.vault).done == 0


def test_allowlisting_on_a_node_without_account_permissioning_is_reported_and_harmless() -> None:
    with running_anvil() as url:
        client = ChainClient(url)
        assert allowlist(client, Account.create().address) is False


def test_allowlisting_on_the_embedded_node_lets_a_refused_account_send(node_url: str) -> None:
    client = ChainClient(node_url)
    newcomer = Account.create()
    with pytest.raises(Forbidden):
        client.deploy(bytes(newcomer.key), newcomer.address, newcomer.address)

    assert allowlist(client, newcomer.address) is True
    assert allowlist(client, newcomer.address) is True  # again: already there is fine

    assert client.deploy(bytes(newcomer.key), newcomer.address, newcomer.address)


def test_a_forged_event_row_with_another_keys_signature_is_refused_never_anchored_and_does_not_block(
    db: Session, session_factory: sessionmaker[Session], net: Network, chain: ChainClient
) -> None:
    forged = forge_event(db, net)
    ship_and_receive(db, net)  # genuine events behind the forged one

    result = anchor_pending(session_factory, chain, OPERATOR_KEY, domain=DOMAIN)

    assert result is not None
    db.expire_all()
    assert result.events == events(db) - 1
    row = db.scalars(select(OutboxEntry).where(OutboxEntry.event_seq == forged.seq)).one()
    assert (row.anchor_id, row.refused_at is not None) == (None, True)
    assert str(row.refusal).startswith("SignerMismatch")
    assert db.get_one(Event, forged.seq).anchor_id is None
    assert all(e.anchor_id is not None for e in db.scalars(select(Event).where(Event.seq != forged.seq)))
    root = db.scalars(select(Anchor.merkle_root)).one()
    assert not chain.verify_event(hash_digest(forged.event_id), [], bytes.fromhex(root[2:]))
    assert anchoring_lag(db) == 0
    db.commit()
    assert anchor_pending(session_factory, chain, OPERATOR_KEY, domain=DOMAIN) is None


def test_an_event_signed_by_its_organisation_with_a_nonce_already_used_is_refused_as_replayed(
    db: Session, session_factory: sessionmaker[Session], net: Network, chain: ChainClient
) -> None:
    ship_and_receive(db, net)
    shipping = db.scalars(select(Event).where(Event.biz_step == "shipping")).one()
    first = db.scalars(select(Event.nonce).where(Event.org_id == net.importer.id).order_by(Event.seq)).first()
    assert first is not None
    key = net.signer.private_key(net.importer)
    replayed = sign_event(key, hash_digest(shipping.event_id), nonce=first, deadline=shipping.deadline, domain=DOMAIN)
    db.execute(
        update(Event).where(Event.seq == shipping.seq).values(nonce=first, signature="0x" + replayed.signature.hex())
    )
    db.commit()

    anchor_pending(session_factory, chain, OPERATOR_KEY, domain=DOMAIN)

    refusal = db.scalars(select(OutboxEntry.refusal).where(OutboxEntry.event_seq == shipping.seq)).one()
    assert str(refusal).startswith("SignatureReplayed")
