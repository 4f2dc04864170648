"""``lotline verify`` on a generated ledger: a full run, then an incremental one from a checkpoint.

    .venv/bin/python bench/bench_verify.py --events 100000            # generates a scratch SQLite ledger first
    .venv/bin/python bench/bench_verify.py --database-url sqlite:///generated-100000.sqlite

The ledger is the synthetic network of ``bench_generate.py`` (signed events, hash chains, holdings, codes),
never anchored, against a fresh contract on the embedded node: every event is rehashed and its signature
checked, every batch chain folded and its (empty) record read from the chain, every derived table replayed.
Then a checkpoint is recorded ``--new`` events before the end and ``--since-checkpoint`` is timed: what a
nightly incremental run costs when that many events came in since the last one.

Prints wall and this process's CPU seconds of each phase (the audit runs in this process, on one core; the
chain node is its own process and answers one call per batch). On the shared 2-core machines the CPU seconds
say more than the wall time.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from eth_account import Account
from sqlalchemy import func, select

from chain.anvil import running_embedded_node
from chain.audit import audit
from chain.checkpoint import checkpoint_key, record_checkpoint, verify_ledger
from chain.client import ChainClient
from importers.generate import generate_network
from ledger.db import make_engine, make_session_factory
from ledger.merkle import keccak256
from ledger.models import Event
from ledger.projection import check_projections
from ledger.settings import get_settings
from ledger.signing import SigningDomain

DEPLOYER_KEY = keccak256(b"lotline bench verify deployer")
DEPLOYER = Account.from_key(DEPLOYER_KEY).address
T = TypeVar("T")


def timed(label: str, work: Callable[[], T]) -> T:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"  {label:<44} {wall:8.1f} s wall {cpu:8.1f} s CPU")
    return result


def run(url: str, new_events: int, chain_dir: Path) -> None:
    settings = get_settings()
    domain, key = SigningDomain(chain_id=settings.chain_id), checkpoint_key(settings.secret_key)
    factory = make_session_factory(make_engine(url))
    with running_embedded_node(chain_dir, balances={DEPLOYER: 10**24}) as rpc:
        client = ChainClient(rpc)
        client.deploy(DEPLOYER_KEY, DEPLOYER, DEPLOYER)
        with factory() as session:
            events = session.scalar(select(func.count()).select_from(Event)) or 0
            last = session.scalar(select(func.max(Event.seq))) or 0
            session.commit()
        print(f"{events:,} events, uptime load {os.getloadavg()[0]:.1f}")
        with factory() as session:
            timed("derived tables replayed (part of the audit)", lambda: check_projections(session))
            session.rollback()
        with factory() as session:
            report = timed("full audit", lambda: audit(session, client, domain))
            session.rollback()
        print(f"  findings {len(report.findings)}, counts {dict(sorted(report.counts.items()))}")
        with factory() as session:
            record_checkpoint(session, key, max(last - new_events, 0))
            session.commit()
        with factory() as session:
            label = f"incremental audit, {new_events:,} new events"
            report = timed(label, lambda: verify_ledger(session, client, domain, key, since_checkpoint=True))
            session.rollback()
        print(f"  findings {len(report.findings)}, events rehashed {report.counts['events']:,}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="a generated ledger; default: generate --events into a scratch file")
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=1_000, help="events after the checkpoint for the incremental run")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url
        if url is None:
            url = f"sqlite:///{Path(scratch) / 'ledger.sqlite'}"
            timed(
                f"generated {args.events:,} events", lambda: generate_network(url, events=args.events, seed=args.seed)
            )
        run(url, args.new, Path(scratch) / "chain")


if __name__ == "__main__":
    main()
