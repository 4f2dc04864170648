"""The recall lifecycle on the real ledger (SQLite, or PostgreSQL with LOTLINE_TEST_DATABASE_URL): opening blocks
the goods at once, holders are found by the forward walk, acknowledgements are checked, closing is automatic or by
a regulator; refusals write nothing. The chain jobs run against a real embedded node."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from chain.anvil import running_embedded_node
from chain.artifacts import RecallStatus as ChainRecallStatus
from chain.client import ChainClient
from chain.deploy import ensure_deployed
from chain.jobs import allowlist, run_chain_jobs
from ledger import trade
from ledger.errors import (
    AlreadyExists,
    InvalidQuantity,
    InvalidTransition,
    NotFound,
    QuantityExceeded,
    RecalledGoods,
    RoleRequired,
    UnknownBatch,
)
from ledger.goods import BatchLine, Goods
from ledger.merkle import keccak256
from ledger.models import (
    ChainJob,
    ChainJobStatus,
    DeliveryStatus,
    Recall,
    RecallDetail,
    RecallHolder,
    RecallStatus,
    RecallTarget,
    WebhookDelivery,
)
from recall import repository, service
from recall.service import BatchRef, Report
from tests.ledger.network import snapshot
from tests.recall.recall_network import STEAK_LOT, Traded, beef, build_traded

URL = "https://trace.example.cn"
OPERATOR_KEY = keccak256(b"lotline recall test operator")
OPERATOR = Account.from_key(OPERATOR_KEY).address


@pytest.fixture
def traded(db: Session) -> Traded:
    return build_traded(db)


def open_beef(db: Session, t: Traded, **kwargs: object) -> Recall:
    recall = service.open_recall(
        db,
        t.net.regulator,
        batches=[BatchRef(*t.beef_line)],
        recall_class=1,
        reason="Listeria monocytogenes in a sample",
        public_url=URL,
        **kwargs,  # type: ignore[arg-type]
    )
    db.commit()
    return recall


def holdings(db: Session, recall: Recall) -> set[tuple[int, int, int, int]]:
    return {
        (h.org_id, h.batch_id, h.quantity_at_open, h.consumed_at_open)
        for h in db.scalars(select(RecallHolder).where(RecallHolder.recall_id == recall.id))
    }


def test_an_open_recall_refuses_selling_and_shipping_the_batch_and_the_cuts_made_from_it(
    db: Session, traded: Traded
) -> None:
    net = traded.net
    recall = open_beef(db, traded)

    assert recall.status is RecallStatus.OPEN
    assert recall.opened_at is not None
    assert recall.number == f"RC-{recall.opened_at.year}-{recall.id:06d}"
    with pytest.raises(RecalledGoods):
        trade.sell(db, net.signer, trade.ScanContext(net.retailer), beef(net, 1))
    db.rollback()
    steaks = Goods(lines=(BatchLine(traded.steak_gtin, STEAK_LOT, 1),))
    with pytest.raises(RecalledGoods):
        trade.ship(db, net.signer, trade.ScanContext(net.wholesaler), steaks, to_org_id=net.retailer.id)
    db.rollback()
    targets = set(db.scalars(select(RecallTarget.batch_id).where(RecallTarget.recall_id == recall.id)))
    assert targets == {net.beef.id, traded.steaks.id}


def test_holders_are_those_with_goods_on_hand_on_the_way_or_sold_when_the_recall_opens(
    db: Session, traded: Traded
) -> None:
    net = traded.net
    recall = open_beef(db, traded)

    assert holdings(db, recall) == {
        (net.importer.id, net.beef.id, 65, 0),
        (net.wholesaler.id, net.beef.id, 15, 0),
        (net.wholesaler.id, traded.steaks.id, 20, 0),
        (net.retailer.id, net.beef.id, 8 + 5, 2),  # 5 still in transit to it, 2 sold to consumers
    }


def test_each_followed_organisation_gets_one_webhook_and_the_recall_one_chain_job(db: Session, traded: Traded) -> None:
    net = traded.net
    recall = open_beef(db, traded)

    deliveries = db.scalars(select(WebhookDelivery).where(WebhookDelivery.recall_id == recall.id)).all()
    assert sorted(d.org_id for d in deliveries) == sorted([net.importer.id, net.wholesaler.id, net.retailer.id])
    assert {(d.event_type, d.status) for d in deliveries} == {("recall.opened", DeliveryStatus.NO_ENDPOINT)}
    detail = db.get(RecallDetail, recall.id)
    assert detail is not None
    job = db.get(ChainJob, detail.open_job_id)
    assert job is not None
    assert job.kind == "open_recall"
    assert job.payload["batch_keys"] == sorted([net.beef.batch_key, traded.steaks.batch_key])
    assert (job.payload["org_id"], job.payload["recall_class"]) == (net.regulator.id, 1)
    assert job.payload["chain_recall_id"] == detail.chain_recall_id


def test_a_producer_requests_a_recall_that_blocks_nothing_until_a_regulator_approves_it(
    db: Session, traded: Traded
) -> None:
    net = traded.net
    requested = service.open_recall(
        db, net.importer, batches=[BatchRef(*traded.beef_line)], recall_class=2, reason="label error", public_url=URL
    )
    db.commit()
    assert (requested.status, requested.requested_by_org_id) == (RecallStatus.REQUESTED, net.importer.id)
    trade.sell(db, net.signer, trade.ScanContext(net.retailer), beef(net, 1))
    db.commit()
    with pytest.raises(RoleRequired):
        service.approve(db, net.importer, requested.id, public_url=URL)
    db.rollback()

    approved = service.approve(db, net.regulator, requested.id, public_url=URL)
    db.commit()

    assert (approved.status, approved.opened_by_org_id) == (RecallStatus.OPEN, net.regulator.id)
    assert (net.retailer.id, net.beef.id, 7 + 5, 3) in holdings(db, approved)
    with pytest.raises(RecalledGoods):
        trade.sell(db, net.signer, trade.ScanContext(net.retailer), beef(net, 1))
    db.rollback()
    with pytest.raises(InvalidTransition):
        service.approve(db, net.regulator, requested.id, public_url=URL)


@pytest.mark.parametrize(
    ("who", "gtin_lot", "error"),
    [
        ("wholesaler", None, RoleRequired),  # a distributor neither opens nor requests
        ("importer", "other-producers-batch", UnknownBatch),  # not its batch: as if unknown
        ("regulator", "unknown", UnknownBatch),
    ],
)
def test_a_recall_the_caller_may_not_open_is_refused_and_writes_nothing(
    db: Session, traded: Traded, who: str, gtin_lot: str | None, error: type[Exception]
) -> None:
    net = traded.net
    ref = BatchRef(*traded.beef_line)
    if gtin_lot == "other-producers-batch":
        ref = BatchRef(traded.steak_gtin, STEAK_LOT)  # registered by the wholesaler's transformation
    elif gtin_lot == "unknown":
        ref = BatchRef(net.beef_gtin, "NO-SUCH-LOT")
    before = snapshot(db)
    with pytest.raises(error):
        service.open_recall(db, getattr(net, who), batches=[ref], recall_class=1, reason="x", public_url=URL)
    db.rollback()
    assert snapshot(db) == before


def test_acknowledging_more_units_than_held_at_opening_is_refused_and_writes_nothing(
    db: Session, traded: Traded
) -> None:
    net = traded.net
    recall = open_beef(db, traded)
    before = snapshot(db)

    with pytest.raises(QuantityExceeded):
        service.acknowledge(db, net.retailer, recall.id, [Report(*traded.beef_line, 10, 2, 2)])  # 14 > 13
    db.rollback()
    with pytest.raises(InvalidQuantity):
        service.acknowledge(db, net.retailer, recall.id, [Report(*traded.beef_line, -1, 0, 0)])
    db.rollback()

    assert snapshot(db) == before


def test_an_organisation_cannot_acknowledge_a_holding_that_is_not_its_own(db: Session, traded: Traded) -> None:
    net = traded.net
    recall = open_beef(db, traded)
    before = snapshot(db)

    with pytest.raises(NotFound):  # the steaks are the wholesaler's, not the retailer's
        service.acknowledge(db, net.retailer, recall.id, [Report(traded.steak_gtin, STEAK_LOT, 1, 0, 0)])
    db.rollback()
    with pytest.raises(NotFound):  # the clinic holds nothing under this recall
        service.acknowledge(db, net.clinic, recall.id, [Report(*traded.beef_line, 1, 0, 0)])
    db.rollback()

    assert snapshot(db) == before


def test_the_recall_closes_itself_once_every_holder_has_accounted_for_every_unit(db: Session, traded: Traded) -> None:
    net = traded.net
    recall = open_beef(db, traded)
    reports = [
        (net.importer, [Report(*traded.beef_line, 65, 0, 0)]),
        (net.wholesaler, [Report(*traded.beef_line, 0, 15, 0), Report(traded.steak_gtin, STEAK_LOT, 0, 0, 20)]),
        (net.retailer, [Report(*traded.beef_line, 10, 0, 2)]),  # 12 of 13: not yet
    ]
    for org, report in reports:
        service.acknowledge(db, org, recall.id, report)
        db.commit()
    assert recall.status is RecallStatus.OPEN

    closed = service.acknowledge(db, net.retailer, recall.id, [Report(*traded.beef_line, 11, 0, 2)])  # a running total
    db.commit()

    assert closed.status is RecallStatus.CLOSED
    assert closed.close_reason == "all 113 units accounted for: 76 quarantined, 15 returned, 22 destroyed"
    detail = db.get(RecallDetail, recall.id)
    assert detail is not None
    assert detail.closed_by_org_id is None
    close_job = db.get(ChainJob, detail.close_job_id)
    assert close_job is not None
    assert (close_job.kind, close_job.payload["org_id"]) == ("close_recall", net.regulator.id)
    closed_notes = repository.deliveries_of(db, recall.id)
    assert sum(d.event_type == "recall.closed" for d in closed_notes) == 3
    trade.sell(db, net.signer, trade.ScanContext(net.retailer), beef(net, 1))  # the recall no longer blocks


def test_a_regulator_closes_a_recall_with_a_reason_and_a_second_close_is_refused(db: Session, traded: Traded) -> None:
    net = traded.net
    recall = open_beef(db, traded)
    with pytest.raises(RoleRequired):
        service.close(db, net.importer, recall.id, "we are done")
    db.rollback()

    service.close(db, net.regulator, recall.id, "laboratory retest negative")
    db.commit()
    before = snapshot(db)

    with pytest.raises(InvalidTransition):
        service.close(db, net.regulator, recall.id, "again")
    db.rollback()
    with pytest.raises(InvalidTransition):
        service.acknowledge(db, net.importer, recall.id, [Report(*traded.beef_line, 1, 0, 0)])
    db.rollback()
    assert snapshot(db) == before
    assert (recall.status, recall.close_reason) == (RecallStatus.CLOSED, "laboratory retest negative")


def test_a_failed_inspection_is_a_candidate_a_regulator_confirms_in_one_call_and_only_once(
    db: Session, traded: Traded
) -> None:
    net = traded.net
    _, hold = trade.inspect(
        db, net.signer, trade.ScanContext(net.regulator), beef(net, 1), passed=False, reason="氯霉素超标"
    )
    db.commit()
    assert hold is not None
    [candidate] = repository.recall_candidates(db)
    assert (candidate.hold_id, candidate.batch.lot, candidate.reason) == (hold.id, net.beef.lot, "氯霉素超标")

    recall = service.confirm_candidate(db, net.regulator, hold.id, public_url=URL)
    db.commit()

    assert recall.status is RecallStatus.OPEN
    assert "氯霉素超标" in recall.reason
    assert len(holdings(db, recall)) == 4
    assert repository.recall_candidates(db) == []
    with pytest.raises(AlreadyExists):
        service.confirm_candidate(db, net.regulator, hold.id, public_url=URL)
    db.rollback()
    with pytest.raises(RoleRequired):
        service.confirm_candidate(db, net.wholesaler, hold.id, public_url=URL)


def test_a_recall_of_single_codes_refuses_those_items_only(db: Session, traded: Traded) -> None:
    net = traded.net
    items = Goods(codes=(net.item(0), net.item(1)))
    _, shipment = trade.ship(db, net.signer, trade.ScanContext(net.importer), items, to_org_id=net.retailer.id)
    trade.receive(db, net.signer, trade.ScanContext(net.retailer), shipment_id=shipment.id)
    db.commit()

    recall = service.open_recall(
        db, net.regulator, codes=[net.item(0)], recall_class=2, reason="damaged seal", public_url=URL
    )
    db.commit()

    assert holdings(db, recall) == {(net.retailer.id, net.beef.id, 1, 0)}
    with pytest.raises(RecalledGoods):
        trade.sell(db, net.signer, trade.ScanContext(net.retailer), Goods(codes=(net.item(0),)))
    db.rollback()
    trade.sell(db, net.signer, trade.ScanContext(net.retailer), Goods(codes=(net.item(1),)))


@pytest.fixture(scope="module")
def node_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("recall-chain")
    with running_embedded_node(data_dir, block_interval=0.02, balances={OPERATOR: 10**24}) as url:
        yield url


def test_the_chain_jobs_open_and_close_the_recall_on_chain_with_the_regulators_own_key(
    session_factory: sessionmaker[Session], db: Session, traded: Traded, node_url: str, tmp_path: Path
) -> None:
    net = traded.net
    client = ChainClient(node_url)
    allowlist(client, net.regulator.chain_address)
    ensure_deployed(client, OPERATOR_KEY, net.regulator.chain_address, OPERATOR, tmp_path / "deployment.json")
    recall = open_beef(db, traded)
    detail = db.get(RecallDetail, recall.id)
    assert detail is not None
    chain_id = bytes.fromhex(detail.chain_recall_id[2:])
    db.commit()

    first = run_chain_jobs(session_factory, client, vault=net.signer.vault)

    assert first.failed == 0
    record = client.recall_record(chain_id)
    assert (record.status, record.recall_class, record.opened_by) == (
        ChainRecallStatus.OPEN,
        1,
        net.regulator.chain_address,
    )
    assert {"0x" + k.hex() for k in record.batch_keys} == {net.beef.batch_key, traded.steaks.batch_key}
    assert "0x" + record.open_reason_hash.hex() == detail.reason_hash

    service.close(db, net.regulator, recall.id, "all units destroyed")
    db.commit()
    run_chain_jobs(session_factory, client, vault=net.signer.vault)

    assert client.recall_record(chain_id).status is ChainRecallStatus.CLOSED
    db.expire_all()
    jobs = db.scalars(select(ChainJob).where(ChainJob.kind.in_(["open_recall", "close_recall"]))).all()
    assert {(j.kind, j.status) for j in jobs} == {
        ("open_recall", ChainJobStatus.DONE),
        ("close_recall", ChainJobStatus.DONE),
    }
    db.commit()
    # Run again from scratch: the jobs find their work done on chain and send nothing.
    for job in jobs:
        job.status = ChainJobStatus.PENDING
    db.commit()
    assert run_chain_jobs(session_factory, client, vault=net.signer.vault).failed == 0
    assert client.recall_record(chain_id).status is ChainRecallStatus.CLOSED
