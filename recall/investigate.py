"""One-click investigation (一键排查), and traces described for people (API, CLI).

An investigation starts from a place and a time window, e.g. a positive nucleic-acid test at a market stall. Its
definition, precisely:

- A batch's balance at an organisation at instant ``t`` is what arrived there (commission, receive, transformation
  output) minus what left (ship, sell, administer, destroy, transformation input), counting events whose
  ``event_time`` is before ``t``.
- The batch was *present* during ``[since, until)`` if something of it arrived there before ``until``, and either
  its balance at ``since`` was positive or something of it arrived during the window. Goods in transit to the
  organisation were not there yet: a shipment counts from its receive.
- For a location, the test is made on the organisation that owns it (the ledger keeps stock per organisation,
  not per site), restricted to batches with a movement recorded at that location before ``until``.

The answer is those batches, their sources (the back trace of only the chain that brought them to the place: whoever
held the goods on the way there, and the inputs that made them) and everyone else who holds or held them (forward
trace).
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from ledger.errors import InvalidDigitalLink, InvalidInput, NotFound, UnknownCode, UnknownOrganisation
from ledger.goods import find_batch_id
from ledger.identifiers import DigitalLink
from ledger.models import (
    Batch,
    Code,
    CodeKind,
    Event,
    Holding,
    Location,
    Movement,
    MovementKind,
    Organisation,
    Product,
)
from recall.memory import without_gc_pauses
from recall.trace import BatchId, CodeId, Edge, HolderPosition, OrgId, Trace
from recall.views import BatchView, EdgeView, HolderView, InvestigationView, OrgView, TraceView
from recall.views import Direction as Direction  # the API names a trace's direction by it
from recall.walk import back, forward

INBOUND = (MovementKind.COMMISSION, MovementKind.RECEIVE, MovementKind.TRANSFORM_OUT)
OUTBOUND = (
    MovementKind.SHIP,
    MovementKind.SELL,
    MovementKind.ADMINISTER,
    MovementKind.DESTROY,
    MovementKind.TRANSFORM_IN,
)


@dataclass(frozen=True, slots=True)
class PresentBatch:
    batch_id: BatchId
    arrived_before_until: int  # units that arrived there before the window closed
    on_hand_at_since: int  # balance when the window opened
    arrived_in_window: int


@dataclass(frozen=True)
class Investigation:
    org_id: OrgId
    location_id: int | None
    since: datetime
    until: datetime
    present: tuple[PresentBatch, ...]
    sources: Trace  # back trace of the present batches
    spread: Trace  # forward trace of the present batches

    @property
    def other_holders(self) -> tuple[OrgId, ...]:
        return tuple(sorted(self.spread.org_ids - {self.org_id}))


@without_gc_pauses
def investigate(
    session: Session,
    *,
    location_id: int | None = None,
    org_id: int | None = None,
    since: datetime,
    until: datetime,
) -> Investigation:
    """The batches present at a place (or organisation) in a window, their sources and their other holders."""
    if since.tzinfo is None or until.tzinfo is None:
        raise InvalidInput("since and until need a time zone offset")
    if since >= until:
        raise InvalidInput("the window is empty: since must be before until")
    owner = _place_owner(session, location_id, org_id)
    balance: dict[BatchId, int] = defaultdict(int)
    arrived: dict[BatchId, int] = defaultdict(int)
    in_window: dict[BatchId, int] = defaultdict(int)
    seen_here: set[BatchId] = set()
    rows = session.execute(
        select(Movement.batch_id, Movement.kind, Movement.quantity, Event.event_time, Event.location_id)
        .join(Event, Event.seq == Movement.event_seq)
        .where(
            or_(
                and_(Movement.to_org_id == owner, Movement.kind.in_(INBOUND)),
                and_(Movement.from_org_id == owner, Movement.kind.in_(OUTBOUND)),
            ),
            Event.event_time < until,
        )
    )
    for row_batch_id, kind, quantity, event_time, event_location in rows:
        batch_id, inbound = BatchId(row_batch_id), kind in INBOUND
        if location_id is None or event_location == location_id:
            seen_here.add(batch_id)
        if inbound:
            arrived[batch_id] += quantity
            if event_time >= since:
                in_window[batch_id] += quantity
        if event_time < since:
            balance[batch_id] += quantity if inbound else -quantity
    present = tuple(
        PresentBatch(b, arrived[b], max(balance[b], 0), in_window[b])
        for b in sorted(seen_here)
        if arrived[b] > 0 and (balance[b] > 0 or in_window[b] > 0)
    )
    batch_ids = [p.batch_id for p in present]
    return Investigation(
        org_id=owner,
        location_id=location_id,
        since=since,
        until=until,
        present=present,
        sources=back(session, batch_ids=batch_ids, reaching=owner),
        spread=forward(session, batch_ids=batch_ids),
    )


def _place_owner(session: Session, location_id: int | None, org_id: int | None) -> OrgId:
    if location_id is None and org_id is None:
        raise InvalidInput("an investigation starts from a location or an organisation")
    if location_id is not None:
        owner = session.scalar(select(Location.org_id).where(Location.id == location_id))
        if owner is None:
            raise NotFound(f"no location {location_id}", location_id=location_id)
        if org_id is not None and org_id != owner:
            raise InvalidInput(f"location {location_id} does not belong to organisation {org_id}")
        return OrgId(owner)
    assert org_id is not None
    if session.get(Organisation, org_id) is None:
        raise UnknownOrganisation(f"no organisation {org_id}", org_id=org_id)
    return OrgId(org_id)


def roots_of(session: Session, link: DigitalLink) -> tuple[set[BatchId], set[CodeId]]:
    """The (batch ids, code ids) a scanned code asks to trace: a batch, an item or a logistic unit."""
    if link.sscc is not None:
        code_id = session.scalar(select(Code.id).where(Code.sscc == link.sscc))
    elif link.gtin is not None and link.serial is not None:
        query = (
            select(Code.id)
            .join(Batch, Batch.id == Code.batch_id)
            .join(Product, Product.id == Batch.product_id)
            .where(Product.gtin == link.gtin, Code.serial == link.serial, Code.kind == CodeKind.ITEM)
        )
        code_id = session.scalar(query.where(Batch.lot == link.lot) if link.lot is not None else query)
    elif link.gtin is not None and link.lot is not None:
        return {BatchId(find_batch_id(session, link.gtin, link.lot))}, set()
    else:
        raise InvalidDigitalLink("a trace starts from a batch (GTIN + lot), an item or a logistic unit (SSCC)")
    if code_id is None:
        raise UnknownCode(f"{link.element_string()} was never issued on this network", code=link.path)
    return set(), {CodeId(code_id)}


def has_held(session: Session, org_id: int, trace: Trace) -> bool:
    """Whether the organisation holds or held goods of every batch the trace starts from."""
    held = set(
        session.scalars(select(Holding.batch_id).where(Holding.org_id == org_id, Holding.batch_id.in_(trace.roots)))
    )
    return bool(trace.roots) and held == set(trace.roots)


def trace_report(session: Session, gtin: str, lot: str, direction: Direction) -> TraceView:
    """The trace of one batch as plain JSON-able data (``lotline recall trace``)."""
    batch_id = find_batch_id(session, gtin, lot)
    walk = forward if direction == "forward" else back
    return describe_trace(session, walk(session, batch_ids=[batch_id]), direction)


@without_gc_pauses
def describe_trace(
    session: Session,
    trace: Trace,
    direction: Direction,
    *,
    edges: bool = True,
    max_holders: int | None = None,
    leave_out_org: int | None = None,
) -> TraceView:
    """A trace with names: organisations by name, USCC and roles; batches by GTIN and lot; events by id.

    ``edges=False`` leaves the edges out (a page that shows holders need not name tens of thousands of events).
    ``max_holders`` lists that many holder positions, those with goods still on hand first, and
    ``holders_total`` says how many there are: a national trace has tens of thousands, and naming all of them
    is what made an investigation's answer grow to gigabytes. ``leave_out_org`` leaves one organisation's own
    positions out of the list and the total (the place being investigated)."""
    listed: Sequence[HolderPosition] = trace.holders
    if leave_out_org is not None:
        listed = [h for h in listed if h.org_id != leave_out_org]
    total = len(listed)
    if max_holders is not None:
        listed = heapq.nsmallest(max_holders, listed, key=_attention_order)
    wanted = {(h.org_id, h.batch_id) for h in listed}
    paths = {(p.org_id, p.batch_id): p.org_ids for p in trace.paths if (p.org_id, p.batch_id) in wanted}
    shown = trace.edges if edges else ()
    batches = _batches(session, trace.batches)
    orgs = _orgs(session, _named_orgs(listed, paths.values(), shown, batches.values()))
    event_ids = _event_ids(session, {e.event_seq for e in shown})
    return {
        "direction": direction,
        "roots": list(trace.roots),
        "batches": [_batch_view(b, orgs) for b in batches.values()],
        "holders": [_holder_view(h, orgs, batches[h.batch_id], paths.get((h.org_id, h.batch_id), ())) for h in listed],
        "holders_total": total,
        "edges": [_edge_view(e, orgs, event_ids) for e in shown],
    }


def format_report(report: TraceView) -> str:
    """A trace report as text for a terminal: one line per holder, sorted by batch then organisation."""
    lots = ", ".join(f"(01){b['gtin']}(10){b['lot']}" for b in report["batches"])
    lines = [f"{report['direction']} trace: {len(report['holders'])} holders of {lots}"]
    for h in report["holders"]:
        onward = ", ".join(f"{s['org']['name']} {s['quantity']}" for s in h["sent_to"])
        lines.append(
            f"  {h['org']['name']} ({h['org']['uscc']}) lot {h['lot']}: received {h['received']}, "
            f"on hand {h['on_hand']}, sold {h['consumed']}, destroyed {h['destroyed']}, "
            f"transformed {h['transformed']}, shipped {h['shipped']}" + (f" → {onward}" if onward else "")
        )
    return "\n".join(lines)


@without_gc_pauses
def describe_investigation(
    session: Session,
    investigation: Investigation,
    *,
    edges: bool = True,
    max_holders: int | None = None,
    leave_out_self: bool = False,
) -> InvestigationView:
    """An investigation with names; ``edges``, ``max_holders`` as for :func:`describe_trace`, applied to both
    traces. ``leave_out_self`` lists only the other holders (the place itself is the page's heading)."""
    here = investigation.org_id if leave_out_self else None
    bounds: dict[str, Any] = {"edges": edges, "max_holders": max_holders, "leave_out_org": here}
    orgs = _orgs(session, {investigation.org_id, *investigation.other_holders})
    batches = _batches(session, [p.batch_id for p in investigation.present])
    return {
        "org": orgs[investigation.org_id],
        "location_id": investigation.location_id,
        "since": investigation.since.isoformat(),
        "until": investigation.until.isoformat(),
        "present": [
            {
                "batch_id": p.batch_id,
                "gtin": batches[p.batch_id].gtin,
                "lot": batches[p.batch_id].lot,
                "product": batches[p.batch_id].product,
                "arrived_before_until": p.arrived_before_until,
                "on_hand_at_since": p.on_hand_at_since,
                "arrived_in_window": p.arrived_in_window,
            }
            for p in investigation.present
        ],
        "sources": describe_trace(session, investigation.sources, "back", **bounds),
        "spread": describe_trace(session, investigation.spread, "forward", **bounds),
        "other_holders": [orgs[o] for o in investigation.other_holders],
    }


def _attention_order(holder: HolderPosition) -> tuple[int, int, int]:
    """Those still holding the goods first (most units first), then in ledger order."""
    return (-holder.on_hand, holder.batch_id, holder.org_id)


class _BatchRow(NamedTuple):
    id: int
    gtin: str
    lot: str
    product: str
    quantity: int
    registrant_org_id: int


def _named_orgs(
    holders: Iterable[HolderPosition],
    chains: Iterable[Iterable[int]],
    edges: Iterable[Edge],
    batches: Iterable[_BatchRow],
) -> set[int]:
    """Every organisation a description names: holders, whom they sent to, the hands on each listed holder's path,
    both ends of the edges shown, and the batches' registrants."""
    org_ids: set[int] = set()
    for holder in holders:
        org_ids.add(holder.org_id)
        org_ids.update(o for o, _quantity in holder.sent_to)
    for chain in chains:
        org_ids.update(chain)
    for edge in edges:
        org_ids.update(o for o in (edge.from_org_id, edge.to_org_id) if o is not None)
    org_ids.update(b.registrant_org_id for b in batches)
    return org_ids


def _batch_view(batch: _BatchRow, orgs: Mapping[int, OrgView]) -> BatchView:
    return {
        "id": batch.id,
        "gtin": batch.gtin,
        "lot": batch.lot,
        "product": batch.product,
        "quantity": batch.quantity,
        "registrant": orgs[batch.registrant_org_id],
    }


def _holder_view(h: HolderPosition, orgs: Mapping[int, OrgView], batch: _BatchRow, chain: Iterable[int]) -> HolderView:
    return {
        "org": orgs[h.org_id],
        "batch_id": h.batch_id,
        "gtin": batch.gtin,
        "lot": batch.lot,
        "received": h.received,
        "on_hand": h.on_hand,
        "shipped": h.shipped,
        "consumed": h.consumed,
        "destroyed": h.destroyed,
        "transformed": h.transformed,
        "sent_to": [{"org": orgs[o], "quantity": q} for o, q in h.sent_to],
        "path": [orgs[o]["name"] for o in chain],
    }


def _edge_view(e: Edge, orgs: Mapping[int, OrgView], event_ids: Mapping[int, str]) -> EdgeView:
    return {
        "from_org": orgs[e.from_org_id]["uscc"] if e.from_org_id is not None else None,
        "to_org": orgs[e.to_org_id]["uscc"] if e.to_org_id is not None else None,
        "batch_id": e.batch_id,
        "quantity": e.quantity,
        "kind": e.kind.value,
        "event_id": event_ids[e.event_seq],
    }


def _orgs(session: Session, org_ids: Iterable[int]) -> dict[int, OrgView]:
    out: dict[int, OrgView] = {}
    for chunk in _chunks(org_ids):
        rows = session.execute(
            select(Organisation.id, Organisation.name, Organisation.uscc, Organisation.roles).where(
                Organisation.id.in_(chunk)
            )
        )
        out.update({i: {"id": i, "name": name, "uscc": uscc, "roles": list(roles)} for i, name, uscc, roles in rows})
    return out


def _batches(session: Session, batch_ids: Iterable[int]) -> dict[int, _BatchRow]:
    out: dict[int, _BatchRow] = {}
    for chunk in _chunks(batch_ids):
        rows = session.execute(
            select(Batch.id, Product.gtin, Batch.lot, Product.name, Batch.quantity, Batch.registrant_org_id)
            .join(Product, Product.id == Batch.product_id)
            .where(Batch.id.in_(chunk))
        )
        out.update((row[0], _BatchRow(*row)) for row in rows)
    return dict(sorted(out.items()))


def _event_ids(session: Session, seqs: Iterable[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for chunk in _chunks(seqs):
        out.update(session.execute(select(Event.seq, Event.event_id).where(Event.seq.in_(chunk))).all())
    return out


def _chunks(values: Iterable[int], size: int = 2_000) -> Iterator[list[int]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), size):
        yield ordered[start : start + size]
