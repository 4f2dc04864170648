"""Anchoring lag during a benchmark's load: sampled from the ledger and the chain node, then per event.

Used by ``bench_api.py``; see :func:`chain.anchoring.anchoring_lag` for what the ledger counts.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from bisect import bisect_right
from datetime import UTC, datetime

from api_stack import Stack
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from chain.anchoring import anchoring_lag
from ledger.models import Anchor, ChainJob, ChainJobStatus, OutboxEntry


def block_number(rpc_url: str) -> int:
    call = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}).encode()
    request = urllib.request.Request(rpc_url, call, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return int(json.loads(reply.read())["result"], 16)


class LagSampler(threading.Thread):
    """Samples (wall time, events not yet anchored, chain head) every ``interval`` seconds until stopped.

    Its own plain engine: ``ledger.db.make_engine`` begins every SQLite transaction IMMEDIATE, and a sampler
    holding the write lock would slow down the very writes it watches."""

    def __init__(self, stack: Stack, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(stack.database_url)
        self.rpc_url, self.interval = stack.rpc_url, interval
        self.samples: list[tuple[float, int, int]] = []
        self.halt = threading.Event()

    def sample(self) -> tuple[float, int, int]:
        with Session(self.engine) as session:
            lag = anchoring_lag(session)
        point = (time.time(), lag, block_number(self.rpc_url))
        self.samples.append(point)
        return point

    def run(self) -> None:
        while not self.halt.wait(self.interval):
            self.sample()

    def drain(self, timeout: float) -> tuple[float, int, int]:
        """Blocks sealed, and seconds, from now until nothing is left to anchor (lag 0)."""
        start = self.sample()
        while (now := self.sample())[1] > 0 and now[0] - start[0] < timeout:
            time.sleep(self.interval)
        return now[0] - start[0], now[2] - start[2], now[1]

    def chain_jobs_done(self, timeout: float) -> None:
        """Wait for the seed's other chain work (batch registrations, role grants): each is a block of its own,
        which would otherwise be counted as anchoring lag."""
        deadline = time.monotonic() + timeout
        pending = select(func.count()).select_from(ChainJob).where(ChainJob.status == ChainJobStatus.PENDING)
        while time.monotonic() < deadline:
            with Session(self.engine) as session:
                if not session.scalar(pending):
                    return
            time.sleep(self.interval)

    def per_event(self, since: float) -> tuple[list[int], list[float]]:
        """For events committed since ``since``: blocks between the head at commit and their anchor's block, and
        seconds from commit to the anchor's confirmation. The head at commit is the last sample before it, so
        the block figure errs high by at most one sampling interval."""
        times, heads = [s[0] for s in self.samples], [s[2] for s in self.samples]
        query = (
            select(OutboxEntry.created_at, Anchor.block_number, Anchor.confirmed_at)
            .join(Anchor, Anchor.id == OutboxEntry.anchor_id)
            .where(OutboxEntry.created_at >= datetime.fromtimestamp(since, UTC))
        )
        blocks, seconds = [], []
        with Session(self.engine) as session:
            for created, block, confirmed in session.execute(query):
                if block is None or confirmed is None:
                    continue  # not confirmed yet: the drain gave up, and says so
                head = heads[max(0, bisect_right(times, created.timestamp()) - 1)]
                blocks.append(block - head)
                seconds.append((confirmed - created).total_seconds())
        return blocks, seconds
