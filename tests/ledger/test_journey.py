"""An item's journey found through the ``event_epcs`` index is the journey its event documents tell.

The oracle below reads every event document of the item's batch, the way journeys were found before the index
(docs/performance.md): events naming the item, events naming a container from the moment the item was packed
into it, and the batch's facts (commissioning and inspections with no EPC list).
"""

from __future__ import annotations

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from ledger import packing, terms, trade
from ledger.db import make_engine, make_session_factory
from ledger.epc_index import named_epcs
from ledger.goods import BatchLine, Goods
from ledger.identifiers import DigitalLink
from ledger.journey import item_journey
from ledger.migrate import alembic_config, upgrade_to_head
from ledger.models import Code, Event, EventBatch, EventEpc
from tests.ledger.network import Network, build_network

PALLET = "069700010000000016"


def documents_oracle(db: Session, net: Network, serial: str) -> list[str]:
    own = {terms.item_epc(net.beef_gtin, serial)}
    rows = db.execute(
        select(Event.event_id, Event.document, Event.biz_step)
        .join(EventBatch, EventBatch.event_seq == Event.seq)
        .where(EventBatch.batch_id == net.beef.id)
        .order_by(Event.seq)
    ).all()
    containers: set[str] = set()
    chosen, facts = [], []
    for event_id, document, biz_step in rows:
        children = set(document.get("childEPCs", []))
        if own & children and document.get("parentID"):
            containers.add(document["parentID"])
        named = set(document.get("epcList", [])) | children | set(document.get("inputEPCList", []))
        if named & (own | containers):
            chosen.append(event_id)
        elif biz_step.rsplit("-", 1)[-1] in ("commissioning", "inspecting") and not document.get("epcList"):
            facts.append(event_id)
    return sorted(chosen + facts) if chosen else sorted(event_id for event_id, _, _ in rows)


def trade_through_a_pallet(db: Session, net: Network) -> None:
    """Items 3 and 4 travel in a pallet, 4 is unpacked and sold; item 5 travels alone; the rest never move."""
    imp, whs = trade.ScanContext(net.importer), trade.ScanContext(net.wholesaler)
    trade.ship(db, net.signer, imp, Goods(codes=(net.item(5),)), to_org_id=net.wholesaler.id)
    packing.pack(db, net.signer, imp, [net.item(3), net.item(4)], sscc=PALLET)
    _, shipment = trade.ship(db, net.signer, imp, Goods(codes=(DigitalLink(sscc=PALLET),)), to_org_id=whs.org.id)
    trade.receive(db, net.signer, whs, shipment_id=shipment.id)
    packing.unpack(db, net.signer, whs, sscc=PALLET, children=(net.item(4),))
    trade.sell(db, net.signer, whs, Goods(codes=(net.item(4),)))
    trade.inspect(db, net.signer, imp, Goods(lines=(BatchLine(net.beef_gtin, net.beef.lot, 1),)), passed=True)
    db.commit()


def test_the_indexed_journey_of_every_item_is_the_journey_its_documents_tell(db: Session) -> None:
    net = build_network(db)
    trade_through_a_pallet(db, net)
    for serial in net.serials:
        code = db.scalar(select(Code).where(Code.serial == serial))
        assert code is not None
        indexed = sorted(step.event_id for step in item_journey(db, code))
        assert indexed == documents_oracle(db, net, serial), serial
    packed = db.scalar(select(Code).where(Code.serial == net.serials[3]))
    assert packed is not None
    assert any(step.biz_step and step.biz_step.endswith("packing") for step in item_journey(db, packed))


def test_every_event_indexes_exactly_the_epcs_its_document_names(db: Session) -> None:
    net = build_network(db)
    trade_through_a_pallet(db, net)
    indexed = {
        (epc, seq, role) for epc, seq, role in db.execute(select(EventEpc.epc, EventEpc.event_seq, EventEpc.role))
    }
    documented: set[tuple[str, int, str]] = set()
    for seq, document in db.execute(select(Event.seq, Event.document)):
        documented |= {(epc, seq, role) for epc, role in named_epcs(document)}
    assert indexed == documented
    roles = {role for _, _, role in indexed}
    assert {"list", "child", "parent"} <= roles


def test_the_migration_indexes_the_events_recorded_before_it(fresh_database_url: str) -> None:
    """Revision 0010 undone and done again rebuilds, from the documents alone, the index the recorder wrote."""
    upgrade_to_head(fresh_database_url)
    engine = make_engine(fresh_database_url)
    try:
        with make_session_factory(engine)() as db:
            trade_through_a_pallet(db, build_network(db))
            written = sorted(tuple(row) for row in db.execute(select(EventEpc.epc, EventEpc.event_seq, EventEpc.role)))
        config = alembic_config(fresh_database_url)
        before = ScriptDirectory.from_config(config).get_revision("0010").down_revision
        assert isinstance(before, str)
        command.downgrade(config, before)
        assert "event_epcs" not in inspect(engine).get_table_names()
        command.upgrade(config, "head")
        with make_session_factory(engine)() as db:
            assert (
                sorted(tuple(row) for row in db.execute(select(EventEpc.epc, EventEpc.event_seq, EventEpc.role)))
                == written
            )
        assert len(written) > 10
    finally:
        engine.dispose()
