"""A brute-force model of the trade graph, recomputed from the list of scans a test made.

It never reads the ledger: it replays the scans the test performed (what was scanned, by whom, in which order),
derives quantities, movements and the whereabouts of every code itself (containers expanded top-down from the
packing it saw), and answers forward and back traces with whole-graph fixpoints instead of walks. The engine in
``recall.walk`` reads indexed SQL projections and walks up from codes to containers, so the two can only agree if
both are right. The definitions are those of the ``recall.walk`` docstring.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field

Line = tuple[int, int]  # (batch_id, quantity)
Node = tuple[int, int]  # (org_id, batch_id)
EdgeKey = tuple[int | None, int | None, int, int, str, int]  # from, to, batch, quantity, kind, event seq
BIRTHS = ("commission", "transform_out")
TRADE = ("commission", "ship", "receive", "transform_in", "transform_out")


@dataclass(frozen=True)
class Birth:
    seq: int
    org: int
    batch: int
    quantity: int
    items: tuple[str, ...] = ()  # item codes issued at once by the registrant


@dataclass(frozen=True)
class Ship:
    seq: int
    shipment: int
    src: int
    dst: int
    codes: tuple[str, ...]
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Receive:
    seq: int
    shipment: int
    org: int
    lines: tuple[Line, ...] | None  # None: everything outstanding, codes included


@dataclass(frozen=True)
class Consume:
    seq: int
    org: int
    kind: str  # sell / destroy
    codes: tuple[str, ...]
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Transform:
    seq: int
    org: int
    codes: tuple[str, ...]
    lines: tuple[Line, ...]
    output: int
    quantity: int
    items: tuple[str, ...] = ()  # item codes the transformer issued for the output at once


@dataclass(frozen=True)
class Pack:
    seq: int
    org: int
    parent: str
    children: tuple[str, ...]


@dataclass(frozen=True)
class Unpack:
    seq: int
    org: int
    parent: str


Op = Birth | Ship | Receive | Consume | Transform | Pack | Unpack
QUANTITY_FIELDS = ("received", "on_hand", "shipped", "consumed", "destroyed", "transformed")


@dataclass
class Model:
    registrant: dict[int, int] = field(default_factory=dict)
    issuer: dict[str, int] = field(default_factory=dict)
    code_batch: dict[str, int] = field(default_factory=dict)
    quantities: dict[Node, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    moves: list[EdgeKey] = field(default_factory=list)
    links: list[tuple[int, int, int, int]] = field(default_factory=list)  # seq, org, input batch, output batch
    code_seqs: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    code_receivers: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))


@dataclass
class Expected:
    batches: set[int]
    holders: dict[Node, tuple[int, ...]]  # quantities in QUANTITY_FIELDS order
    sent_to: dict[Node, dict[int, int]]
    edges: set[EdgeKey]
    graph: set[tuple[Node, Node]]
    distance: dict[Node, int]
    starts: set[Node]


def replay(ops: list[Op]) -> Model:
    model = Model()
    children: dict[str, set[str]] = defaultdict(set)
    shipments: dict[int, tuple[int, Counter[int], tuple[str, ...]]] = {}

    def items_in(codes: tuple[str, ...]) -> list[str]:
        out: list[str] = []
        stack = list(codes)
        while stack:
            code = stack.pop()
            if code in model.code_batch:
                out.append(code)
            stack.extend(children[code])
        return out

    def per_batch(items: list[str], lines: tuple[Line, ...]) -> Counter[int]:
        totals = Counter(model.code_batch[i] for i in items)
        for batch, quantity in lines:
            totals[batch] += quantity
        return totals

    def birth(seq: int, org: int, batch: int, quantity: int, kind: str) -> None:
        model.registrant[batch] = org
        model.quantities[(org, batch)].update(received=quantity, on_hand=quantity)
        model.moves.append((None, org, batch, quantity, kind, seq))

    for op in sorted(ops, key=lambda o: o.seq):
        if isinstance(op, Birth):
            birth(op.seq, op.org, op.batch, op.quantity, "commission")
            for item in op.items:
                model.code_batch[item], model.issuer[item] = op.batch, op.org
        elif isinstance(op, Ship):
            items = items_in(op.codes)
            totals = per_batch(items, op.lines)
            for batch, quantity in totals.items():
                model.quantities[(op.src, batch)].update(shipped=quantity)
                model.quantities[(op.src, batch)]["on_hand"] -= quantity
                model.moves.append((op.src, op.dst, batch, quantity, "ship", op.seq))
            shipments[op.shipment] = (op.src, totals, op.codes)
            for item in items:
                model.code_seqs[item].add(op.seq)
        elif isinstance(op, Receive):
            src, outstanding, codes = shipments[op.shipment]
            taken = Counter(dict(op.lines)) if op.lines is not None else +outstanding
            received_codes = codes if op.lines is None else ()
            for batch, quantity in taken.items():
                outstanding[batch] -= quantity
                model.quantities[(op.org, batch)].update(received=quantity, on_hand=quantity)
                model.moves.append((src, op.org, batch, quantity, "receive", op.seq))
            for item in items_in(received_codes):
                model.code_seqs[item].add(op.seq)
                model.code_receivers[item].add(op.org)
        elif isinstance(op, Consume):
            items = items_in(op.codes)
            for batch, quantity in per_batch(items, op.lines).items():
                model.quantities[(op.org, batch)]["on_hand"] -= quantity
                model.quantities[(op.org, batch)].update({"consumed" if op.kind == "sell" else "destroyed": quantity})
                model.moves.append((op.org, None, batch, quantity, op.kind, op.seq))
            for item in items:
                model.code_seqs[item].add(op.seq)
        elif isinstance(op, Transform):
            items = items_in(op.codes)
            for batch, quantity in per_batch(items, op.lines).items():
                model.quantities[(op.org, batch)]["on_hand"] -= quantity
                model.quantities[(op.org, batch)].update(transformed=quantity)
                model.moves.append((op.org, None, batch, quantity, "transform_in", op.seq))
                model.links.append((op.seq, op.org, batch, op.output))
            for item in items:
                model.code_seqs[item].add(op.seq)
            birth(op.seq, op.org, op.output, op.quantity, "transform_out")
            for item in op.items:
                model.code_batch[item], model.issuer[item] = op.output, op.org
        elif isinstance(op, Pack):
            children[op.parent].update(op.children)
        else:
            children[op.parent] = set()
    return model


def forward(model: Model, batches: set[int], items: set[str]) -> Expected:
    whole = set(batches)
    holders, seqs = _code_scopes(model, items)
    whole |= {out for seq, _org, _in, out in model.links if any(seq in model.code_seqs[i] for i in items)}
    changed = True
    while changed:
        grown = whole | {out for _seq, _org, source, out in model.links if source in whole}
        changed, whole = grown != whole, grown
    scoped = set(holders) - whole
    edges = {
        m
        for m in model.moves
        if m[4] in TRADE and (m[2] in whole or (m[2] in scoped and (m[4] in BIRTHS or m[5] in seqs[m[2]])))
    }
    kept = {
        node for node in model.quantities if node[1] in whole or (node[1] in scoped and node[0] in holders[node[1]])
    }
    starts = {(model.registrant[b], b) for b in batches | set(holders)}
    return _expected(model, whole | scoped, kept, edges, starts)


def back(model: Model, batches: set[int], items: set[str], reaching: int | None = None) -> Expected:
    """``reaching``: the batches' sources for that organisation only (an investigation's), found as for inputs."""
    whole = set(batches) if reaching is None else set()
    holders, seqs = _code_scopes(model, items)
    traced = set(batches) | set(holders)
    sinks: dict[int, set[int]] = defaultdict(set)
    if reaching is not None:
        for batch in batches:
            sinks[batch].add(reaching)
    link_seqs: dict[int, set[int]] = defaultdict(set)
    changed = True
    while changed:
        before = (len(traced), sum(map(len, sinks.values())))
        for seq, org, source, out in model.links:
            if out in traced:
                sinks[source].add(org)
                link_seqs[source].add(seq)
                traced.add(source)
        changed = before != (len(traced), sum(map(len, sinks.values())))
    upstream: dict[int, set[int]] = {}
    for batch, ends in sinks.items():
        if batch in whole:
            continue
        reach = set(ends)
        while True:
            grown = reach | {m[0] for m in model.moves if m[4] == "receive" and m[2] == batch and m[1] in reach}
            if grown == reach:
                break
            reach = {org for org in grown if org is not None}
        upstream[batch] = reach

    def keep_edge(m: EdgeKey) -> bool:
        batch, kind = m[2], m[4]
        if kind not in TRADE or batch not in traced:
            return False
        if batch in whole or kind in BIRTHS:
            return True
        if batch in holders and m[5] in seqs[batch]:
            return True
        if batch in upstream:
            ends = upstream[batch]
            return m[5] in link_seqs[batch] if kind == "transform_in" else m[0] in ends and m[1] in ends
        return False

    kept = {
        node
        for node in model.quantities
        if node[1] in whole or node[0] in holders.get(node[1], set()) or node[0] in upstream.get(node[1], set())
    }
    produced = {out for _seq, _org, _in, out in model.links}
    starts = {(model.registrant[b], b) for b in traced if b not in produced}
    return _expected(model, traced, kept, {m for m in model.moves if keep_edge(m)}, starts)


def _code_scopes(model: Model, items: set[str]) -> tuple[dict[int, set[int]], dict[int, set[int]]]:
    holders: dict[int, set[int]] = defaultdict(set)
    seqs: dict[int, set[int]] = defaultdict(set)
    for item in items:
        batch = model.code_batch[item]
        holders[batch] |= {model.issuer[item]} | model.code_receivers[item]
        seqs[batch] |= model.code_seqs[item]
    return holders, seqs


def _expected(model: Model, batches: set[int], kept: set[Node], edges: set[EdgeKey], starts: set[Node]) -> Expected:
    sent_to: dict[Node, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for src, dst, batch, quantity, kind, _seq in edges:
        if kind == "ship" and src is not None and dst is not None:
            sent_to[(src, batch)][dst] += quantity
    graph = {((m[0], m[2]), (m[1], m[2])) for m in edges if m[4] == "receive" and m[0] is not None and m[1] is not None}
    graph |= {((org, source), (org, out)) for _s, org, source, out in model.links if {source, out} <= batches}
    # Bellman-Ford with unit weights: relax every edge until nothing shortens.
    distance = dict.fromkeys(starts, 0)
    changed = True
    while changed:
        changed = False
        for a, b in graph:
            if a in distance and distance[a] + 1 < distance.get(b, len(graph) + 1):
                distance[b] = distance[a] + 1
                changed = True
    return Expected(
        batches=batches,
        holders={node: tuple(model.quantities[node][f] for f in QUANTITY_FIELDS) for node in kept},
        sent_to={node: dict(to) for node, to in sent_to.items() if node in kept},
        edges=edges,
        graph=graph,
        distance={node: d for node, d in distance.items() if node in kept},
        starts=starts,
    )
