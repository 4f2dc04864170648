"""Forward and back traces against a brute-force oracle, on random trade networks built through the real ledger.

Each example registers batches (some with item codes), then makes random valid scans: shipments (returns upstream
included, so the graph has cycles), whole and partial receives, sales, destructions, transformations into new
batches at any depth, packing items into cases and cases into pallets (also into a case already on a pallet), and
unpacking. The scans are recorded as plain ops; ``tests.recall.oracle`` recomputes every trace from those ops alone.
Each example runs in one transaction that is rolled back, so examples never see each other's rows.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import pairwise

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as report_feature
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger import packing, trade
from ledger.codes import issue_item_codes
from ledger.errors import UnknownBatch, UnknownCode
from ledger.goods import BatchLine, Goods
from ledger.identifiers import DigitalLink, make_sscc
from ledger.models import Category, Code, Event, Organisation, Product, Role
from ledger.recorder import Signer
from ledger.registry import create_product, register_batch
from recall import repository
from recall.investigate import investigate
from recall.walk import Trace, back, forward
from tests.ledger.network import COLD_ATTRS, PREFIX, make_signer, org
from tests.recall import oracle

SIGNER = make_signer()
FAR_FUTURE = datetime(2200, 1, 1, tzinfo=UTC)


@dataclass
class World:
    """A ledger being built by random scans, with what each organisation holds so every scan drawn is valid."""

    db: Session
    signer: Signer
    orgs: list[Organisation]
    gtins: list[str]
    ops: list[oracle.Op] = field(default_factory=list)
    on_hand: dict[int, Counter[int]] = field(default_factory=dict)
    loose: dict[int, set[str]] = field(default_factory=dict)  # top-level codes an organisation holds
    children: dict[str, set[str]] = field(default_factory=dict)
    held_ever: dict[str, set[str]] = field(default_factory=dict)  # every item a container held at some time
    own_products: dict[tuple[int, str], str] = field(default_factory=dict)
    code_batch: dict[str, int] = field(default_factory=dict)
    links: dict[str, DigitalLink] = field(default_factory=dict)
    code_ids: dict[str, int] = field(default_factory=dict)
    lots: dict[int, tuple[str, str]] = field(default_factory=dict)
    pending: dict[int, tuple[int, int, tuple[str, ...], Counter[int]]] = field(default_factory=dict)
    made: int = 0
    features: set[str] = field(default_factory=set)  # what this example exercised, reported as hypothesis events

    def __post_init__(self) -> None:
        for o in self.orgs:
            self.on_hand[o.id], self.loose[o.id] = Counter(), set()

    def items_in(self, codes: set[str] | tuple[str, ...]) -> list[str]:
        out, stack = [], list(codes)
        while stack:
            code = stack.pop()
            out += [code] if code in self.code_batch else []
            stack += self.children.get(code, ())
        return out

    def items_ever_in(self, codes: tuple[str, ...]) -> set[str]:
        """What a trace from these codes follows: items as they are, every item a case or pallet ever held."""
        return {item for code in codes for item in self.held_ever.get(code, set(self.items_in((code,))))}

    def uncoded(self, org_id: int) -> Counter[int]:
        coded = Counter(self.code_batch[i] for i in self.items_in(self.loose[org_id]))
        return Counter({b: q - coded[b] for b, q in self.on_hand[org_id].items() if q - coded[b] > 0})

    def movable(self, org_id: int, *, containers: bool) -> list[str]:
        """Loose codes that carry at least one item (an empty case moves no goods)."""
        return sorted(c for c in self.loose[org_id] if self.items_in({c}) and (containers or c in self.code_batch))

    def issue(self, org_id: int, batch_id: int, count: int) -> tuple[str, ...]:
        if count == 0:
            return ()
        serials = issue_item_codes(self.db, self.signer, self.org(org_id), batch_id, count)
        gtin, lot = self.lots[batch_id]
        rows = self.db.execute(select(Code.serial, Code.id).where(Code.batch_id == batch_id, Code.serial.in_(serials)))
        ids = dict(rows.all())
        keys = tuple(f"item:{s}" for s in serials)
        for key, serial in zip(keys, serials, strict=True):
            self.code_batch[key], self.code_ids[key] = batch_id, ids[serial]
            self.links[key] = DigitalLink(gtin=gtin, lot=lot, serial=serial)
        self.loose[org_id] |= set(keys)
        return keys

    def own_gtin(self, registrant: Organisation, gtin: str) -> str:
        """Only a product's owner registers batches under its GTIN (ledger/ownership.py): another registrant gets
        a product of its own in place of the drawn one, made once per example."""
        product = self.db.scalar(select(Product).where(Product.gtin == gtin))
        if product is None or product.owner_org_id == registrant.id:
            return gtin
        key = (registrant.id, gtin)
        if key not in self.own_products:
            made = create_product(
                self.db,
                registrant,
                name=f"{gtin} of {registrant.id}",
                category=Category.COLD_CHAIN,
                company_prefix=PREFIX,
            )
            self.own_products[key] = made.gtin
        return self.own_products[key]

    def register(self, org_id: int, gtin: str, quantity: int, codes: int) -> None:
        self.made += 1
        lot = f"L{self.made}"
        registrant = self.org(org_id)
        gtin = self.own_gtin(registrant, gtin)
        batch = register_batch(
            self.db, self.signer, registrant, gtin=gtin, lot=lot, quantity=quantity, attrs=COLD_ATTRS
        )
        seq = self.last_seq()
        self.lots[batch.id] = (gtin, lot)
        self.on_hand[org_id][batch.id] += quantity
        self.ops.append(oracle.Birth(seq, org_id, batch.id, quantity, self.issue(org_id, batch.id, codes)))

    def goods(self, codes: tuple[str, ...], lines: tuple[oracle.Line, ...]) -> Goods:
        return Goods(
            codes=tuple(self.links[c] for c in codes),
            lines=tuple(BatchLine(*self.lots[b], q) for b, q in lines),
        )

    def take(self, org_id: int, codes: tuple[str, ...], lines: tuple[oracle.Line, ...]) -> None:
        self.loose[org_id] -= set(codes)
        self.on_hand[org_id].subtract(Counter(self.code_batch[i] for i in self.items_in(codes)))
        for batch_id, quantity in lines:
            self.on_hand[org_id][batch_id] -= quantity

    def ship(self, src: int, dst: int, codes: tuple[str, ...], lines: tuple[oracle.Line, ...]) -> None:
        event, shipment = trade.ship(self.db, self.signer, self.ctx(src), self.goods(codes, lines), to_org_id=dst)
        outstanding = Counter(self.code_batch[i] for i in self.items_in(codes)) + Counter(dict(lines))
        if any(op.src == dst and op.dst == src for op in self.ops if isinstance(op, oracle.Ship)):
            self.features.add("goods returned upstream")
        if any(code in self.children for code in codes):
            self.features.add("case or pallet shipped")
        if any(child in self.children for code in codes for child in self.children.get(code, ())):
            self.features.add("pallet of cases shipped")
        self.take(src, codes, lines)
        self.pending[shipment.id] = (src, dst, codes, outstanding)
        self.ops.append(oracle.Ship(event.seq, shipment.id, src, dst, codes, lines))

    def receive(self, shipment_id: int, part: oracle.Line | None) -> None:
        _src, dst, codes, outstanding = self.pending[shipment_id]
        goods = self.goods((), (part,)) if part else None
        if part is not None and part[1] < outstanding[part[0]]:
            self.features.add("partial receive")
        event = trade.receive(self.db, self.signer, self.ctx(dst), shipment_id=shipment_id, goods=goods)
        taken = Counter(dict([part])) if part else +outstanding
        self.on_hand[dst].update(taken)
        outstanding.subtract(taken)
        if part is None:
            self.loose[dst] |= set(codes)
        if not +outstanding:
            del self.pending[shipment_id]
        self.ops.append(oracle.Receive(event.seq, shipment_id, dst, (part,) if part else None))

    def consume(self, org_id: int, kind: str, codes: tuple[str, ...], lines: tuple[oracle.Line, ...]) -> None:
        scan = trade.sell if kind == "sell" else trade.destroy
        event = scan(self.db, self.signer, self.ctx(org_id), self.goods(codes, lines))
        self.take(org_id, codes, lines)
        self.ops.append(oracle.Consume(event.seq, org_id, kind, codes, lines))

    def transform(
        self, org_id: int, codes: tuple[str, ...], lines: tuple[oracle.Line, ...], gtin: str, quantity: int, new: int
    ) -> None:
        self.made += 1
        lot = f"T{self.made}"
        event, output = packing.transform(
            self.db,
            self.signer,
            self.ctx(org_id),
            self.goods(codes, lines),
            output_gtin=gtin,
            output_lot=lot,
            output_quantity=quantity,
        )
        made_here = {op.output for op in self.ops if isinstance(op, oracle.Transform)}
        if made_here & ({b for b, _q in lines} | {self.code_batch[c] for c in codes}):
            self.features.add("transformation of a transformation's output")
        self.take(org_id, codes, lines)
        self.lots[output.id] = (gtin, lot)
        self.on_hand[org_id][output.id] += quantity
        items = self.issue(org_id, output.id, new)
        self.ops.append(oracle.Transform(event.seq, org_id, codes, lines, output.id, quantity, items))

    def pack(self, org_id: int, children: tuple[str, ...], parent: str | None) -> None:
        if parent is None:
            self.made += 1
            parent = f"sscc:{make_sscc(PREFIX, self.made)}"
            self.links[parent] = DigitalLink(sscc=parent.removeprefix("sscc:"))
            self.loose[org_id].add(parent)
        elif parent not in self.loose[org_id]:
            self.features.add("packed into a case already on a pallet")
        sscc = self.links[parent].sscc
        assert sscc is not None
        event, code = packing.pack(self.db, self.signer, self.ctx(org_id), [self.links[c] for c in children], sscc=sscc)
        self.code_ids[parent] = code.id
        self.loose[org_id] -= set(children)
        self.children.setdefault(parent, set()).update(children)
        for container in self.children:
            self.held_ever.setdefault(container, set()).update(self.items_in((container,)))
        self.ops.append(oracle.Pack(event.seq, org_id, parent, children))

    def unpack(self, org_id: int, parent: str) -> None:
        sscc = self.links[parent].sscc
        assert sscc is not None
        event = packing.unpack(self.db, self.signer, self.ctx(org_id), sscc=sscc)
        self.loose[org_id] |= self.children.pop(parent)
        self.ops.append(oracle.Unpack(event.seq, org_id, parent))

    def containers_held(self, org_id: int) -> list[str]:
        """Every SSCC the organisation holds, nested ones included, with the loose code it travels in."""
        out: list[str] = []
        for top in sorted(self.loose[org_id]):
            stack = [top]
            while stack:
                code = stack.pop()
                if code not in self.code_batch:
                    out.append(code)
                    stack += sorted(self.children.get(code, ()))
        return out

    def top_of(self, org_id: int, code: str) -> str:
        return next(top for top in self.loose[org_id] if top == code or code in self._inside(top))

    def _inside(self, code: str) -> set[str]:
        out: set[str] = set()
        stack = list(self.children.get(code, ()))
        while stack:
            child = stack.pop()
            out.add(child)
            stack += self.children.get(child, ())
        return out

    def org(self, org_id: int) -> Organisation:
        return next(o for o in self.orgs if o.id == org_id)

    def ctx(self, org_id: int) -> trade.ScanContext:
        return trade.ScanContext(self.org(org_id))

    def last_seq(self) -> int:
        self.db.flush()
        seq = self.db.scalar(select(Event.seq).order_by(Event.seq.desc()).limit(1))
        assert seq is not None
        return seq


@dataclass(frozen=True)
class Cast:
    """Organisations and products committed once per test; every example starts from them and rolls back."""

    org_ids: tuple[int, ...]
    gtins: tuple[str, ...]


def start_world(db: Session, cast: Cast, data: st.DataObject) -> World:
    count = data.draw(st.integers(3, len(cast.org_ids)))
    orgs = list(db.scalars(select(Organisation).where(Organisation.id.in_(cast.org_ids[:count]))))
    return World(db, SIGNER, sorted(orgs, key=lambda o: o.id), list(cast.gtins))


def draw_goods(data: st.DataObject, world: World, org_id: int) -> tuple[tuple[str, ...], tuple[oracle.Line, ...]]:
    """Loose item codes and/or one batch quantity the organisation holds (never nothing)."""
    available = world.uncoded(org_id)
    movable = world.movable(org_id, containers=False)
    codes: tuple[str, ...] = ()
    if movable:
        codes = tuple(
            data.draw(st.lists(st.sampled_from(movable), unique=True, min_size=0 if available else 1, max_size=2))
        )
    lines: tuple[oracle.Line, ...] = ()
    if available and (not codes or data.draw(st.booleans())):
        batch_id = data.draw(st.sampled_from(sorted(available)))
        lines = ((batch_id, data.draw(st.integers(1, available[batch_id]))),)
    return codes, lines


def step(world: World, data: st.DataObject) -> bool:
    """One random valid scan; False when nothing is left to do (everything sold, nothing in transit)."""
    ids = [o.id for o in world.orgs]
    births = sum(isinstance(op, oracle.Birth) for op in world.ops)
    has_goods = [o for o in ids if world.uncoded(o) or world.movable(o, containers=False)]
    can_ship = [o for o in ids if world.uncoded(o) or world.movable(o, containers=True)]
    can_pack = [o for o in ids if world.movable(o, containers=True)]
    can_unpack = [o for o in ids if any(world.children.get(c) for c in world.containers_held(o))]
    actions = [
        name
        for name, ok in (
            ("register", births < 4),
            ("ship", can_ship),
            ("ship", can_ship),
            ("receive", world.pending),
            ("receive", world.pending),
            ("sell", has_goods),
            ("destroy", has_goods),
            ("transform", has_goods and sum(isinstance(op, oracle.Transform) for op in world.ops) < 3),
            ("pack", can_pack),
            ("pack", can_pack),
            ("unpack", can_unpack),
        )
        if ok
    ]
    if not actions:
        return False
    action = data.draw(st.sampled_from(actions))
    if action == "register":
        quantity = data.draw(st.integers(1, 10))
        world.register(
            data.draw(st.sampled_from(ids)),
            data.draw(st.sampled_from(world.gtins)),
            quantity,
            data.draw(st.integers(0, min(4, quantity))),
        )
    elif action == "ship":
        src = data.draw(st.sampled_from(can_ship))
        movable = world.movable(src, containers=True)
        available = world.uncoded(src)
        codes = tuple(data.draw(st.lists(st.sampled_from(movable), unique=True, max_size=2))) if movable else ()
        lines: tuple[oracle.Line, ...] = ()
        if available and (not codes or data.draw(st.booleans())):
            batch_id = data.draw(st.sampled_from(sorted(available)))
            lines = ((batch_id, data.draw(st.integers(1, available[batch_id]))),)
        if not codes and not lines:
            codes = (movable[0],)
        world.ship(src, data.draw(st.sampled_from([o for o in ids if o != src])), codes, lines)
    elif action == "receive":
        shipment_id = data.draw(st.sampled_from(sorted(world.pending)))
        _src, _dst, codes, outstanding = world.pending[shipment_id]
        part = None
        if not codes and data.draw(st.booleans()):
            batch_id = data.draw(st.sampled_from(sorted(b for b, q in outstanding.items() if q > 0)))
            part = (batch_id, data.draw(st.integers(1, outstanding[batch_id])))
        world.receive(shipment_id, part)
    elif action in ("sell", "destroy"):
        org_id = data.draw(st.sampled_from(has_goods))
        world.consume(org_id, action, *draw_goods(data, world, org_id))
    elif action == "transform":
        org_id = data.draw(st.sampled_from(has_goods))
        codes, lines = draw_goods(data, world, org_id)
        quantity = data.draw(st.integers(1, 10))
        gtin = data.draw(st.sampled_from(world.gtins))
        world.transform(org_id, codes, lines, gtin, quantity, data.draw(st.integers(0, min(2, quantity))))
    elif action == "pack":
        org_id = data.draw(st.sampled_from(can_pack))
        parent = data.draw(st.sampled_from([None, *world.containers_held(org_id)]))
        candidates = world.movable(org_id, containers=True)
        if parent is not None:
            candidates = [c for c in candidates if c != world.top_of(org_id, parent)]
        if not candidates:
            parent, candidates = None, world.movable(org_id, containers=True)
        children = tuple(data.draw(st.lists(st.sampled_from(candidates), unique=True, min_size=1, max_size=3)))
        world.pack(org_id, children, parent)
    else:
        org_id = data.draw(st.sampled_from(can_unpack))
        world.unpack(
            org_id, data.draw(st.sampled_from([c for c in world.containers_held(org_id) if world.children.get(c)]))
        )
    return True


def assert_matches(trace: Trace, expected: oracle.Expected) -> None:
    assert set(trace.batches) == expected.batches
    holders = {
        (h.org_id, h.batch_id): (h.received, h.on_hand, h.shipped, h.consumed, h.destroyed, h.transformed)
        for h in trace.holders
    }
    assert holders == expected.holders
    assert len(trace.holders) == len(holders)
    assert {(h.org_id, h.batch_id): dict(h.sent_to) for h in trace.holders if h.sent_to} == expected.sent_to
    edges = {(e.from_org_id, e.to_org_id, e.batch_id, e.quantity, e.kind.value, e.event_seq) for e in trace.edges}
    assert edges == expected.edges
    assert len(trace.edges) == len(edges)
    # Every holder is reachable from a start, and the engine's path to it is a real, shortest chain.
    assert set(expected.distance) == set(expected.holders)
    assert {(p.org_id, p.batch_id) for p in trace.paths} == set(expected.distance)
    for path in trace.paths:
        assert path.hops[0] in expected.starts
        assert path.hops[-1] == (path.org_id, path.batch_id)
        assert all(hop in expected.graph for hop in pairwise(path.hops))
        assert len(path.hops) - 1 == expected.distance[(path.org_id, path.batch_id)]


@pytest.fixture
def cast(session_factory: sessionmaker[Session]) -> Cast:
    with session_factory() as db:
        orgs = [org(db, SIGNER, n, f"org {n}", Role.PRODUCER, Role.DISTRIBUTOR) for n in range(5)]
        gtins = tuple(
            create_product(db, orgs[0], name=f"product {n}", category=Category.COLD_CHAIN, company_prefix=PREFIX).gtin
            for n in range(2)
        )
        db.commit()
        return Cast(tuple(o.id for o in orgs), gtins)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_forward_and_back_traces_match_the_oracle_on_random_networks(
    session_factory: sessionmaker[Session], cast: Cast, data: st.DataObject
) -> None:
    with session_factory() as db:
        try:
            world = start_world(db, cast, data)
            world.register(
                world.orgs[0].id, world.gtins[0], data.draw(st.integers(2, 10)), data.draw(st.integers(0, 2))
            )
            for _ in range(data.draw(st.integers(3, 14))):
                if not step(world, data):
                    break
            for feature in sorted(world.features):
                report_feature(feature)
            model = oracle.replay(world.ops)
            for batch_id in sorted(world.lots):
                assert_matches(forward(db, batch_ids=[batch_id]), oracle.forward(model, {batch_id}, set()))
                assert_matches(back(db, batch_ids=[batch_id]), oracle.back(model, {batch_id}, set()))
            # An investigation's sources are only the chain that brought its batches to the place.
            place = data.draw(st.sampled_from([o.id for o in world.orgs]))
            found = investigate(db, org_id=place, since=datetime(2000, 1, 1, tzinfo=UTC), until=FAR_FUTURE)
            present = {p.batch_id for p in found.present}
            assert_matches(found.sources, oracle.back(model, present, set(), reaching=place))
            codes = sorted(world.code_ids)
            if codes:
                chosen = data.draw(st.lists(st.sampled_from(codes), unique=True, min_size=1, max_size=2))
                items = world.items_ever_in(tuple(chosen))
                code_ids = [world.code_ids[c] for c in chosen]
                assert_matches(forward(db, code_ids=code_ids), oracle.forward(model, set(), items))
                assert_matches(back(db, code_ids=code_ids), oracle.back(model, set(), items))
                batches = set(data.draw(st.lists(st.sampled_from(sorted(world.lots)), max_size=2)))
                assert_matches(forward(db, batch_ids=batches, code_ids=code_ids), oracle.forward(model, batches, items))
                assert_matches(back(db, batch_ids=batches, code_ids=code_ids), oracle.back(model, batches, items))
        finally:
            db.rollback()


@pytest.fixture
def world(db: Session, cast: Cast) -> World:
    orgs = list(db.scalars(select(Organisation).where(Organisation.id.in_(cast.org_ids)).order_by(Organisation.id)))
    return World(db, SIGNER, orgs, list(cast.gtins))


def test_goods_returned_upstream_are_walked_once_and_counted_once(db: Session, world: World) -> None:
    a, b = (o.id for o in world.orgs[:2])
    world.register(a, world.gtins[0], 10, 0)
    batch = next(iter(world.lots))
    for src, dst, quantity in ((a, b, 5), (b, a, 3), (a, b, 2)):
        world.ship(src, dst, (), ((batch, quantity),))
        world.receive(max(world.pending), None)
    trace = forward(db, batch_ids=[batch])
    assert [(h.org_id, h.received, h.shipped, h.on_hand, h.sent_to) for h in trace.holders] == [
        (a, 13, 7, 6, ((b, 7),)),
        (b, 7, 3, 4, ((a, 3),)),
    ]
    assert [p.org_ids for p in trace.paths] == [(a,), (a, b)]
    assert [h.org_id for h in back(db, batch_ids=[batch]).holders] == [a, b]


def test_an_item_in_a_case_put_on_a_pallet_before_the_item_went_in_travels_with_the_pallet(
    db: Session, world: World
) -> None:
    a, b = (o.id for o in world.orgs[:2])
    world.register(a, world.gtins[0], 3, 2)
    world.register(a, world.gtins[1], 3, 1)
    x1, x2, y1 = sorted(world.code_batch, key=lambda c: (world.code_batch[c], c))
    world.pack(a, (y1,), None)
    case = next(c for c in world.links if c.startswith("sscc:"))
    world.pack(a, (case,), None)
    pallet = next(c for c in world.loose[a] if c.startswith("sscc:"))
    world.pack(a, (x1,), case)  # the case is on the pallet already; this event is on x1's batch only
    world.ship(a, b, (pallet,), ())
    world.receive(max(world.pending), None)
    carried = forward(db, code_ids=[world.code_ids[x1]])
    assert [h.org_id for h in carried.holders] == [a, b]
    assert {e.kind.value for e in carried.edges} == {"commission", "ship", "receive"}
    left_behind = forward(db, code_ids=[world.code_ids[x2]])
    assert [h.org_id for h in left_behind.holders] == [a]
    assert [h.org_id for h in forward(db, code_ids=[world.code_ids[pallet]]).holders] == [a, b, a, b]


def test_a_case_traced_after_it_was_unpacked_follows_what_it_held_then(db: Session, world: World) -> None:
    a, b, c = (o.id for o in world.orgs[:3])
    world.register(a, world.gtins[0], 3, 3)
    x1, x2, _never_packed = sorted(world.code_batch)
    world.pack(a, (x1, x2), None)
    case = next(code for code in world.links if code.startswith("sscc:"))
    world.ship(a, b, (case,), ())
    world.receive(max(world.pending), None)
    world.unpack(b, case)
    world.ship(b, c, (x2,), ())  # after the unpacking: the item still came out of the case
    world.receive(max(world.pending), None)
    world.pack(b, (x1,), case)  # the case reused for one of its own items

    case_code = db.get(Code, world.code_ids[case])
    assert case_code is not None
    # A recall by the case names both items it carried (x3 never went in), though it now holds x1 alone.
    carried = {code.id for code in repository.item_codes_under(db, [case_code])}
    assert carried == {world.code_ids[x1], world.code_ids[x2]}
    trace = forward(db, code_ids=[world.code_ids[case]])
    assert [h.org_id for h in trace.holders] == [a, b, c]


def test_a_trace_from_an_unknown_batch_or_code_is_refused(db: Session) -> None:
    with pytest.raises(UnknownBatch):
        forward(db, batch_ids=[987_654])
    with pytest.raises(UnknownCode):
        back(db, code_ids=[987_654])
