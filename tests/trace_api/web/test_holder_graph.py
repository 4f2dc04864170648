"""The holder graph's layout, on hand-made traces: columns by hands from the source, rows following the shipper,
returns upstream marked, the picture capped with the rest counted, long names wrapped whole."""

from __future__ import annotations

from ledger.models import MovementKind
from recall.trace import Edge, HolderPath, HolderPosition, Trace
from trace_api.web.holder_graph import BOX_H, BOX_W, COLUMN, LINE_H, MARGIN, MAX_LINES, ROW, holder_graph, wrap

BATCH = 7


def ship(source: int, target: int, quantity: int, seq: int) -> list[Edge]:
    return [
        Edge(source, target, BATCH, quantity, MovementKind.SHIP, seq),
        Edge(source, target, BATCH, quantity, MovementKind.RECEIVE, seq + 1),
    ]


def trace(flows: list[tuple[int, int, int]], chains: dict[int, tuple[int, ...]], in_transit: int = 0) -> Trace:
    edges = [Edge(None, 1, BATCH, 100, MovementKind.COMMISSION, 1)]
    for seq, (source, target, quantity) in enumerate(flows, start=1):
        edges += ship(source, target, quantity, 10 * seq)
    holders = tuple(HolderPosition(org, BATCH, 0, 0, 0, 0, 0, 0, ()) for org in chains)
    paths = tuple(HolderPath(org, BATCH, tuple((o, BATCH) for o in chain)) for org, chain in chains.items())
    return Trace((BATCH,), (BATCH,), holders, tuple(edges), paths)


def test_columns_count_hands_from_the_source_and_returns_upstream_are_marked() -> None:
    # 1 → 2 → 3, 1 → 4, and 3 sends 2 units back to 2; 5 has goods on the way from 4.
    walked = trace(
        [(1, 2, 30), (1, 4, 20), (2, 3, 10), (3, 2, 2), (4, 5, 5)],
        {1: (1,), 2: (1, 2), 3: (1, 2, 3), 4: (1, 4)},
    )
    names = {1: "进口商", 2: "批发市场", 3: "摊位", 4: "超市", 5: "餐厅"}
    graph = holder_graph(walked, names, {3: "settled"}, default="pending")

    at = {n.org_id: (n.depth, n.x, n.y, n.status) for n in graph.nodes}
    assert {org: depth for org, (depth, *_rest) in at.items()} == {1: 0, 2: 1, 4: 1, 3: 2, 5: 2}
    assert at[3][3] == "settled"
    assert at[1][3] == "pending"
    assert at[2][1] == MARGIN + COLUMN  # x follows the column
    # Rows follow the shipper's row: 3 (from 2, row 0) above 5 (from 4, row 1).
    assert at[3][2] == MARGIN
    assert at[5][2] == MARGIN + ROW
    flows = {(e.from_org_id, e.to_org_id): (e.quantity, e.upstream) for e in graph.edges}
    assert flows[(3, 2)] == (2, True)
    assert flows[(1, 2)] == (30, False)
    assert graph.width == 2 * MARGIN + 2 * COLUMN + BOX_W
    assert graph.hidden == 0


def test_a_wide_trace_is_capped_and_says_how_many_are_not_drawn() -> None:
    flows = [(1, org, 1) for org in range(2, 302)]
    chains = {1: (1,)} | {org: (1, org) for org in range(2, 302)}
    graph = holder_graph(trace(flows, chains), {}, {}, default="holder", limit=50)
    assert len(graph.nodes) == 50
    assert (graph.total, graph.hidden) == (301, 251)
    drawn = {n.org_id for n in graph.nodes}
    assert 1 in drawn  # the source is always first
    assert all(e.from_org_id in drawn and e.to_org_id in drawn for e in graph.edges)


def test_long_names_wrap_whole_onto_taller_boxes_and_rows() -> None:
    names = {1: "浙江省杭州市西湖区文三路农贸市场冷链水产经营部", 2: "摊位"}
    graph = holder_graph(trace([(1, 2, 5)], {1: (1,), 2: (1, 2)}), names, {}, default="holder")
    long, short = graph.nodes
    assert long.lines == ("浙江省杭州市西湖区文三路", "农贸市场冷链水产经营部")
    assert "".join(long.lines) == long.name  # nothing cut
    assert short.lines == ("摊位",)
    assert graph.box_h == BOX_H + LINE_H  # every box as tall as the tallest
    (edge,) = graph.edges
    assert edge.path.startswith(f"M{MARGIN + BOX_W},{MARGIN + graph.box_h // 2} ")


def test_latin_names_wrap_at_spaces_and_only_a_name_past_three_lines_is_cut() -> None:
    assert wrap("Hangzhou Wensan Road Farmers Market") == ("Hangzhou Wensan Road", "Farmers Market")
    cut = wrap("浙江省杭州市西湖区文三路农贸市场冷链水产经营部" * 2)
    assert len(cut) == MAX_LINES
    assert cut[-1].endswith("…")
    assert "".join(cut)[:-1] == ("浙江省杭州市西湖区文三路农贸市场冷链水产经营部" * 2)[: len("".join(cut)) - 1]
