"""Generate a synthetic network and report the time: ``.venv/bin/python bench/bench_generate.py --events N``.

``--backend sqlite`` writes a fresh SQLite file (kept with ``--keep PATH``); ``--backend postgresql`` creates a
scratch database ``lotline_gen_<random>`` on ``--server`` and drops it afterwards (unless ``--keep``). Prints the
generator's summary and the events per second.

It also prints the CPU time of the main process and of the pool's workers (read from ``/proc``), because on a
shared machine the wall time says more about the neighbours than about the generator: with ``W`` workers the
run needs at least ``max(main, workers / W)`` seconds of wall time on otherwise idle cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import uuid
from pathlib import Path

from rich.console import Console
from sqlalchemy import text
from sqlalchemy.engine import make_url

from importers.generate import generate_network
from importers.generate.cli import summary_table
from ledger.db import make_engine

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def cpu_seconds() -> dict[int, float]:
    """CPU time (user + system) of this process and each of its descendants, by pid (Linux ``/proc``)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # exited while we looked
            parents[int(entry.name)] = int(fields[1])
            times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    ours, frontier = {os.getpid()}, [os.getpid()]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        ours.update(children)
        frontier.extend(children)
    return {pid: times[pid] for pid in ours if pid in times}


def run(url: str, events: int, seed: int) -> None:
    console = Console()
    step = max(events // 20, 1)
    reported = [0]
    cpu: dict[int, float] = {}

    def progress(done: int) -> None:
        cpu.update(cpu_seconds())
        if done - reported[0] >= step or done == events:
            reported[0] = done
            console.print(f"  {done:>12,} events")

    console.print(f"generating {events:,} events into {make_url(url).render_as_string(hide_password=True)}")
    console.print(summary_table(generate_network(url, events=events, seed=seed, progress=progress)))
    cpu.update(cpu_seconds())
    main = cpu.pop(os.getpid())
    console.print(
        f"CPU seconds: main process {main:,.1f}, pool workers {sum(cpu.values()):,.1f} ({len(cpu)} processes)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--server", default=DEFAULT_SERVER, help="PostgreSQL server URL (any database on it)")
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    args = parser.parse_args()
    if args.backend == "sqlite":
        with tempfile.TemporaryDirectory() as scratch:
            path = Path(scratch) / "ledger.sqlite"
            run(f"sqlite:///{path}", args.events, args.seed)
            if args.keep:
                kept = Path.cwd() / f"generated-{args.events}.sqlite"
                path.replace(kept)
                print(f"kept {kept}")
        return
    name = f"lotline_gen_{uuid.uuid4().hex[:10]}"
    admin = make_engine(args.server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        run(make_url(args.server).set(database=name).render_as_string(hide_password=False), args.events, args.seed)
    finally:
        if args.keep:
            print(f"kept database {name}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
