"""Which events moved given items, when some of them moved inside cases and pallets; what a case ever held.

The projections (``movements``) record quantities of a batch, not which units, and ``codes.parent_id`` says only
what a case holds now: following single codes through aggregation, or a case through its past contents, needs the
EPCIS documents themselves, replayed in ledger order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from ledger.epc_uri import canonical_uri
from ledger.errors import InvalidIdentifier
from ledger.identifiers import parse_digital_link
from ledger.models import Batch, Code, CodeKind, Event, EventBatch, Product
from ledger.terms import sscc_epc


def events_moving(session: Session, batch_id: int, epcs: set[str]) -> set[int]:
    """The events of the batch that moved any of ``epcs``, named directly or through a case or pallet.

    Every event that moves an item is on its batch's hash chain, but an event naming only an SSCC says nothing of
    what was inside: that comes from replaying the AggregationEvents. Those that put the item's own containers
    into bigger ones may be on other batches' chains (the case was packed before the item went in), so they are
    found by the containers' EPCs, container by container, until no new container turns up.
    """
    rows = session.execute(
        select(Event.seq, Event.document)
        .join(EventBatch, EventBatch.event_seq == Event.seq)
        .where(EventBatch.batch_id == batch_id)
    )
    chain: dict[int, dict[str, Any]] = dict(rows.all())
    fetched: set[str] = set()
    while True:
        moved, containers = replay(sorted(chain.items()), epcs)
        new = containers - fetched
        if not new:
            return moved
        fetched |= new
        text = cast(Event.document, String)
        mentions = or_(*(text.contains(f'"{epc}"', autoescape=True) for epc in sorted(new)))
        found = session.execute(
            select(Event.seq, Event.document).where(Event.event_type == "AggregationEvent", mentions)
        )
        chain.update(found.all())


def replay(events: Sequence[tuple[int, dict[str, Any]]], epcs: set[str]) -> tuple[set[int], set[str]]:
    """Event seqs that moved ``epcs`` and every container they were ever in, replaying packing in ledger order."""
    parent: dict[str, str] = {}
    containers: set[str] = set()
    moved: set[int] = set()

    def enclosing(epc: str) -> Iterator[str]:
        seen = {epc}
        while (epc := parent.get(epc, "")) and epc not in seen:
            seen.add(epc)
            yield epc

    for seq, document in events:
        if document.get("type") == "AggregationEvent":
            parent_id, children = document.get("parentID"), list(document.get("childEPCs", ()))
            if document.get("action") == "ADD" and parent_id:
                parent.update(dict.fromkeys(children, parent_id))
            elif document.get("action") == "DELETE":
                for child in children or [c for c, p in parent.items() if p == parent_id]:
                    parent.pop(child, None)
            containers.update(c for epc in epcs for c in enclosing(epc))
            continue
        named = set(document.get("epcList", ())) | set(document.get("inputEPCList", ()))
        if named and any(named & {epc, *enclosing(epc)} for epc in epcs):
            moved.add(seq)
    return moved, containers


def items_ever_inside(session: Session, containers: Sequence[Code]) -> list[Code]:
    """The item codes that were inside any of ``containers`` at some time, at any depth: what a case or pallet
    held when, from its AggregationEvents, and not only what it holds now (an unpacked case holds nothing).

    An item counts only if it was inside while its own case was inside the container: the packing history is
    replayed in ledger order, and after each event every code then (transitively) inside is collected.
    """
    wanted = {sscc_epc(c.sscc) for c in containers if c.sscc}
    documents = _aggregations_under(session, set(wanted))
    parent: dict[str, str] = {}
    inside: set[str] = set()
    for _seq, document in sorted(documents.items()):
        parent_id = _canonical(document.get("parentID"))
        children = [_canonical(c) for c in document.get("childEPCs", ())]
        if document.get("action") == "ADD" and parent_id:
            parent.update(dict.fromkeys(children, parent_id))
        elif document.get("action") == "DELETE":
            for child in children or [c for c, p in parent.items() if p == parent_id]:
                parent.pop(child, None)
        inside.update(code for code in parent if _enclosed_by(code, parent, wanted))
    return _item_codes(session, inside) + items_inside_now(session, containers)


def items_inside_now(session: Session, containers: Sequence[Code]) -> list[Code]:
    """What ``codes.parent_id`` says the containers hold now, at any depth (the projection of the same history)."""
    items: list[Code] = []
    frontier = [c.id for c in containers]
    seen = set(frontier)
    while frontier:
        children = list(session.scalars(select(Code).where(Code.parent_id.in_(frontier))))
        items += [c for c in children if c.kind is CodeKind.ITEM]
        frontier = [c.id for c in children if c.kind is CodeKind.SSCC and c.id not in seen]
        seen.update(frontier)
    return items


def _aggregations_under(session: Session, containers: set[str]) -> dict[int, dict[str, Any]]:
    """Every AggregationEvent naming the containers, or a container ever packed into them, to any depth."""
    documents: dict[int, dict[str, Any]] = {}
    fetched: set[str] = set()
    while new := containers - fetched:
        fetched |= new
        text = cast(Event.document, String)
        mentions = or_(*(text.contains(f'"{epc}"', autoescape=True) for epc in sorted(new)))
        found: dict[int, dict[str, Any]] = dict(
            session.execute(
                select(Event.seq, Event.document).where(Event.event_type == "AggregationEvent", mentions)
            ).all()
        )
        documents.update(found)
        for document in found.values():
            if _canonical(document.get("parentID")) in containers:
                containers |= {c for c in map(_canonical, document.get("childEPCs", ())) if "/00/" in c}
    return documents


def _enclosed_by(code: str, parent: dict[str, str], containers: set[str]) -> bool:
    seen = {code}
    while (code := parent.get(code, "")) and code not in seen:
        if code in containers:
            return True
        seen.add(code)
    return False


def _canonical(uri: Any) -> str:
    return (canonical_uri(uri) or uri) if isinstance(uri, str) else ""


def _item_codes(session: Session, epcs: set[str]) -> list[Code]:
    by_gtin: dict[str, set[str]] = {}
    for epc in epcs:
        try:
            link = parse_digital_link(epc)
        except InvalidIdentifier:  # a partner's own code in a case of ours: not one this ledger issued
            continue
        if link.gtin and link.serial:
            by_gtin.setdefault(link.gtin, set()).add(link.serial)
    found: list[Code] = []
    for gtin, serials in sorted(by_gtin.items()):
        found += session.scalars(
            select(Code)
            .join(Batch, Batch.id == Code.batch_id)
            .join(Product, Product.id == Batch.product_id)
            .where(Product.gtin == gtin, Code.serial.in_(sorted(serials)), Code.kind == CodeKind.ITEM)
            .order_by(Code.id)
        )
    return found
