"""``generate_network``: a synthetic network straight into a ledger database, valid down to every hash.

The main process simulates and writes; a process pool builds, hashes (CBV 2.0) and signs (EIP-712) the events.
Chunks of events go to the pool in order and come back in order, and the main process then folds each batch's
hash chain (``ledger.merkle.chain_head``, the same fold as ``ledger.recorder``) and writes the chunk in one
transaction, so the database holds whole chunks only. At the end the state that only the last event fixes is
written: codes, holdings, batch heads, organisations' nonces, which shipments are still in transit.

The target database is migrated to head and must hold no trade data (no events, products, batches, codes,
movements or shipments): a network is generated, not appended. Organisations already there (the bootstrap
regulator) are kept, and the new ones get ids after them.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from sqlalchemy import Connection, select

from importers.generate import writer as w
from importers.generate.events import Signed, moment, sign_specs, start_worker
from importers.generate.flows import Simulation
from importers.generate.state import BatchState, Chunk
from importers.generate.topology import Topology, build_topology
from ledger.db import make_engine
from ledger.errors import Conflict, InvalidInput
from ledger.keys import KeyVault
from ledger.merkle import batch_key, keccak256
from ledger.migrate import upgrade_to_head
from ledger.models import Batch, ChainJob, ChainJobStatus, Hold, HoldKind, Location, Organisation, Product
from ledger.registry import BatchAttributes, registration_hash
from ledger.settings import get_settings

CHUNK_EVENTS: Final = 2_000
ZERO_HEAD: Final = "0x" + "00" * 32


@dataclass(frozen=True)
class WideBatch:
    batch_id: int
    gtin: str
    lot: str
    holders: int  # organisations that held some of it: the registrant and every receiver


@dataclass(frozen=True)
class GeneratedNetwork:
    seed: int
    events: int
    organisations: int
    products: int
    batches: int
    shipments: int
    in_transit: int
    movements: int
    transformations: int
    returns: int
    cases: int
    codes: int
    holdings: int
    failed_inspections: int
    widest: list[WideBatch]
    elapsed_seconds: float
    counts: dict[str, int] = field(default_factory=dict)


def generate_network(
    database_url: str,
    *,
    events: int,
    seed: int,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    secret_key: str | None = None,
) -> GeneratedNetwork:
    """Generate ``events`` events of a realistic network into ``database_url`` (which must hold no trade data).

    Organisation keys are sealed with ``secret_key`` (default: the configured ``LOTLINE_SECRET_KEY``) so the
    services and the worker can sign and register with them; events are signed for the configured chain id.
    """
    if events < 1:
        raise InvalidInput("a network needs at least one event", events=events)
    started = time.perf_counter()
    settings = get_settings()
    upgrade_to_head(database_url)
    engine = make_engine(database_url)
    out = w.Writer(engine)
    try:
        with engine.connect() as conn:
            out.prepare(conn)
            conn.commit()
            with conn.begin():
                filled = [table for table in w.TRADE_TABLES if out.has_rows(conn, table)]
                if filled:
                    raise Conflict(
                        f"the database already holds trade data ({', '.join(filled)}): generate into an empty one",
                        tables=filled,
                    )
                first_org, first_location = out.next_id(conn, "organisations"), out.next_id(conn, "locations")
                first_job = out.next_id(conn, "chain_jobs")
                taken = set(conn.scalars(select(Organisation.uscc)))
            topology = build_topology(seed, events, first_org_id=first_org, first_location_id=first_location)
            if clash := taken & {org.uscc for org in topology.orgs}:
                raise Conflict("organisations with these credit codes already exist", uscc=sorted(clash))
            sim = Simulation(topology, seed=seed, events=events, stamp=out.stamp)
            run = _Run(out, conn, sim, first_job, ttl=settings.signature_ttl_seconds)
            with conn.begin():
                run.write_parties(KeyVault(secret_key or settings.secret_key))
            run.pump(settings.chain_id, workers or os.cpu_count() or 2, progress)
            with conn.begin():
                run.write_final_state()
            with conn.begin():
                out.finish(conn)
    finally:
        engine.dispose()
    return run.summary(seed, time.perf_counter() - started)


class _Run:
    def __init__(self, out: w.Writer, conn: Connection, sim: Simulation, first_job: int, *, ttl: int) -> None:
        self.out, self.conn, self.sim, self.ttl = out, conn, sim, ttl
        self.t: Topology = sim.t
        self.next_job = first_job
        self.written = 0
        self.heads: dict[int, tuple[bytes, int]] = {}  # batch id → (head, events in its chain)

    def job(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        row = {"id": self.next_job, "kind": kind, "payload": payload, "status": ChainJobStatus.PENDING, "attempts": 0,
               "created_at": moment(self.sim.ledger.t_ms)}  # fmt: skip
        self.next_job += 1
        return row

    def write_parties(self, vault: KeyVault) -> None:
        when = moment(self.sim.ledger.t_ms)
        orgs, locations, jobs = [], [], []
        for org in self.t.orgs:
            orgs.append({"id": org.id, "name": org.name, "uscc": org.uscc, "roles": org.roles,
                         "chain_address": org.address, "signature_nonce": 0, "created_at": when,
                         "encrypted_key": vault.encrypt(org.private_key, org_ref=org.uscc)})  # fmt: skip
            locations.append({"id": org.location_id, "org_id": org.id, "name": org.location_name,
                              "kind": org.location_kind, "region_code": org.division, "created_at": when})  # fmt: skip
            jobs.append(self.job("grant_roles", {"org_id": org.id, "address": org.address, "roles": org.roles}))
        products = [
            {"id": p.id, "gtin": p.gtin, "owner_org_id": self.t.orgs[p.owner].id, "name": p.name,
             "name_en": p.name_en, "category": p.category, "unit": p.unit, "storage_min_c": p.storage[0],
             "storage_max_c": p.storage[1], "created_at": when}
            for p in self.t.products
        ]  # fmt: skip
        for table, rows in ((Organisation, orgs), (Location, locations), (Product, products), (ChainJob, jobs)):
            self.out.core(self.conn, table.__table__, rows)  # type: ignore[arg-type]

    def pump(self, chain_id: int, workers: int, progress: Callable[[int], None] | None) -> None:
        """Chunks to the pool in order, results written in order, at most a few chunks ahead of the writes."""
        table = [(org.uscc, org.location_id) for org in self.t.orgs]
        keys = [org.private_key for org in self.t.orgs]
        # forkserver rather than fork: the main process holds a database connection (and maybe threads) that a
        # forked child would inherit.
        context = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=start_worker, initargs=(table, keys, chain_id, self.ttl)
        ) as pool:
            in_flight: deque[tuple[Chunk, Future[list[Signed]]]] = deque()
            for chunk in self.sim.chunks(CHUNK_EVENTS):
                in_flight.append((chunk, pool.submit(sign_specs, chunk.specs)))
                while len(in_flight) > 2 * workers:
                    self.write_chunk(*_result(in_flight.popleft()))
                    if progress:
                        progress(self.written)
            while in_flight:
                self.write_chunk(*_result(in_flight.popleft()))
                if progress:
                    progress(self.written)

    def write_chunk(self, chunk: Chunk, signed: list[Signed]) -> None:
        out, stamp, ledger = self.out, self.out.stamp, self.sim.ledger
        events, links, outbox, epcs = [], [], [], []
        for i, result in enumerate(signed):
            seq = chunk.first_seq + i
            _kind, _org, nonce, t_ms, _args = chunk.specs[i]
            org = chunk.orgs[i]
            when = stamp(t_ms)
            events.append((seq, result.event_id, result.event_type, result.action, result.biz_step,
                           result.disposition, when, org.id, org.location_id, result.document, org.address, nonce,
                           t_ms // 1000 + self.ttl, result.signature, when))  # fmt: skip
            outbox.append((seq, seq, when))
            epcs += [(epc, seq, role) for epc, role in result.epcs]
            for batch_id in chunk.touched[i]:
                head, count = self.heads.get(batch_id, (bytes(32), 0))
                head, count = keccak256(head + result.digest), count + 1
                self.heads[batch_id] = (head, count)
                links.append((batch_id, count, seq, "0x" + head.hex()))
                if count == 1:
                    ledger.batches[batch_id - 1].created_ms = t_ms
            if issue := chunk.code_issues.get(seq):
                first, _count = issue
                for j, signature in enumerate(result.code_signatures):
                    ledger.codes[first + j][9] = signature
            if output := chunk.transformed.get(seq):
                output.registration_hash = "0x" + result.digest.hex()
        with self.conn.begin():
            batches, jobs = self.batch_rows(chunk.batches)
            out.core(self.conn, Batch.__table__, batches)  # type: ignore[arg-type]
            out.rows(self.conn, w.EVENTS, events)
            out.rows(self.conn, w.EVENT_BATCHES, links)
            out.rows(self.conn, w.EVENT_EPCS, epcs)
            out.rows(self.conn, w.OUTBOX, outbox)
            out.rows(self.conn, w.SHIPMENTS, chunk.shipments)
            out.rows(self.conn, w.SHIPMENT_LINES, chunk.shipment_lines)
            out.rows(self.conn, w.MOVEMENTS, chunk.movements)
            out.rows(self.conn, w.TRANSFORMATIONS, chunk.transformations)
            holds = [
                {**hold, "kind": HoldKind.INSPECTION, "placed_at": moment(hold["placed_at"])} for hold in chunk.holds
            ]
            out.core(self.conn, Hold.__table__, holds)  # type: ignore[arg-type]
            out.core(self.conn, ChainJob.__table__, jobs)  # type: ignore[arg-type]
        self.written += len(signed)

    def batch_rows(self, batches: list[BatchState]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rows, jobs = [], []
        for b in batches:
            key = "0x" + batch_key(b.product.gtin, b.lot).hex()
            declared = asdict(b.attrs or BatchAttributes())
            del declared["extra"]
            if b.attrs is not None:
                registrant = Organisation(uscc=b.registrant.uscc)
                product = Product(gtin=b.product.gtin, unit=b.product.unit)
                b.registration_hash = registration_hash(product, b.lot, registrant, b.quantity, b.attrs)
                payload = {"batch_id": b.id, "batch_key": key, "registration_hash": b.registration_hash,
                           "category": b.category.value, "org_id": b.registrant.id}  # fmt: skip
                jobs.append(self.job("register_batch", payload))
            rows.append({**declared, "id": b.id, "product_id": b.product.id, "lot": b.lot,
                         "registrant_org_id": b.registrant.id, "quantity": b.quantity, "expiry_date": b.expiry_date,
                         "batch_key": key, "registration_hash": b.registration_hash, "chain_head": ZERO_HEAD,
                         "event_count": 0, "created_at": moment(b.created_ms)})  # fmt: skip
        return rows, jobs

    def write_final_state(self) -> None:
        out, conn, ledger, stamp = self.out, self.conn, self.sim.ledger, self.out.stamp
        first_code = out.next_id(conn, "codes")
        code_rows: list[w.Row] = [
            (first_code + i, kind, batch_id, serial, sscc, None if parent is None else first_code + parent, status,
             holder, shipment, issuer, signature, stamp(created), None if consumed is None else stamp(consumed))
            for i, (kind, batch_id, serial, sscc, parent, status, holder, shipment, issuer, signature, created,
                    consumed) in enumerate(ledger.codes)
        ]  # fmt: skip
        # Cases before items: an item's parent must exist when the item row goes in.
        out.rows(conn, w.CODES, [row for row in code_rows if row[1] == "sscc"])
        out.rows(conn, w.CODES, [row for row in code_rows if row[1] != "sscc"])
        out.rows(conn, w.HOLDINGS, [(org, batch, *values[:6], stamp(values[6]))
                                    for (org, batch), values in ledger.holdings.items()])  # fmt: skip
        heads = [(batch_id, "0x" + head.hex(), count) for batch_id, (head, count) in self.heads.items()]
        out.update(conn, "batches", "id", ("chain_head", "event_count"), heads)
        out.update(conn, "organisations", "id", ("signature_nonce",), [(o.id, o.nonce) for o in self.t.orgs])
        conn.exec_driver_sql("UPDATE shipments SET status = 'received'")
        conn.exec_driver_sql("UPDATE shipment_lines SET received_quantity = quantity")
        still = [(sid, "in_transit") for sid in ledger.open_shipments]
        out.update(conn, "shipments", "id", ("status",), still)
        out.update(
            conn, "shipment_lines", "shipment_id", ("received_quantity",), [(sid, 0) for sid in ledger.open_shipments]
        )

    def summary(self, seed: int, elapsed: float) -> GeneratedNetwork:
        ledger, stats = self.sim.ledger, self.sim.stats
        holders = Counter(batch for _org, batch in ledger.holdings)
        widest = [
            WideBatch(batch_id, ledger.batches[batch_id - 1].product.gtin, ledger.batches[batch_id - 1].lot, count)
            for batch_id, count in holders.most_common(5)
        ]
        return GeneratedNetwork(
            seed=seed,
            events=self.written,
            organisations=len(self.t.orgs),
            products=len(self.t.products),
            batches=len(ledger.batches),
            shipments=ledger.next_shipment - 1,
            in_transit=len(ledger.open_shipments),
            movements=ledger.next_movement - 1,
            transformations=stats["transformations"],
            returns=stats["returns"],
            cases=stats["cases"],
            codes=len(ledger.codes),
            holdings=len(ledger.holdings),
            failed_inspections=stats["failed_inspections"],
            widest=widest,
            elapsed_seconds=elapsed,
            counts=dict(stats),
        )


def _result(item: tuple[Chunk, Future[list[Signed]]]) -> tuple[Chunk, list[Signed]]:
    chunk, future = item
    return chunk, future.result()
