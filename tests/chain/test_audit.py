"""``lotline verify``: a clean, anchored ledger passes; each kind of tampering is reported with its target.

Each tampering test edits the database the way an insider with SQL access would (plain UPDATE/DELETE, no
ledger code), then checks that the audit names exactly the edited event or batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from chain.anchoring import anchor_pending
from chain.anvil import running_embedded_node
from chain.audit import AuditReport, Finding, FindingKind, audit
from chain.checkpoint import checkpoint_key, verify_ledger
from chain.client import ChainClient
from chain.jobs import run_chain_jobs
from ledger import trade
from ledger.event_hash import event_hash
from ledger.goods import Goods
from ledger.models import (
    Batch,
    Code,
    CodeStatus,
    Event,
    EventBatch,
    EventEpc,
    Holding,
    Movement,
    OutboxEntry,
    RecallTarget,
    VerifyCheckpoint,
)
from recall.service import BatchRef, open_recall
from tests.chain.forgery import forge_event
from tests.chain.test_anchoring import OPERATOR, OPERATOR_KEY, deployed_client, ship_and_receive
from tests.ledger.network import Network, build_network, make_signer


@pytest.fixture(scope="module")
def node_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("audit-chain")
    with running_embedded_node(data_dir, block_interval=0.02, balances={OPERATOR: 10**24}) as url:
        yield url


@pytest.fixture
def net(db: Session) -> Network:
    """The test network with a shipment received: five events over two batches."""
    network = build_network(db)
    ship_and_receive(db, network)
    return network


@pytest.fixture
def chain(session_factory: sessionmaker[Session], net: Network, node_url: str, tmp_path: Path) -> ChainClient:
    """A fresh contract on which the network's batches are registered and every event is anchored."""
    client = deployed_client(node_url, net, tmp_path)
    run_chain_jobs(session_factory, client, vault=net.signer.vault)
    anchor_pending(session_factory, client, OPERATOR_KEY, domain=net.signer.domain)
    return client


def run_audit(db: Session, chain: ChainClient) -> AuditReport:
    db.commit()  # the audit reads in one transaction of its own
    report = audit(db, chain, make_signer().domain)
    db.commit()
    return report


def tampered_batches(report: AuditReport) -> set[int | None]:
    return {f.batch_id for f in report.findings}


def beef_links(db: Session, net: Network) -> list[EventBatch]:
    return list(db.scalars(select(EventBatch).where(EventBatch.batch_id == net.beef.id).order_by(EventBatch.position)))


def test_a_clean_anchored_ledger_passes_and_the_report_is_json(db: Session, net: Network, chain: ChainClient) -> None:
    report = run_audit(db, chain)

    assert report.ok, report.findings
    counts = report.counts
    assert counts["events"] == counts["events_anchored"] == 5
    assert (counts["batches"], counts["anchors"], counts["events_pending"]) == (2, 1, 0)
    assert json.loads(json.dumps(report.as_dict()))["ok"] is True


def test_events_not_anchored_yet_are_counted_as_pending_not_reported(
    db: Session, net: Network, chain: ChainClient
) -> None:
    ship_and_receive(db, net)

    report = run_audit(db, chain)

    assert report.ok, report.findings
    assert (report.counts["events_pending"], report.counts["batch_events_pending"]) == (2, 2)


def test_an_edited_event_document_is_reported_with_exactly_its_event_id(
    db: Session, net: Network, chain: ChainClient
) -> None:
    event = db.scalars(select(Event).where(Event.biz_step.like("%shipping%"))).one()
    document = {**event.document, "eventTime": "2020-01-01T00:00:00.000Z"}
    db.execute(update(Event).where(Event.seq == event.seq).values(document=document))

    report = run_audit(db, chain)

    assert [(f.kind, f.event_id) for f in report.findings] == [(FindingKind.EVENT_EDITED, event.event_id)]
    assert report.as_dict()["findings"][0]["event_id"] == event.event_id


def test_an_event_rewritten_with_a_matching_new_id_is_caught_by_its_proof_and_its_batch_chain(
    db: Session, net: Network, chain: ChainClient
) -> None:
    event = db.scalars(select(Event).where(Event.biz_step.like("%shipping%"))).one()
    body = {k: v for k, v in event.document.items() if k != "eventID"} | {"eventTime": "2020-01-01T00:00:00.000Z"}
    new_id = event_hash(body)
    db.execute(
        update(Event).where(Event.seq == event.seq).values(document={**body, "eventID": new_id}, event_id=new_id)
    )

    report = run_audit(db, chain)

    assert {f.kind for f in report.findings if f.event_id} == {FindingKind.PROOF_INVALID, FindingKind.SIGNATURE_INVALID}
    assert {f.event_id for f in report.findings if f.event_id} == {new_id}
    assert tampered_batches(report) - {None} == {net.beef.id}
    position = db.scalars(select(EventBatch.position).where(EventBatch.event_seq == event.seq)).one()
    broken = [f for f in report.findings if f.kind == FindingKind.BATCH_CHAIN_BROKEN]
    assert [(f.batch_id, f.position) for f in broken] == [(net.beef.id, position)]


def test_an_edited_registration_hash_is_reported_with_exactly_its_batch(
    db: Session, net: Network, chain: ChainClient
) -> None:
    db.execute(update(Batch).where(Batch.id == net.vaccine.id).values(registration_hash="0x" + "ab" * 32))

    report = run_audit(db, chain)

    assert [(f.kind, f.batch_id) for f in report.findings] == [
        (FindingKind.REGISTRATION_MISMATCH, net.vaccine.id),
        (FindingKind.REGISTRATION_EDITED, net.vaccine.id),
    ]
    assert report.findings[0].batch == f"{net.vaccine_gtin}/{net.vaccine.lot}"


def test_an_edited_batch_head_is_reported_with_exactly_its_batch(db: Session, net: Network, chain: ChainClient) -> None:
    db.execute(update(Batch).where(Batch.id == net.beef.id).values(chain_head="0x" + "cd" * 32))

    report = run_audit(db, chain)

    assert [(f.kind, f.batch_id) for f in report.findings] == [(FindingKind.BATCH_HEAD_MISMATCH, net.beef.id)]


def test_a_deleted_event_link_breaks_its_batch_at_that_position(db: Session, net: Network, chain: ChainClient) -> None:
    db.execute(delete(EventBatch).where(EventBatch.batch_id == net.beef.id, EventBatch.position == 2))

    report = run_audit(db, chain)

    assert tampered_batches(report) == {net.beef.id}
    broken = [(f.kind, f.position) for f in report.findings if f.kind == FindingKind.BATCH_CHAIN_BROKEN]
    assert broken == [(FindingKind.BATCH_CHAIN_BROKEN, 2)]
    assert FindingKind.CHAIN_HEAD_MISMATCH in {f.kind for f in report.findings}


def test_two_swapped_positions_are_reported_at_the_first_of_them(db: Session, net: Network, chain: ChainClient) -> None:
    first, second = beef_links(db, net)[1:3]
    positions = (first.position, second.position)
    rows = (first.event_seq, second.event_seq)
    db.expunge_all()
    db.execute(update(EventBatch).where(EventBatch.event_seq == rows[0]).values(position=-1))
    db.execute(update(EventBatch).where(EventBatch.event_seq == rows[1]).values(position=positions[0]))
    db.execute(update(EventBatch).where(EventBatch.event_seq == rows[0]).values(position=positions[1]))

    report = run_audit(db, chain)

    assert tampered_batches(report) == {net.beef.id}
    broken = [f.position for f in report.findings if f.kind == FindingKind.BATCH_CHAIN_BROKEN]
    assert broken == [positions[0]]


def test_a_deleted_anchored_event_is_reported_on_its_batch_and_its_anchor(
    db: Session, net: Network, chain: ChainClient
) -> None:
    # The item codes' commissioning event: nothing but its chain link, its EPC index rows and outbox row refer to it.
    link = beef_links(db, net)[1]
    seq, anchor_id = (
        link.event_seq,
        db.scalars(select(Event.anchor_id).where(Event.seq == link.event_seq)).one(),
    )
    db.expunge_all()
    db.execute(delete(EventBatch).where(EventBatch.event_seq == seq))
    db.execute(delete(OutboxEntry).where(OutboxEntry.event_seq == seq))
    db.execute(delete(EventEpc).where(EventEpc.event_seq == seq))
    db.execute(delete(Event).where(Event.seq == seq))

    report = run_audit(db, chain)

    assert tampered_batches(report) == {net.beef.id, None}
    assert {f.anchor_id for f in report.findings if f.kind == FindingKind.ANCHOR_MISMATCH} == {anchor_id}
    assert report.counts["events"] == 4


# The edits the issue found missed (#11): each is reported as exactly one finding naming its row.


def only_finding(report: AuditReport) -> Finding:
    assert len(report.findings) == 1, report.findings
    return report.findings[0]


@pytest.mark.parametrize(
    "edit",
    [{"quantity": 99}, {"customs_declaration_no": "020220261000000000"}, {"origin_country": "NZ"}],
    ids=["quantity", "customs-declaration", "origin-country"],
)
def test_an_edited_batch_quantity_or_declaration_is_reported_on_its_batch_row(
    db: Session, net: Network, chain: ChainClient, edit: dict[str, object]
) -> None:
    db.execute(update(Batch).where(Batch.id == net.beef.id).values(**edit))

    finding = only_finding(run_audit(db, chain))

    assert (finding.kind, finding.table, finding.row, finding.batch_id) == (
        FindingKind.REGISTRATION_EDITED,
        "batches",
        f"id={net.beef.id}",
        net.beef.id,
    )


def test_an_edited_holding_is_reported_with_the_counter_that_differs(
    db: Session, net: Network, chain: ChainClient
) -> None:
    db.execute(
        update(Holding)
        .where(Holding.org_id == net.wholesaler.id, Holding.batch_id == net.beef.id)
        .values(on_hand=Holding.on_hand + 50)
    )

    finding = only_finding(run_audit(db, chain))

    assert (finding.kind, finding.table, finding.row) == (
        FindingKind.HOLDING_MISMATCH,
        "holdings",
        f"org_id={net.wholesaler.id},batch_id={net.beef.id}",
    )
    assert finding.detail == "on_hand 55 (movements say 5)"


def test_an_edited_code_serial_is_reported_on_its_code_row(db: Session, net: Network, chain: ChainClient) -> None:
    code_id = db.scalars(select(Code.id).where(Code.batch_id == net.beef.id, Code.serial == net.serials[0])).one()
    db.execute(update(Code).where(Code.id == code_id).values(serial="ZZZZZZZZZZZZ"))

    finding = only_finding(run_audit(db, chain))

    assert (finding.kind, finding.table, finding.row) == (FindingKind.CODE_MISMATCH, "codes", f"id={code_id}")
    assert "never commissioned" in finding.detail


def test_a_sold_code_set_back_to_active_is_reported_on_its_code_row(
    db: Session, net: Network, chain: ChainClient
) -> None:
    trade.sell(db, net.signer, trade.ScanContext(net.importer), Goods(codes=(net.item(0),)))
    code_id = db.scalars(select(Code.id).where(Code.batch_id == net.beef.id, Code.serial == net.serials[0])).one()
    db.execute(update(Code).where(Code.id == code_id).values(status=CodeStatus.ACTIVE, consumed_at=None))

    finding = only_finding(run_audit(db, chain))

    assert (finding.kind, finding.table, finding.row) == (FindingKind.CODE_MISMATCH, "codes", f"id={code_id}")
    assert finding.detail.startswith("status active, but an event consumed")


def test_a_deleted_movement_is_reported_on_its_event_and_on_the_holdings_it_fed(
    db: Session, net: Network, chain: ChainClient
) -> None:
    receive = db.scalars(select(Event).where(Event.biz_step == "receiving")).one()
    db.execute(delete(Movement).where(Movement.event_seq == receive.seq))

    report = run_audit(db, chain)

    assert [(f.kind, f.table, f.row) for f in report.findings] == [
        (FindingKind.MOVEMENT_MISSING, "movements", f"event_seq={receive.seq}"),
        (FindingKind.HOLDING_MISMATCH, "holdings", f"org_id={net.wholesaler.id},batch_id={net.beef.id}"),
    ]


def test_a_deleted_recall_target_is_reported_on_its_recall(
    db: Session, session_factory: sessionmaker[Session], net: Network, chain: ChainClient
) -> None:
    recall = open_recall(
        db,
        net.regulator,
        batches=[BatchRef(net.beef_gtin, net.beef.lot), BatchRef(net.vaccine_gtin, net.vaccine.lot)],
        recall_class=1,
        reason="Listeria monocytogenes in a sample",
        public_url="https://lotline.test",
    )
    db.commit()
    run_chain_jobs(session_factory, chain, vault=net.signer.vault)
    db.execute(delete(RecallTarget).where(RecallTarget.recall_id == recall.id, RecallTarget.batch_id == net.vaccine.id))

    finding = only_finding(run_audit(db, chain))

    assert (finding.kind, finding.table, finding.row) == (
        FindingKind.RECALL_TARGET_MISMATCH,
        "recall_targets",
        f"recall_id={recall.id}",
    )
    assert net.vaccine.batch_key in finding.detail


def test_a_key_added_outside_the_hashed_fields_is_reported_on_its_event(
    db: Session, net: Network, chain: ChainClient
) -> None:
    event = db.scalars(select(Event).where(Event.biz_step == "shipping")).one()
    declaration = {"declarationTime": "2026-01-02T00:00:00.000Z", "reason": "incorrect_data"}
    db.execute(
        update(Event).where(Event.seq == event.seq).values(document={**event.document, "errorDeclaration": declaration})
    )

    finding = only_finding(run_audit(db, chain))

    assert (finding.kind, finding.event_id) == (FindingKind.UNHASHED_CONTENT, event.event_id)


def test_a_forged_event_row_is_reported_by_its_signature_and_as_refused_once_the_worker_saw_it(
    db: Session, session_factory: sessionmaker[Session], net: Network, chain: ChainClient
) -> None:
    forged = forge_event(db, net)

    assert [(f.kind, f.event_id) for f in run_audit(db, chain).findings] == [
        (FindingKind.SIGNATURE_INVALID, forged.event_id)
    ]

    anchor_pending(session_factory, chain, OPERATOR_KEY, domain=net.signer.domain)

    assert [(f.kind, f.event_id) for f in run_audit(db, chain).findings] == [
        (FindingKind.SIGNATURE_INVALID, forged.event_id),
        (FindingKind.EVENT_REFUSED, forged.event_id),
    ]


# Incremental verification: from the last clean full run's checkpoint.

KEY = checkpoint_key("test-master-secret")


def run_verify(db: Session, chain: ChainClient, net: Network, *, since_checkpoint: bool) -> AuditReport:
    db.commit()
    report = verify_ledger(db, chain, net.signer.domain, KEY, since_checkpoint=since_checkpoint)
    db.commit()
    return report


def test_an_incremental_run_checks_only_the_events_after_the_last_clean_runs_checkpoint(
    db: Session, net: Network, chain: ChainClient
) -> None:
    assert run_verify(db, chain, net, since_checkpoint=False).ok
    checkpoint = db.scalars(select(VerifyCheckpoint)).one()
    ship_and_receive(db, net)

    report = run_verify(db, chain, net, since_checkpoint=True)

    assert report.ok, report.findings
    assert (report.counts["events"], report.counts["verified_after_seq"]) == (2, checkpoint.last_event_seq)


def test_an_incremental_run_finds_a_forged_event_after_the_checkpoint(
    db: Session, net: Network, chain: ChainClient
) -> None:
    assert run_verify(db, chain, net, since_checkpoint=False).ok
    forged = forge_event(db, net)

    report = run_verify(db, chain, net, since_checkpoint=True)

    assert [(f.kind, f.event_id) for f in report.findings] == [(FindingKind.SIGNATURE_INVALID, forged.event_id)]


def test_a_checkpoint_moved_forward_with_sql_is_reported_and_everything_is_verified(
    db: Session, net: Network, chain: ChainClient
) -> None:
    assert run_verify(db, chain, net, since_checkpoint=False).ok
    forged = forge_event(db, net)
    db.execute(update(VerifyCheckpoint).values(last_event_seq=forged.seq))

    report = run_verify(db, chain, net, since_checkpoint=True)

    checkpoint_id = db.scalars(select(VerifyCheckpoint.id)).one()
    assert [(f.kind, f.event_id, f.row) for f in report.findings] == [
        (FindingKind.CHECKPOINT_INVALID, None, f"id={checkpoint_id}"),
        (FindingKind.SIGNATURE_INVALID, forged.event_id, None),
    ]
    assert report.counts["events"] == 6
