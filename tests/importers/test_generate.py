"""The synthetic network generator writes a ledger the ledger's own checks accept.

One network of a few thousand events is generated per test module (on SQLite, or on PostgreSQL with
``LOTLINE_TEST_DATABASE_URL``) and every test holds one property of it against an oracle recomputed from the
stored rows: hashes, signatures, hash chains, holdings from movements, the reported fan-out.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path

import pytest
from eth_account import Account
from sqlalchemy import Engine, delete, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from chain.anvil import running_embedded_node
from chain.audit import audit
from chain.client import ChainClient
from importers.generate import GeneratedNetwork, generate_network
from importers.generate.flows import Simulation
from importers.generate.topology import build_topology
from ledger.db import make_engine
from ledger.epcis_schema import validate_event
from ledger.errors import Conflict
from ledger.event_hash import event_hash, hash_digest
from ledger.identifiers import normalize_gtin, validate_lot, validate_uscc
from ledger.merkle import ZERO_HEAD, chain_head, keccak256
from ledger.models import (
    Base,
    Batch,
    Category,
    Code,
    CodeKind,
    Event,
    EventBatch,
    Holding,
    Movement,
    MovementKind,
    Organisation,
    OutboxEntry,
    Product,
    Shipment,
    ShipmentLine,
    ShipmentStatus,
    Transformation,
)
from ledger.settings import get_settings
from ledger.signing import EventSignature, SigningDomain, recover_event_signer

EVENTS = 3_000
SEED = 11
DEPLOYER_KEY = keccak256(b"lotline generator test deployer")
DEPLOYER = Account.from_key(DEPLOYER_KEY).address


def _empty(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))


@pytest.fixture(scope="module")
def network(database_url: str, engine: Engine) -> Iterator[GeneratedNetwork]:
    _empty(engine)
    yield generate_network(database_url, events=EVENTS, seed=SEED, workers=2)
    _empty(engine)


@pytest.fixture
def db(engine: Engine, network: GeneratedNetwork) -> Iterator[Session]:
    with Session(engine) as session:
        yield session
        session.rollback()


@pytest.fixture
def other_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database on the same backend."""
    if make_url(database_url).get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'other.sqlite'}"
        return
    name = f"lotline_gen_{uuid.uuid4().hex[:12]}"
    admin = make_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(database_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_exactly_the_requested_number_of_events_is_written_each_with_an_outbox_row(
    db: Session, network: GeneratedNetwork
) -> None:
    assert network.events == EVENTS
    assert db.scalar(select(func.count()).select_from(Event)) == EVENTS
    outboxed = db.scalar(
        select(func.count(func.distinct(OutboxEntry.event_seq))).where(OutboxEntry.anchor_id.is_(None))
    )
    assert outboxed == EVENTS


def test_every_event_id_is_the_cbv_hash_of_its_document_signed_by_its_organisation(db: Session) -> None:
    domain = SigningDomain(chain_id=get_settings().chain_id)
    addresses = dict(db.execute(select(Organisation.id, Organisation.chain_address)).all())
    last_nonce: dict[int, int] = {}
    validated: set[str] = set()
    for event in db.scalars(select(Event).order_by(Event.seq)):
        body = {k: v for k, v in event.document.items() if k != "eventID"}
        assert event_hash(body) == event.event_id == event.document["eventID"]
        signature = EventSignature(event.signer, event.nonce, event.deadline, bytes.fromhex(event.signature[2:]))
        assert recover_event_signer(hash_digest(event.event_id), signature, domain) == addresses[event.org_id]
        assert event.nonce > last_nonce.get(event.org_id, 0)
        last_nonce[event.org_id] = event.nonce
        kind = f"{event.event_type}/{event.biz_step}"
        if kind not in validated:  # one full GS1 schema check per kind of event
            validate_event(event.document)
            validated.add(kind)
    expected = {"ObjectEvent/commissioning", "ObjectEvent/shipping", "ObjectEvent/receiving",
                "ObjectEvent/retail_selling", "AggregationEvent/packing",
                "TransformationEvent/urn:lotline:bizstep:transforming"}  # fmt: skip
    assert expected <= validated
    nonces = dict(db.execute(select(Organisation.id, Organisation.signature_nonce)).all())
    assert all(nonces[org] == nonce for org, nonce in last_nonce.items())


def test_every_batch_chain_folds_to_its_head_in_time_order(db: Session) -> None:
    links: dict[int, list[tuple[int, str, str, datetime]]] = defaultdict(list)
    rows = db.execute(
        select(EventBatch.batch_id, EventBatch.position, EventBatch.head, Event.event_id, Event.event_time)
        .join(Event, Event.seq == EventBatch.event_seq)
        .order_by(EventBatch.batch_id, EventBatch.position)
    )
    for batch_id, position, head, event_id, when in rows:
        links[batch_id].append((position, head, event_id, when))
    batches = db.scalars(select(Batch)).all()
    assert {b.id for b in batches} == set(links)
    for batch in batches:
        folded, times = ZERO_HEAD, []
        for expected, (position, stored, event_id, when) in enumerate(links[batch.id], start=1):
            folded = chain_head(folded, hash_digest(event_id))
            assert (position, stored) == (expected, "0x" + folded.hex())
            times.append(when)
        assert (batch.chain_head, batch.event_count) == ("0x" + folded.hex(), len(links[batch.id]))
        assert times == sorted(times)


def test_holdings_are_the_sum_of_each_holders_movements_and_never_negative(db: Session) -> None:
    expected: dict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    column = {MovementKind.SHIP: "shipped", MovementKind.SELL: "consumed", MovementKind.ADMINISTER: "consumed",
              MovementKind.DESTROY: "destroyed", MovementKind.TRANSFORM_IN: "transformed"}  # fmt: skip
    for m in db.scalars(select(Movement)):
        if m.kind in column:
            assert m.from_org_id is not None
            expected[m.from_org_id, m.batch_id][column[m.kind]] += m.quantity
            expected[m.from_org_id, m.batch_id]["on_hand"] -= m.quantity
        else:
            assert m.to_org_id is not None
            expected[m.to_org_id, m.batch_id]["received"] += m.quantity
            expected[m.to_org_id, m.batch_id]["on_hand"] += m.quantity
    holdings = db.scalars(select(Holding)).all()
    assert {(h.org_id, h.batch_id) for h in holdings} == set(expected)
    for h in holdings:
        values = {c: getattr(h, c) for c in ("on_hand", "received", "shipped", "consumed", "destroyed", "transformed")}
        assert values == {c: expected[h.org_id, h.batch_id][c] for c in values}
        assert min(values.values()) >= 0


def test_shipments_match_their_movements_and_only_open_ones_are_in_transit(
    db: Session, network: GeneratedNetwork
) -> None:
    shipped = {m.shipment_id: m for m in db.scalars(select(Movement).where(Movement.kind == MovementKind.SHIP))}
    received = {m.shipment_id: m for m in db.scalars(select(Movement).where(Movement.kind == MovementKind.RECEIVE))}
    lines = {line.shipment_id: line for line in db.scalars(select(ShipmentLine))}
    in_transit = 0
    for shipment in db.scalars(select(Shipment)):
        ship, line = shipped[shipment.id], lines[shipment.id]
        assert (ship.from_org_id, ship.to_org_id, ship.quantity) == (
            shipment.from_org_id,
            shipment.to_org_id,
            line.quantity,
        )
        if shipment.id in received:
            assert shipment.status == ShipmentStatus.RECEIVED
            assert received[shipment.id].quantity == line.received_quantity == line.quantity
        else:
            assert (shipment.status, line.received_quantity) == (ShipmentStatus.IN_TRANSIT, 0)
            in_transit += 1
    assert in_transit == network.in_transit


def test_the_network_has_every_flow_a_transformation_a_return_cycle_and_sscc_aggregation(db: Session) -> None:
    categories = set(db.scalars(select(Product.category).join(Batch, Batch.product_id == Product.id)))
    assert categories == set(Category)

    transformation = db.scalars(select(Transformation)).first()
    assert transformation is not None
    output = db.get(Batch, transformation.output_batch_id)
    event = db.scalar(select(Event).where(Event.seq == transformation.event_seq))
    assert output is not None
    assert event is not None
    assert event.event_type == "TransformationEvent"
    assert output.registration_hash == "0x" + hash_digest(event.event_id).hex()

    edges = set(db.execute(select(Movement.batch_id, Movement.from_org_id, Movement.to_org_id)
                           .where(Movement.kind == MovementKind.SHIP)).all())  # fmt: skip
    assert any((batch, b, a) in edges for batch, a, b in edges), "no goods went back upstream"

    cases = db.scalars(select(Code).where(Code.kind == CodeKind.SSCC)).all()
    assert cases
    packed = db.scalars(select(Event).where(Event.event_type == "AggregationEvent", Event.action == "ADD")).first()
    assert packed is not None
    assert packed.document["parentID"] in {f"https://id.gs1.org/00/{c.sscc}" for c in cases}
    items = db.scalars(select(Code).where(Code.kind == CodeKind.ITEM)).all()
    assert items
    assert all(code.signature for code in items)


def test_the_widest_batches_have_the_holder_counts_reported(db: Session, network: GeneratedNetwork) -> None:
    counts = Counter(db.scalars(select(Holding.batch_id)))
    assert [(w.batch_id, w.holders) for w in network.widest] == [(b, counts[b]) for b, _ in counts.most_common(5)]
    widest = network.widest[0]
    batch = db.get(Batch, widest.batch_id)
    assert batch is not None
    incoming = (MovementKind.COMMISSION, MovementKind.RECEIVE, MovementKind.TRANSFORM_OUT)
    receivers = set(
        db.scalars(select(Movement.to_org_id).where(Movement.batch_id == batch.id, Movement.kind.in_(incoming)))
    )
    assert len(receivers) == widest.holders


def test_identifiers_are_valid(db: Session) -> None:
    for uscc in db.scalars(select(Organisation.uscc)):
        assert validate_uscc(uscc) == uscc
    for gtin in db.scalars(select(Product.gtin)):
        assert normalize_gtin(gtin) == gtin
    for lot in db.scalars(select(Batch.lot)):
        assert validate_lot(lot) == lot


def test_a_database_holding_trade_data_is_refused(database_url: str, network: GeneratedNetwork) -> None:
    with pytest.raises(Conflict, match="already holds trade data"):
        generate_network(database_url, events=100, seed=SEED)


def test_the_same_seed_writes_the_same_events_and_another_seed_does_not(
    db: Session, network: GeneratedNetwork, other_database_url: str
) -> None:
    again = generate_network(other_database_url, events=EVENTS, seed=SEED, workers=2)
    engine = make_engine(other_database_url)
    try:
        with Session(engine) as other:
            query = select(Event.event_id, Event.signature).order_by(Event.seq)
            assert other.execute(query).all() == db.execute(query).all()
            holdings = select(Holding.org_id, Holding.batch_id, Holding.on_hand).order_by(
                Holding.org_id, Holding.batch_id
            )
            assert other.execute(holdings).all() == db.execute(holdings).all()
    finally:
        engine.dispose()
    assert again.widest == network.widest

    def first_specs(seed: int) -> Sequence[object]:
        topology = build_topology(seed, EVENTS, first_org_id=1, first_location_id=1)
        return next(Simulation(topology, seed=seed, events=EVENTS, stamp=int).chunks(200)).specs

    assert first_specs(SEED) == first_specs(SEED)
    assert first_specs(SEED + 1) != first_specs(SEED)


def test_the_audit_finds_nothing_wrong_and_everything_pending_on_a_never_anchored_ledger(
    db: Session, network: GeneratedNetwork, tmp_path: Path
) -> None:
    with running_embedded_node(tmp_path / "chain", balances={DEPLOYER: 10**24}) as url:
        client = ChainClient(url)
        client.deploy(DEPLOYER_KEY, DEPLOYER, DEPLOYER)
        report = audit(db, client, SigningDomain(chain_id=get_settings().chain_id))
    assert report.ok, report.findings[:5]
    links = db.scalar(select(func.count()).select_from(EventBatch))
    assert report.counts["events"] == report.counts["events_pending"] == EVENTS
    assert report.counts["batch_events_pending"] == links
    assert report.counts["batches"] == report.counts["batches_unregistered"] == network.batches
