"""EPCIS error declarations at capture: stored beside the event they declare (same hash, since the hash ignores
the declaration), corrective ids resolved, nothing applied, and only the event's author (or a regulator) may
declare; the ledger's holdings move only through corrective events."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from importers.epcis_capture import Outcome, capture, prepare
from ledger import epcis
from ledger.declarations import declaration_of, published
from ledger.errors import AlreadyExists, Forbidden, InvalidEvent
from ledger.event_hash import event_hash
from ledger.models import ErrorDeclaration, Event, Movement
from tests.importers.test_epcis_capture import holding, reference_hashes, ship_event
from tests.ledger.network import build_network, snapshot

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:epcis_event_hash_generator")
EXAMPLES = Path(__file__).parent.parent / "data" / "epcis"
DECLARATION = {
    "declarationTime": "2026-03-02T08:00:00.000+08:00",
    "reason": "incorrect_data",
    "example:ticket": "QA-17",
}


def gs1_shipping_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_text())
    document["epcisBody"]["eventList"] = document["epcisBody"]["eventList"][:1]
    return document


def declared(document: dict[str, Any], declaration: dict[str, Any], *corrective: dict[str, Any]) -> dict[str, Any]:
    """GS1's form: the erroneous event again, with ``errorDeclaration``, and the corrective events beside it."""
    copied = copy.deepcopy(document)
    [event] = copied["epcisBody"]["eventList"]
    event["errorDeclaration"] = declaration
    copied["epcisBody"]["eventList"] = [event, *corrective]
    return copied


def test_a_declaration_is_stored_beside_the_original_with_its_corrective_event_resolved(db: Session) -> None:
    net = build_network(db)
    original = gs1_shipping_document()
    [recorded] = capture(db, net.signer, net.wholesaler, prepare(original))
    corrective = copy.deepcopy(original["epcisBody"]["eventList"][0])
    corrective.update(eventID="urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8", disposition="in_progress")
    declaration = {**DECLARATION, "correctiveEventIDs": ["urn:uuid:404d95fc-9457-4a51-bd6a-0bba133845a8"]}
    document = declared(original, declaration, corrective)
    statuses = capture(db, net.signer, net.wholesaler, prepare(document))
    db.commit()

    assert [s.outcome for s in statuses] == [Outcome.DECLARED, Outcome.RECORDED]
    # The declaration has the original's id: the reference hash ignores errorDeclaration too.
    assert [s.event_id for s in statuses] == reference_hashes(document)
    assert statuses[0].event_id == recorded.event_id
    stored = db.scalar(select(Event).where(Event.event_id == recorded.event_id))
    assert stored is not None
    assert "errorDeclaration" not in stored.document
    assert event_hash({k: v for k, v in stored.document.items() if k != "eventID"}) == recorded.event_id
    row = declaration_of(db, stored.seq)
    assert row is not None
    assert (row.reason, row.declared_by_org_id) == ("incorrect_data", net.wholesaler.id)
    assert row.corrective_event_ids == [statuses[1].event_id]
    assert published(row) == {**DECLARATION, "correctiveEventIDs": [statuses[1].event_id]}


def test_the_same_declaration_again_is_a_duplicate_and_a_different_one_a_conflict(db: Session) -> None:
    net = build_network(db)
    document = declared(gs1_shipping_document(), DECLARATION)
    [first] = capture(db, net.signer, net.wholesaler, prepare(document))
    [again] = capture(db, net.signer, net.wholesaler, prepare(document))
    assert (first.outcome, again.outcome) == (Outcome.DECLARED, Outcome.DUPLICATE)
    other = declared(gs1_shipping_document(), {**DECLARATION, "reason": "did_not_occur"})
    with pytest.raises(AlreadyExists):
        capture(db, net.signer, net.wholesaler, prepare(other))
    assert db.scalar(select(func.count()).select_from(ErrorDeclaration)) == 1


def test_a_declaration_of_an_event_not_yet_captured_records_it_once_with_the_declaration(db: Session) -> None:
    net = build_network(db)
    document = declared(gs1_shipping_document(), DECLARATION)
    [status] = capture(db, net.signer, net.wholesaler, prepare(document))
    assert status.outcome is Outcome.DECLARED
    assert status.event_id == reference_hashes(gs1_shipping_document())[0]
    [plain] = capture(db, net.signer, net.wholesaler, prepare(gs1_shipping_document()))
    assert plain.outcome is Outcome.DUPLICATE
    assert db.scalar(select(func.count()).select_from(Event).where(Event.event_id == status.event_id)) == 1


def test_only_the_author_of_an_event_or_a_regulator_may_declare_it_erroneous(db: Session) -> None:
    net = build_network(db)
    capture(db, net.signer, net.wholesaler, prepare(gs1_shipping_document()))
    document = declared(gs1_shipping_document(), DECLARATION)
    with pytest.raises(Forbidden):
        capture(db, net.signer, net.retailer, prepare(document))
    [by_regulator] = capture(db, net.signer, net.regulator, prepare(document))
    assert by_regulator.outcome is Outcome.DECLARED


def test_declaring_an_applied_shipment_erroneous_moves_nothing_back(db: Session) -> None:
    net = build_network(db)
    document = epcis.epcis_document([ship_event(net, 10)])
    [shipped] = capture(db, net.signer, net.importer, prepare(document))
    movements = db.scalar(select(func.count()).select_from(Movement))
    [status] = capture(db, net.signer, net.importer, prepare(declared(document, DECLARATION)))
    db.commit()
    assert (status.outcome, status.event_id) == (Outcome.DECLARED, shipped.event_id)
    # The history is append-only: the shipment stands until a corrective event (a receiving, say) settles it.
    assert holding(db, net.importer.id, net.beef.id) == 90
    assert db.scalar(select(func.count()).select_from(Movement)) == movements


def test_a_declaration_about_lotline_goods_the_ledger_never_recorded_is_refused_and_writes_nothing(
    db: Session,
) -> None:
    net = build_network(db)
    before = snapshot(db)
    document = declared(epcis.epcis_document([ship_event(net, 10)]), DECLARATION)
    with pytest.raises(InvalidEvent, match=r"eventList\[0\] declares an error") as refused:
        capture(db, net.signer, net.importer, prepare(document))
    assert refused.value.context["field"] == "epcisBody.eventList[0].errorDeclaration"
    db.rollback()
    assert snapshot(db) == before
