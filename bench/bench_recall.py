"""Forward recall trace of a wide batch on a generated ledger: p50/p95/max per trace.

    .venv/bin/python bench/bench_recall.py --database-url sqlite:////tmp/recall-1m.sqlite --events 1000000
    .venv/bin/python bench/bench_recall.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/lotline_recall_1m --events 1000000

If the database holds no events yet, a network of ``--events`` events is generated into it first
(``importers.generate.generate_network``, seed ``--seed``; a PostgreSQL database is created when missing), so a
second run re-measures the same ledger without regenerating it. Then the batches whose forward trace reaches at
least ``--min-holders`` organisations (the widest ones the ledger has, at most ``--batches``) are traced
``--repeats`` times each, each trace in a fresh session as a recall request would run it, after one warm-up.
Then a recall of the widest batch is opened and rolled back ``--open-repeats`` times, and a one-click
investigation runs at its last retail receiver ``--investigate-repeats`` times. Prints the figures and
the command; asserts nothing. Target (docs/performance.md): ≤100 ms p95 at 1M events (SQLite and
PostgreSQL), ≤1 s at 10M (PostgreSQL).
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import String, and_, cast, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledger.db import make_engine, make_session_factory
from ledger.migrate import upgrade_to_head
from ledger.models import (
    Batch,
    Event,
    Holding,
    Movement,
    MovementKind,
    Organisation,
    Product,
    RecallHolder,
    Role,
)
from recall import service
from recall.investigate import describe_investigation, investigate
from recall.walk import forward


def ensure_database(url: str) -> None:
    """Create a missing PostgreSQL database (SQLite creates its file on first connect)."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("postgresql"):
        return
    admin = make_engine(
        parsed.set(database="postgres").render_as_string(hide_password=False), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": parsed.database}) is None:
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def generate_if_empty(url: str, events: int, seed: int) -> None:
    engine = make_engine(url)
    upgrade_to_head(url)
    with engine.connect() as conn:
        count = conn.scalar(select(func.count()).select_from(Event)) or 0
    engine.dispose()
    if count:
        print(f"ledger already holds {count:,} events: measuring it as it is")
        return
    from importers.generate import generate_network  # only when generating: it starts a process pool

    started = time.perf_counter()
    network = generate_network(url, events=events, seed=seed)
    print(f"generated {network.events:,} events (seed {seed}) in {time.perf_counter() - started:,.0f} s")


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--min-holders", type=int, default=1_000)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--open-repeats", type=int, default=5, help="openings of a recall to time (0: none)")
    parser.add_argument("--investigate-repeats", type=int, default=5, help="investigations to time (0: none)")
    args = parser.parse_args()
    print("command:", shlex.join([".venv/bin/python", *sys.argv]))

    ensure_database(args.database_url)
    generate_if_empty(args.database_url, args.events, args.seed)
    engine = make_engine(args.database_url)
    sessions = make_session_factory(engine)
    with sessions() as session:
        events = session.scalar(select(func.count()).select_from(Event)) or 0
        # Widest by direct holders first; the forward trace then counts transformation outputs' holders too.
        candidates = session.execute(
            select(Holding.batch_id, func.count())
            .group_by(Holding.batch_id)
            .order_by(func.count().desc())
            .limit(args.batches * 4)
        ).all()
        chosen: list[tuple[int, int, int]] = []
        for batch_id, _direct in candidates:
            trace = forward(session, batch_ids=[batch_id])
            if len(trace.org_ids) >= args.min_holders:
                chosen.append((batch_id, len(trace.org_ids), len(trace.edges)))
            if len(chosen) == args.batches:
                break
    print(f"{engine.dialect.name}, {events:,} events")
    if not chosen:
        widest = candidates[0][1] if candidates else 0
        print(f"no batch reaches {args.min_holders:,} holders (widest has {widest:,} direct holders)")
        return
    samples: list[float] = []
    cpu: list[float] = []
    for batch_id, holders, edges in chosen:
        mine: list[float] = []
        for attempt in range(args.repeats + 1):
            with sessions() as session:
                started, cpu_started = time.perf_counter(), time.process_time()
                forward(session, batch_ids=[batch_id])
                elapsed = (time.perf_counter() - started) * 1000
            if attempt:  # the first run warms the caches
                mine.append(elapsed)
                cpu.append((time.process_time() - cpu_started) * 1000)
        samples += mine
        print(
            f"  batch {batch_id}: {holders:,} holders, {edges:,} edges: "
            f"p50 {statistics.median(mine):.1f} ms, p95 {percentile(mine, 95):.1f} ms, max {max(mine):.1f} ms"
        )
    print(
        f"forward trace, {len(chosen)} batches × {args.repeats}: p50 {statistics.median(samples):.1f} ms, "
        f"p95 {percentile(samples, 95):.1f} ms, max {max(samples):.1f} ms"
    )
    # On a shared machine wall time includes waiting for a core; this process's CPU time does not (PostgreSQL's
    # own work is in its server process and not counted here).
    print(f"this process's CPU per trace: p50 {statistics.median(cpu):.1f} ms, p95 {percentile(cpu, 95):.1f} ms")
    print(f"load average while measuring: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.open_repeats:
        measure_opening(sessions, chosen[0][0], args.open_repeats)
    if args.investigate_repeats:
        measure_investigation(sessions, chosen[0][0], args.investigate_repeats)
    engine.dispose()


def measure_investigation(sessions: sessionmaker[Session], batch_id: int, repeats: int) -> None:
    """One-click investigation where it happens, at a shop or stall: the last organisation to receive the widest
    batch among those that passed none of it on, over the ledger's last 30 days; the batches present there, their
    sources and every other holder, described as the API answers by default (1,000 positions listed per trace)."""
    with sessions() as session:
        org_id = session.scalar(
            select(Movement.to_org_id)
            .join(Holding, and_(Holding.org_id == Movement.to_org_id, Holding.batch_id == Movement.batch_id))
            .where(Movement.batch_id == batch_id, Movement.kind == MovementKind.RECEIVE, Holding.shipped == 0)
            .order_by(Movement.event_seq.desc())
            .limit(1)
        )
        last = session.scalar(select(func.max(Event.event_time)))
    if org_id is None or last is None:
        print("the widest batch has no retail holder: investigation not measured")
        return
    samples: list[float] = []
    for attempt in range(repeats + 1):
        with sessions() as session:
            started = time.perf_counter()
            found = investigate(session, org_id=org_id, since=last - timedelta(days=30), until=last)
            describe_investigation(session, found, edges=False, max_holders=1000)  # the API's default answer
            elapsed = (time.perf_counter() - started) * 1000
        if attempt:
            samples.append(elapsed)
    print(
        f"investigation at organisation {org_id} over 30 days: {len(found.present)} batches present, "
        f"{len(found.spread.holders):,} holder positions downstream, {len(found.sources.holders):,} upstream; "
        f"p50 {statistics.median(samples):.0f} ms, max {max(samples):.0f} ms ({repeats} runs); "
        f"this process's peak memory so far {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"
    )


def measure_opening(sessions: sessionmaker[Session], batch_id: int, repeats: int) -> None:
    """Open a recall of the widest batch as a regulator would (walk, targets, followed holders, chain job, one
    webhook message per holder organisation), flush it to the database, and roll it back: the ledger is left as
    it was, so the run can be repeated."""
    with sessions() as session:
        regulator_id = session.scalar(
            select(Organisation.id)
            .where(cast(Organisation.roles, String).contains(f'"{Role.REGULATOR.value}"'))
            .limit(1)
        )
        gtin, lot = session.execute(
            select(Product.gtin, Batch.lot).join(Batch, Batch.product_id == Product.id).where(Batch.id == batch_id)
        ).one()
    if regulator_id is None:
        print("no regulator in this ledger: opening a recall not measured")
        return
    samples, holders = [], 0
    for attempt in range(repeats + 1):
        with sessions() as session:
            regulator = session.get(Organisation, regulator_id)
            assert regulator is not None
            started = time.perf_counter()
            recall = service.open_recall(
                session,
                regulator,
                batches=[service.BatchRef(gtin, lot)],
                recall_class=1,
                reason="bench: opening a recall",
                public_url="https://trace.example.cn",
            )
            session.flush()
            elapsed = (time.perf_counter() - started) * 1000
            holders = (
                session.scalar(
                    select(func.count()).select_from(RecallHolder).where(RecallHolder.recall_id == recall.id)
                )
                or 0
            )
            session.rollback()
        if attempt:
            samples.append(elapsed)
    print(
        f"opening a recall of batch {batch_id} ({holders:,} holders followed and messaged), {repeats} times, "
        f"rolled back each time: p50 {statistics.median(samples):.0f} ms, max {max(samples):.0f} ms"
    )


if __name__ == "__main__":
    main()
