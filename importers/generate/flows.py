"""The three flows of a synthetic network, interleaved in time (docs/flows.md).

Work is a pool of pending tasks, each of which records exactly one event: register a batch, ship, receive,
sell, administer, destroy, inspect, transform, issue codes, pack, unpack. A step takes a random task from the
pool, so thousands of batches move at once and one batch's events are spread over the whole period, and every
task (``tasks.Tasks``) books its event the way the ledger services would (``state.Ledger``). Rules hold by
construction:

* quantities are conserved: a receive hands its quantity to the receiver's decision (``dispatch``), which splits
  exactly that quantity into shipments, sales, a transformation or stock, so nobody ships what they lack;
* only holders ship: tasks move goods from the organisation that received them;
* a batch held by a failed inspection (抽检) is not shipped or sold any more: its holders destroy it;
* event times strictly increase, so every batch's hash chain is in time order.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Final

from importers.generate import events as ev
from importers.generate.state import BatchState, Case, Chunk, Ledger, Stamp
from importers.generate.tasks import Tasks
from importers.generate.topology import RETAIL, Kind, Org, Topology
from ledger.models import MovementKind
from ledger.registry import BatchAttributes

START: Final = datetime(2026, 3, 1, tzinfo=UTC) - timedelta(hours=8)  # midnight in China
SPAN: Final = timedelta(days=180)
POOL_TARGET: Final = 300  # pending tasks below which a new batch is registered (fewer in small networks)
CASE_SIZE: Final = 20  # doses per case (SSCC)
_B36: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_FLOWS: Final = ("cold", "farm", "vaccine")
_FLOW_WEIGHTS: Final = (45, 30, 25)


def _base36(n: int) -> str:
    out = ""
    while True:
        n, rest = divmod(n, 36)
        out = _B36[rest] + out
        if not n:
            return out


def national_batches(events: int) -> int:
    """Batches of the national importers, each reaching every first-tier market: four per million events."""
    return max(1, round(4 * events / 1_000_000))


class Simulation(Tasks):
    def __init__(self, topology: Topology, *, seed: int, events: int, stamp: Stamp) -> None:
        rng = random.Random(f"flows/{seed}")  # noqa: S311 - seeded on purpose: a network is reproducible
        start_ms = int(START.timestamp() * 1000)
        span_ms = int(SPAN.total_seconds() * 1000)
        super().__init__(topology, rng, Ledger(rng, stamp, start_ms=start_ms, step_ms=span_ms // events, first_seq=1))
        self.target = events
        # The pool's size is how many things are under way when the run stops (shipments in transit, …): keep
        # that a small share of a small network.
        self.pool_target = min(POOL_TARGET, max(20, events // 100))
        count = national_batches(events)
        self.national_at = [int(events * (0.02 + 0.6 * i / count)) for i in range(count)]

    def chunks(self, size: int) -> Iterator[Chunk]:
        ledger = self.ledger
        while ledger.emitted < self.target:
            self.step()
            if len(ledger.chunk.specs) >= size:
                yield ledger.take_chunk()
        if ledger.chunk.specs:
            yield ledger.take_chunk()

    def step(self) -> None:
        """Record exactly one event."""
        if self.national_at and self.ledger.emitted >= self.national_at[0]:
            self.national_at.pop(0)
            self.spawn_cold(national=True)
        elif len(self.pool) < self.pool_target:
            flow = self.rng.choices(_FLOWS, _FLOW_WEIGHTS)[0]
            {"cold": self.spawn_cold, "farm": self.spawn_farm, "vaccine": self.spawn_vaccine}[flow]()
        else:
            pool = self.pool
            i = self.rng.randrange(len(pool))
            fn, args = pool[i]
            pool[i] = pool[-1]
            pool.pop()
            fn(*args)

    # --- registration -----------------------------------------------------------------------------------------

    def today(self) -> date:
        return (datetime.fromtimestamp(self.ledger.t_ms / 1000, UTC) + timedelta(hours=8)).date()

    def lot(self, prefix: str) -> str:
        return f"{prefix}{self.today():%y%m%d}{_base36(self.ledger.next_batch)}"

    def register(self, org: Org, batch: BatchState, attrs: BatchAttributes) -> None:
        """``registry.register_batch``: the commissioning event, the registrant's holding and the chain job."""
        ledger = self.ledger
        seq = ledger.emit(
            ev.COMMISSION,
            org,
            (*batch.line, _iso(attrs.expiry_date), _iso(attrs.production_date)),
            batch,
        )
        ledger.move(seq, MovementKind.COMMISSION, batch, batch.quantity, receiver=org)
        batch.attrs = attrs
        batch.expiry_date = attrs.expiry_date
        ledger.chunk.batches.append(batch)

    def spawn_cold(self, national: bool = False) -> None:
        r, t = self.rng, self.t
        importer = t.orgs[r.choice(t.of(Kind.NATIONAL_IMPORTER if national else Kind.IMPORTER))]
        product = t.products[r.choice(importer.products)]
        origin = r.choice(product.origins)
        quantity = r.randint(90_000, 140_000) if national else r.randint(200, 5_000)
        production = self.today() - timedelta(days=r.randint(20, 120))
        number = self.ledger.next_batch
        batch = self.ledger.new_batch(product, self.lot(origin), quantity, importer, national=national)
        self.register(
            importer,
            batch,
            BatchAttributes(
                production_date=production,
                expiry_date=production + timedelta(days=730),
                customs_declaration_no=f"{importer.division[:4]}{self.today():%Y}{1_000_000_000 + number}",
                origin_country=origin,
                quarantine_cert_no=f"{origin}-Q-{self.today():%Y}-{number:06d}",
                nucleic_acid_test_no=f"NAT-{self.today():%Y%m%d}-{number}",
                nucleic_acid_result="阴性",
                disinfection_cert_no=f"XD-{importer.division}-{number:06d}",
            ),
        )
        self.dispatch(importer, batch, quantity)

    def spawn_farm(self) -> None:
        r, t = self.rng, self.t
        farm = t.orgs[r.choice(t.of(Kind.FARM))]
        product = t.products[r.choice(farm.products)]
        quantity = r.randint(200, 3_000)
        batch = self.ledger.new_batch(product, self.lot("F"), quantity, farm)
        self.register(
            farm,
            batch,
            BatchAttributes(
                farm_origin=farm.name,
                harvest_date=self.today() - timedelta(days=r.randint(0, 2)),
                rapid_test_result="合格",
                rapid_test_no=f"KJ{self.today():%y%m%d}{batch.id:06d}",
            ),
        )
        self.dispatch(farm, batch, quantity)

    def spawn_vaccine(self) -> None:
        r, t = self.rng, self.t
        maker = t.orgs[r.choice(t.of(Kind.MANUFACTURER))]
        product = t.products[r.choice(maker.products)]
        coded = r.random() < 0.08
        cases = r.randint(10, 60) if coded else 0
        quantity = cases * CASE_SIZE if coded else r.randint(2_000, 20_000)
        production = self.today() - timedelta(days=r.randint(30, 90))
        batch = self.ledger.new_batch(product, self.lot("V"), quantity, maker)
        self.register(
            maker,
            batch,
            BatchAttributes(
                production_date=production,
                expiry_date=production + timedelta(days=730),
                vaccine_approval_no=f"国药准字S{20150000 + product.index:08d}",
                lot_release_cert_no=f"SJ{self.today():%Y}{batch.id:06d}",
                manufacturer=maker.name,
            ),
        )
        if coded:
            batch.cases_to_pack = cases
            self.push(self.issue_codes, maker, batch)
        else:
            self.dispatch(maker, batch, quantity)

    # --- decisions (no event of their own) -------------------------------------------------------------------

    def dispatch(
        self, org: Org, batch: BatchState, quantity: int, *, returnable: bool = True, sender: Org | None = None,
        cases: list[Case] | None = None,
    ) -> None:  # fmt: skip
        """What ``org`` does with ``quantity`` of ``batch`` it just got: exactly that quantity is planned."""
        r, kind, cases = self.rng, org.kind, cases or []
        if batch.held:
            self.push(self.destroy, org, batch, quantity)
        elif kind in (Kind.NATIONAL_IMPORTER, Kind.IMPORTER):
            self.ship_out(org, batch, quantity, org.customers if batch.national else self.some(org.customers, 2, 4))
        elif kind is Kind.WHOLESALE_1:
            if sender is not None and sender.kind is Kind.WHOLESALE_2:
                self.take_back(org, batch, quantity, sender)
                return
            if r.random() < 0.05:
                self.push(self.inspect, batch, quantity, True)
            if batch.product.carcass and quantity >= 10 and r.random() < 0.3:
                cut = quantity * r.randint(20, 50) // 100
                self.push(self.transform, org, batch, cut)
                quantity -= cut
            quantity -= quantity * r.randint(0, 8) // 100
            self.ship_out(org, batch, quantity, org.customers if batch.national else self.some(org.customers, 2, 5))
        elif kind is Kind.WHOLESALE_2:
            if returnable and sender is not None and quantity >= 5 and r.random() < 0.05:
                back = max(1, quantity * r.randint(5, 20) // 100)
                self.push(self.ship, org, sender, batch, back, False, [])
                quantity -= back
            quantity -= quantity * r.randint(0, 10) // 100
            customers = org.customers
            wide = r.sample(customers, (len(customers) * 3 + 4) // 5) if batch.national else None
            self.ship_out(org, batch, quantity, wide or self.some(customers, 2, 6), returnable=returnable)
        elif kind in RETAIL or kind is Kind.FARM_STALL:
            if kind is Kind.FARM_STALL and r.random() < 0.1:
                self.push(self.inspect, batch, quantity, r.random() >= 0.1)
            self.use_up(org, batch, quantity, MovementKind.SELL)
        elif kind is Kind.FARM:
            self.ship_out(org, batch, quantity, self.some(org.customers, 2, 6))
        elif kind in (Kind.MANUFACTURER, Kind.PROVINCIAL_CDC, Kind.COUNTY_CDC):
            low, high = {Kind.MANUFACTURER: (9, 9), Kind.PROVINCIAL_CDC: (3, 8), Kind.COUNTY_CDC: (2, 6)}[kind]
            customers = self.some(org.customers, low, high)
            if cases:
                self.ship_cases(org, batch, cases, customers)
            else:
                self.ship_out(org, batch, quantity, customers)
        elif kind is Kind.SITE:
            for case in cases:
                self.push(self.unpack, org, batch, case)
            if not cases:
                self.use_up(org, batch, quantity, MovementKind.ADMINISTER)

    def some(self, customers: list[int], low: int, high: int) -> list[int]:
        return self.rng.sample(customers, min(len(customers), self.rng.randint(low, high)))

    def split(self, quantity: int, parts: int) -> list[int]:
        """``quantity`` in ``parts`` random shares of at least one each (``parts`` ≤ ``quantity``)."""
        weights = [self.rng.randint(1, 4) for _ in range(parts)]
        total = sum(weights)
        shares = [1 + (quantity - parts) * w // total for w in weights]
        shares[0] += quantity - sum(shares)
        return shares

    def ship_out(
        self, org: Org, batch: BatchState, quantity: int, customers: list[int], returnable: bool = True
    ) -> None:
        parts = min(len(customers), quantity)
        if parts <= 0:
            return
        for customer, share in zip(customers, self.split(quantity, parts), strict=False):
            self.push(self.ship, org, self.t.orgs[customer], batch, share, returnable, [])

    def ship_cases(self, org: Org, batch: BatchState, cases: list[Case], customers: list[int]) -> None:
        parts = min(len(customers), len(cases))
        start = 0
        for customer, share in zip(customers, self.split(len(cases), parts), strict=False):
            group = cases[start : start + share]
            start += share
            self.push(self.ship, org, self.t.orgs[customer], batch, share * CASE_SIZE, True, group)

    def use_up(self, org: Org, batch: BatchState, quantity: int, kind: MovementKind) -> None:
        """Sell or administer most of it over a few events; a little may be destroyed (damaged), the rest is stock."""
        r = self.rng
        if quantity >= 10 and r.random() < 0.03:
            broken = r.randint(1, quantity // 10)
            self.push(self.destroy, org, batch, broken)
            quantity -= broken
        used = quantity * r.randint(85, 100) // 100
        if used > 0:
            for share in self.split(used, min(used, r.randint(1, 4))):
                self.push(self.consume, org, batch, share, kind)

    def take_back(self, org: Org, batch: BatchState, quantity: int, sender: Org) -> None:
        """A first-tier market got goods returned: it destroys them or sends them to another customer."""
        others = [c for c in org.customers if c != sender.index]
        if others and self.rng.random() < 0.5:
            self.push(self.ship, org, self.t.orgs[self.rng.choice(others)], batch, quantity, False, [])
        else:
            self.push(self.destroy, org, batch, quantity)


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None
