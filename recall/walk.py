"""Trade-graph walks: forward from batches or codes to every holder, back from them to every source.

The walks read the indexed projections the ledger writes with every event (``movements``, ``transformations``,
``holdings``) level by level, one ``IN (…)`` query per level, and never parse event documents, except to follow
single codes through cases and pallets (``_code_scopes``), where only the documents know which units moved.
Why no recursive SQL: a batch's holders are its ``holdings`` rows, so the only recursion is over transformations
(a few levels at most); a forward trace of a batch is then a handful of indexed queries (6 for a batch with 1,231
holders and 2,701 edges, about 35 ms of CPU, see ``bench/bench_recall.py``), and runs the same on both backends.
Several roots (batches and codes) give the union of their traces.

Definitions (the property tests hold the engine to exactly these):

- The trade graph of a batch has an edge u → v for every receive of it by v from u. Its holders are its
  registrant (commission, or the organisation whose transformation produced it) and every receiver; these are
  exactly its ``holdings`` rows. Only receivers hold goods: a consignee with goods still in transit appears in the
  shipper's ``sent_to`` and in the edges, and becomes a holder when it receives them.
- **Forward** from batches: the batches themselves and every output of a transformation that consumed any of them,
  at any depth; every holder of those batches. From codes: the code's batch restricted to the organisations that
  held those codes (directly or inside a case or pallet), the events that moved them, plus every output batch of
  a transformation that consumed them, traced forward as whole batches.
- **Back** from batches: all holders of the batches, then for each transformation that produced a batch, its
  input batches restricted to the organisations on a path from the input's registrant to the transforming
  organisation, recursively. From codes: the holders of the codes, then the inputs as for batches. Back from
  batches *reaching* an organisation (an investigation's sources): the batches restricted, like inputs, to the
  organisations on a path from their registrant to that organisation, then the inputs as above.
- Edges are movements of kinds commission, ship, receive, transform_in and transform_out (sales, administrations
  and destructions end a holder's goods and are counted in its quantities, not drawn as edges). Back traces of
  input batches keep only the ship/receive edges between their upstream organisations and the transform_in edges
  of the transformations that lead to the trace.
- Cycles (goods returned upstream) are walked once: every organisation and batch is a set member, and quantities
  come from ``holdings``, which count each unit movement once however the goods travelled.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, TypeVar

from sqlalchemy import Executable, String, select, type_coerce
from sqlalchemy.orm import Session

from ledger import terms
from ledger.errors import UnknownBatch, UnknownCode
from ledger.models import (
    Batch,
    Code,
    CodeKind,
    Holding,
    Movement,
    MovementKind,
    Product,
    Transformation,
)
from recall.aggregation import events_moving, items_ever_inside
from recall.memory import without_gc_pauses
from recall.trace import BatchId, Edge, HolderPath, HolderPosition, OrgId, Position, Trace

__all__ = ["Edge", "HolderPath", "HolderPosition", "Position", "Trace", "back", "forward"]

TRADE_KINDS = (
    MovementKind.COMMISSION,
    MovementKind.SHIP,
    MovementKind.RECEIVE,
    MovementKind.TRANSFORM_IN,
    MovementKind.TRANSFORM_OUT,
)
BIRTH_KINDS = frozenset({MovementKind.COMMISSION, MovementKind.TRANSFORM_OUT})
KINDS = {kind.value: kind for kind in MovementKind}
# Bound parameters per query: SQLite accepts 32,766, PostgreSQL 65,535; chunking keeps plans cached and small.
CHUNK = 2_000

# Edges in ledger order. No two edges share all three keys (an event moves a batch one way once), so edges
# gathered in a set (back traces) come out in the same order every time; attrgetter sorts ~10x faster than a lambda.
_LEDGER_ORDER = attrgetter("event_seq", "batch_id", "kind")
_BY_BATCH_THEN_ORG = attrgetter("batch_id", "org_id")
_Id = TypeVar("_Id", bound=int)


@dataclass
class _Scope:
    """What a walk keeps of one batch: all of it, or only some holders and events (codes, upstream inputs)."""

    holders: set[OrgId] = field(default_factory=set)
    event_seqs: set[int] = field(default_factory=set)  # code scopes: the events that moved the codes
    whole: bool = False


@dataclass(frozen=True, slots=True)
class _Link:
    """A transformation row: ``org_id`` turned ``input_batch_id`` into ``output_batch_id`` in ``event_seq``."""

    input_batch_id: BatchId
    output_batch_id: BatchId
    org_id: OrgId
    event_seq: int


@without_gc_pauses
def forward(session: Session, *, batch_ids: Iterable[int] = (), code_ids: Iterable[int] = ()) -> Trace:
    """Every holder downstream of the batches or codes, through shipments, aggregation and transformations."""
    registrants = _registrants(session, batch_ids)
    named = set(registrants)
    codes = _code_scopes(session, code_ids)
    roots = named | codes.batches
    whole, links = _descendants(session, roots | codes.outputs)
    scopes: dict[BatchId, _Scope] = {b: _Scope(whole=True) for b in whole}
    for batch_id, scope in codes.scopes.items():
        scopes.setdefault(batch_id, scope)
    # Links out of a code's batch join the trace only where they lead to a batch already in it.
    links += [
        link
        for link in _links(session, Transformation.input_batch_id, set(codes.scopes) - whole)
        if link.output_batch_id in scopes
    ]
    edges = _edges(session, scopes)  # one row per movement: no duplicates to drop
    starts = {(org_id, batch_id) for batch_id, org_id in registrants.items()}
    starts |= _starts(session, (roots | set(codes.scopes)) - named)
    return _assemble(session, sorted(roots | set(codes.scopes)), scopes, edges, links, starts)


@without_gc_pauses
def back(
    session: Session, *, batch_ids: Iterable[int] = (), code_ids: Iterable[int] = (), reaching: int | None = None
) -> Trace:
    """Every source of the batches or codes: who held them before, and the inputs that made them, at any depth.

    ``reaching`` (an organisation) keeps of the named batches only the chain that reached it, as for input batches:
    the sources of one place, not every holder of the batch (a restaurant is no source of a supermarket it never
    supplied)."""
    named = set(_registrants(session, batch_ids))
    codes = _code_scopes(session, code_ids)
    roots = named | codes.batches
    scopes: dict[BatchId, _Scope] = {b: _Scope(whole=reaching is None) for b in roots}
    for batch_id, scope in codes.scopes.items():
        scopes.setdefault(batch_id, scope)
    links: list[_Link] = []
    sinks: dict[BatchId, set[OrgId]] = defaultdict(set)  # input batch → who transformed it into the trace
    if reaching is not None:
        for batch_id in roots:
            sinks[batch_id].add(OrgId(reaching))
    link_seqs: dict[BatchId, set[int]] = defaultdict(set)
    frontier = set(scopes)
    while frontier:
        produced = _links(session, Transformation.output_batch_id, frontier)
        links += produced
        frontier = set()
        for link in produced:
            sinks[link.input_batch_id].add(link.org_id)
            link_seqs[link.input_batch_id].add(link.event_seq)
            if link.input_batch_id not in scopes:
                scopes[link.input_batch_id] = _Scope()
                frontier.add(link.input_batch_id)
    inputs = {b for b in sinks if not scopes[b].whole}
    edges = set(_edges(session, {b: s for b, s in scopes.items() if b not in inputs or s.event_seqs}))
    by_batch: dict[BatchId, list[Edge]] = defaultdict(list)
    for edge in _edges(session, {b: _Scope(whole=True) for b in inputs}):
        by_batch[edge.batch_id].append(edge)
    for batch_id in inputs:
        upstream = _reverse_reach(by_batch[batch_id], sinks[batch_id])
        scopes[batch_id].holders |= upstream
        edges.update(e for e in by_batch[batch_id] if _upstream_edge(e, upstream, link_seqs[batch_id]))
    produced_batches = {link.output_batch_id for link in links}
    starts = _starts(session, set(scopes) - produced_batches)
    return _assemble(session, sorted(roots | set(codes.scopes)), scopes, edges, links, starts)


@dataclass
class _CodeWalk:
    scopes: dict[BatchId, _Scope] = field(default_factory=dict)  # batch → the holders and events of its codes
    outputs: set[BatchId] = field(default_factory=set)  # batches made by transformations that consumed the codes
    batches: set[BatchId] = field(default_factory=set)  # batches named by their own batch-level code


def _code_scopes(session: Session, code_ids: Iterable[int]) -> _CodeWalk:
    """Where the codes went. A batch-level code stands for its batch; an SSCC for every item it held at some time
    (``items_ever_inside``), so a case traced after it was unpacked still leads to its goods."""
    wanted = set(code_ids)
    walk = _CodeWalk()
    if not wanted:
        return walk
    codes = {c.id: c for chunk in _chunks(wanted) for c in session.scalars(select(Code).where(Code.id.in_(chunk)))}
    if missing := sorted(wanted - codes.keys()):
        raise UnknownCode(f"no code {missing[0]}", code_id=missing[0])
    items = [c for c in codes.values() if c.kind is CodeKind.ITEM]
    walk.batches = {BatchId(c.batch_id) for c in codes.values() if c.kind is CodeKind.BATCH and c.batch_id is not None}
    containers = [c for c in codes.values() if c.kind is CodeKind.SSCC]
    if containers:
        items += items_ever_inside(session, containers)
    by_batch: dict[BatchId, list[Code]] = defaultdict(list)
    for item in {c.id: c for c in items}.values():
        if item.batch_id is not None and item.serial is not None:
            by_batch[BatchId(item.batch_id)].append(item)
    for batch_id, batch_items in by_batch.items():
        gtin = session.scalar(
            select(Product.gtin).join(Batch, Batch.product_id == Product.id).where(Batch.id == batch_id)
        )
        assert gtin is not None
        epcs = {terms.item_epc(gtin, c.serial) for c in batch_items if c.serial is not None}
        seqs = events_moving(session, batch_id, epcs)
        receivers = session.scalars(
            select(Movement.to_org_id).where(
                Movement.batch_id == batch_id, Movement.kind == MovementKind.RECEIVE, Movement.event_seq.in_(seqs)
            )
        )
        holders = {OrgId(c.issued_by_org_id) for c in batch_items} | {OrgId(o) for o in receivers if o is not None}
        walk.scopes[batch_id] = _Scope(holders=holders, event_seqs=seqs)
        walk.outputs |= {link.output_batch_id for link in _links(session, Transformation.event_seq, seqs)}
    return walk


def _upstream_edge(edge: Edge, upstream: set[OrgId], link_seqs: set[int]) -> bool:
    if edge.kind in BIRTH_KINDS:
        return True
    if edge.kind is MovementKind.TRANSFORM_IN:
        return edge.event_seq in link_seqs
    return edge.from_org_id in upstream and edge.to_org_id in upstream


def _reverse_reach(edges: Sequence[Edge], sinks: set[OrgId]) -> set[OrgId]:
    """Organisations from which goods of the batch reached one of ``sinks`` by receives (sinks included)."""
    senders: dict[OrgId, set[OrgId]] = defaultdict(set)
    for edge in edges:
        if edge.kind is MovementKind.RECEIVE and edge.from_org_id is not None and edge.to_org_id is not None:
            senders[edge.to_org_id].add(edge.from_org_id)
    seen = set(sinks)
    queue = deque(sinks)
    while queue:
        for sender in senders[queue.popleft()] - seen:
            seen.add(sender)
            queue.append(sender)
    return seen


def _registrants(session: Session, batch_ids: Iterable[int]) -> dict[BatchId, OrgId]:
    """{batch id: its registrant} for batches that must exist; the registrants are where forward paths begin."""
    wanted = set(batch_ids)
    found: dict[BatchId, OrgId] = {}
    for chunk in _chunks(wanted):
        rows = session.execute(select(Batch.id, Batch.registrant_org_id).where(Batch.id.in_(chunk)))
        found.update((BatchId(batch_id), OrgId(org_id)) for batch_id, org_id in rows)
    if missing := sorted(wanted - found.keys()):
        raise UnknownBatch(f"no batch {missing[0]}", batch_id=missing[0])
    return found


def _starts(session: Session, batch_ids: set[BatchId]) -> set[Position]:
    """Where paths begin: each batch's registrant holding it."""
    starts: set[Position] = set()
    for chunk in _chunks(batch_ids):
        rows = session.execute(select(Batch.registrant_org_id, Batch.id).where(Batch.id.in_(chunk)))
        starts.update((OrgId(org_id), BatchId(batch_id)) for org_id, batch_id in rows)
    return starts


def _descendants(session: Session, start: set[BatchId]) -> tuple[set[BatchId], list[_Link]]:
    """The batches and every output of transformations that consumed them, level by level."""
    reached = set(start)
    links: list[_Link] = []
    frontier = set(start)
    while frontier:
        level = _links(session, Transformation.input_batch_id, frontier)
        links += level
        frontier = {link.output_batch_id for link in level} - reached
        reached |= frontier
    return reached, links


def _links(session: Session, column: object, batch_ids: Iterable[int]) -> list[_Link]:
    out: list[_Link] = []
    for chunk in _chunks(batch_ids):
        rows = session.execute(
            select(
                Transformation.input_batch_id,
                Transformation.output_batch_id,
                Transformation.org_id,
                Transformation.event_seq,
            ).where(column.in_(chunk))  # type: ignore[attr-defined]
        )
        out += [_Link(BatchId(i), BatchId(o), OrgId(org_id), seq) for i, o, org_id, seq in rows]
    return out


def _edges(session: Session, scopes: dict[BatchId, _Scope]) -> list[Edge]:
    """Trade edges of whole batches, and of code scopes the events that moved the codes plus the batch's birth."""
    edges: list[Edge] = []
    # The kind is read as plain text and mapped here: the Enum type's per-row conversion is a visible share of a
    # wide batch's trace.
    kind = type_coerce(Movement.kind, String)
    for chunk in _chunks(scopes):
        query = select(
            Movement.from_org_id,
            Movement.to_org_id,
            Movement.batch_id,
            Movement.quantity,
            kind,
            Movement.event_seq,
        ).where(Movement.batch_id.in_(chunk), Movement.kind.in_(TRADE_KINDS))
        # In ledger order, so the sort in _assemble finds the edges (nearly) sorted already.
        rows = _plain_rows(session, query.order_by(Movement.event_seq, Movement.batch_id, Movement.kind))
        if all(scopes[batch_id].whole for batch_id in chunk):  # the common case, kept to one tight loop
            edges += [Edge(f, t, b, q, KINDS[k], e) for f, t, b, q, k, e in rows]
            continue
        for from_org_id, to_org_id, batch_id, quantity, kind_name, event_seq in rows:
            scope, edge_kind = scopes[batch_id], KINDS[kind_name]
            if scope.whole or edge_kind in BIRTH_KINDS or event_seq in scope.event_seqs:
                edges.append(Edge(from_org_id, to_org_id, batch_id, quantity, edge_kind, event_seq))
    return edges


def _assemble(
    session: Session,
    roots: list[BatchId],
    scopes: dict[BatchId, _Scope],
    found: Iterable[Edge],
    links: list[_Link],
    starts: set[Position],
) -> Trace:
    edges = sorted(found, key=_LEDGER_ORDER)
    onward: dict[tuple[OrgId, BatchId, OrgId], int] = defaultdict(int)  # (from org, batch, to org) → units
    # Receivers in ledger order: the breadth-first paths then follow the goods that arrived first.
    graph: dict[Position, list[Position]] = defaultdict(list)
    ship, receive = MovementKind.SHIP, MovementKind.RECEIVE
    for from_org_id, to_org_id, batch_id, quantity, kind, _seq in edges:
        if from_org_id is None or to_org_id is None:
            continue
        if kind is ship:
            onward[from_org_id, batch_id, to_org_id] += quantity
        elif kind is receive:
            graph[from_org_id, batch_id].append((to_org_id, batch_id))
    for link in links:
        if link.input_batch_id in scopes and link.output_batch_id in scopes:
            graph[link.org_id, link.input_batch_id].append((link.org_id, link.output_batch_id))
    sent: dict[Position, list[tuple[OrgId, int]]] = defaultdict(list)
    for (from_org_id, batch_id, to_org_id), quantity in onward.items():  # in the order the goods first left
        sent[from_org_id, batch_id].append((to_org_id, quantity))
    holders: list[HolderPosition] = []
    for chunk in _chunks(scopes):
        query = select(
            Holding.batch_id,
            Holding.org_id,
            Holding.received,
            Holding.on_hand,
            Holding.shipped,
            Holding.consumed,
            Holding.destroyed,
            Holding.transformed,
        ).where(Holding.batch_id.in_(chunk))
        for batch_id, org_id, received, on_hand, shipped, consumed, destroyed, transformed in _plain_rows(
            session, query
        ):
            scope = scopes[batch_id]
            if scope.whole or org_id in scope.holders:
                sent_to = tuple(sent.get((org_id, batch_id), ()))
                holders.append(
                    HolderPosition(
                        org_id, batch_id, received, on_hand, shipped, consumed, destroyed, transformed, sent_to
                    )
                )
    holders.sort(key=_BY_BATCH_THEN_ORG)
    hops = _shortest_paths(graph, starts)
    paths = tuple(
        HolderPath(h.org_id, h.batch_id, chain) for h in holders if (chain := hops.get((h.org_id, h.batch_id)))
    )
    return Trace(tuple(roots), tuple(sorted(scopes)), tuple(holders), tuple(edges), paths)


def _shortest_paths(
    graph: dict[Position, list[Position]], starts: set[Position]
) -> dict[Position, tuple[Position, ...]]:
    """Breadth-first from every start at once; each node is reached once, so cycles end the walk."""
    hops: dict[Position, tuple[Position, ...]] = {start: (start,) for start in starts}
    queue = deque(sorted(starts))
    while queue:
        node = queue.popleft()
        here = hops[node]
        for nxt in graph.get(node, ()):
            if nxt not in hops:
                hops[nxt] = (*here, nxt)
                queue.append(nxt)
    return hops


def _plain_rows(session: Session, query: Executable) -> list[tuple[Any, ...]]:
    """The rows as the driver's own tuples. A wide trace reads tens of thousands of rows of plain integers and
    text: wrapping each in a SQLAlchemy Row (and an Edge after that) was a visible share of its time."""
    result = session.connection().execute(query)
    try:
        return list(result.cursor.fetchall()) if result.cursor is not None else []
    finally:
        result.close()


def _chunks(values: Iterable[_Id]) -> Iterator[list[_Id]]:
    ordered = sorted(set(values))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]
