"""Which events moved given items, when some of them moved inside cases and pallets.

The projections (``movements``) record quantities of a batch, not which units: following single codes through
aggregation needs the EPCIS documents themselves, replayed in ledger order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import String, cast, or_, select
from sqlalchemy.orm import Session

from ledger.models import Event, EventBatch


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
