"""A trace drawn as a holder graph: organisations in columns by how many hands the goods passed through, an
arrow for every organisation-to-organisation shipment, each box coloured by where its holder stands.

Laid out here on the server and rendered as inline SVG by the template (``_holder_graph.html``): the pages run no
script, and a regulator can print or save the page as it is. The layout is the classic layered one, kept simple:

- A column per depth: an organisation's depth is the number of hands on its shortest path from the start of the
  trace (``Trace.paths``, the walk's own breadth-first paths); a consignee whose goods are still in transit sits
  one column after its shipper.
- Within a column, boxes are ordered by the mean row of their shippers in the column before (one barycentre
  pass), so most arrows run level instead of crossing the whole picture.
- Shipments that go back to an earlier or the same column (returns upstream) are drawn dashed, below the boxes.
- A national recall reaches thousands of organisations; the picture keeps the ``limit`` nearest ones (by depth,
  then name) and says how many more there are. The holders table below it lists every one.
- A long name wraps onto up to three lines of its box (every box of the picture as tall as the tallest), so
  "浙江省杭州市西湖区文三路农贸市场冷链水产经营部" is read whole; only a name longer than three lines is cut, and
  its box's tooltip and the table keep it whole.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from ledger.models import MovementKind
from recall.walk import Trace

MAX_NODES: Final = 150
BOX_W: Final = 176
BOX_H: Final = 30  # a box of one line
LINE_H: Final = 16  # each further line adds this
MAX_LINES: Final = 3
COLUMN: Final = 232  # box width plus the room an arrow needs
ROW: Final = 42  # a row of one-line boxes
MARGIN: Final = 12
LABEL_WIDTH: Final = 24  # a line holds about 12 Chinese characters or 24 Latin ones


@dataclass(frozen=True, slots=True)
class GraphNode:
    org_id: int
    name: str
    lines: tuple[str, ...]  # the name, wrapped to fit its box
    status: str  # a CSS modifier: "settled", "acknowledged", "pending", "passed", "here", "holder"
    depth: int
    x: int
    y: int


@dataclass(frozen=True, slots=True)
class GraphEdge:
    from_org_id: int
    to_org_id: int
    quantity: int
    path: str  # the SVG path data
    upstream: bool  # a return to an earlier (or the same) column


@dataclass(frozen=True)
class HolderGraph:
    nodes: tuple[GraphNode, ...]
    edges: tuple[GraphEdge, ...]
    width: int
    height: int
    total: int  # organisations in the trace; len(nodes) of them are drawn
    box_w: int = BOX_W
    box_h: int = BOX_H

    @property
    def hidden(self) -> int:
        return self.total - len(self.nodes)


def holder_graph(
    trace: Trace, names: Mapping[int, str], statuses: Mapping[int, str], *, default: str, limit: int = MAX_NODES
) -> HolderGraph:
    """Lay out ``trace``; ``statuses`` colours organisations by id, the others get ``default``."""
    flows: dict[tuple[int, int], int] = defaultdict(int)
    for edge in trace.edges:
        if (
            edge.kind is MovementKind.SHIP
            and edge.from_org_id
            and edge.to_org_id
            and edge.from_org_id != edge.to_org_id
        ):
            flows[edge.from_org_id, edge.to_org_id] += edge.quantity
    orgs = {h.org_id for h in trace.holders} | {org for pair in flows for org in pair}
    depth, parent = _depths(trace, flows, orgs)
    ordered = sorted(orgs, key=lambda org: (depth[org], names.get(org, ""), org))[:limit]
    lines = {org: wrap(names.get(org, str(org))) for org in ordered}
    extra = (max((len(wrapped) for wrapped in lines.values()), default=1) - 1) * LINE_H
    box_h, row_h = BOX_H + extra, ROW + extra
    rows = _rows(ordered, depth, parent, names)
    at = {org: (MARGIN + depth[org] * COLUMN, MARGIN + row * row_h) for org, row in rows.items()}
    nodes = tuple(
        GraphNode(org, names.get(org, str(org)), lines[org], statuses.get(org, default), depth[org], *at[org])
        for org in ordered
    )
    edges = tuple(
        GraphEdge(source, target, quantity, *_arrow(at[source], at[target], box_h))
        for (source, target), quantity in sorted(flows.items())
        if source in at and target in at
    )
    columns = max((n.depth for n in nodes), default=0) + 1
    height_rows = max(rows.values(), default=0) + 1
    # Room under the last row for the dashed arcs of returns.
    return HolderGraph(
        nodes,
        edges,
        width=2 * MARGIN + (columns - 1) * COLUMN + BOX_W,
        height=2 * MARGIN + (height_rows - 1) * row_h + box_h + ROW // 2,
        total=len(orgs),
        box_h=box_h,
    )


def _depths(
    trace: Trace, flows: Mapping[tuple[int, int], int], orgs: set[int]
) -> tuple[dict[int, int], dict[int, int]]:
    """Each organisation's column, and the organisation before it on its shortest path (if any)."""
    depth: dict[int, int] = {}
    parent: dict[int, int] = {}
    for path in trace.paths:
        chain = path.org_ids
        for position, org in enumerate(chain):
            if position < depth.get(org, position + 1):
                depth[org] = position
                if position:
                    parent[org] = chain[position - 1]
    # Consignees still waiting for their goods are on no path yet: one column after their shipper.
    changed = True
    while changed:
        changed = False
        for source, target in sorted(flows):
            if source in depth and target not in depth:
                depth[target], parent[target] = depth[source] + 1, source
                changed = True
    for org in orgs - depth.keys():
        depth[org] = 0
    return depth, parent


def _rows(
    ordered: list[int], depth: Mapping[int, int], parent: Mapping[int, int], names: Mapping[int, str]
) -> dict[int, int]:
    """Row of every drawn organisation: column by column, sorted by the row of the organisation it came from."""
    rows: dict[int, int] = {}
    columns: dict[int, list[int]] = defaultdict(list)
    for org in ordered:
        columns[depth[org]].append(org)
    for column in sorted(columns):
        members = columns[column]
        members.sort(key=lambda org: (rows.get(parent.get(org, -1), -1), names.get(org, ""), org))
        for row, org in enumerate(members):
            rows[org] = row
    return rows


def _arrow(source: tuple[int, int], target: tuple[int, int], box_h: int) -> tuple[str, bool]:
    (x1, y1), (x2, y2) = source, target
    if x2 > x1:  # onward: from the right edge of one box to the left edge of the other
        start, end = (x1 + BOX_W, y1 + box_h // 2), (x2 - 2, y2 + box_h // 2)
        bend = (end[0] - start[0]) // 2
        return f"M{start[0]},{start[1]} C{start[0] + bend},{start[1]} {end[0] - bend},{end[1]} {end[0]},{end[1]}", False
    # Back upstream: bottom to bottom, bowing below both boxes.
    start, end = (x1 + BOX_W // 3, y1 + box_h), (x2 + 2 * BOX_W // 3, y2 + box_h + 2)
    low = max(start[1], end[1]) + ROW // 2
    return f"M{start[0]},{start[1]} C{start[0]},{low} {end[0]},{low} {end[0]},{end[1]}", True


def _units(char: str) -> int:
    return 2 if ord(char) > 0x2E80 else 1  # a CJK character is as wide as two Latin ones


def wrap(name: str) -> tuple[str, ...]:
    """The name on lines that fit a box: Chinese breaks anywhere, Latin text at a space where it can; past
    ``MAX_LINES`` lines the last one ends with "…"."""
    lines: list[str] = []
    line, used = "", 0
    for char in name.strip():
        if used + _units(char) > LABEL_WIDTH:
            space = line.rfind(" ")
            keep, carry = (line[:space], line[space + 1 :]) if space > LABEL_WIDTH // 3 else (line, "")
            lines.append(keep.rstrip())
            line, used = carry, sum(map(_units, carry))
        line += char
        used += _units(char)
    lines.append(line)
    if len(lines) <= MAX_LINES:
        return tuple(lines)
    last = lines[MAX_LINES - 1]
    while sum(map(_units, last)) + 1 > LABEL_WIDTH:
        last = last[:-1]
    return (*lines[: MAX_LINES - 1], last.rstrip() + "…")
