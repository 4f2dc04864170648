"""Events anchored per second: one transaction per event vs. batched Merkle anchoring, on both nodes.

    .venv/bin/python bench/bench_anchor.py [--single-txs N] [--rounds N] [--events N ...] [--batches N]

Starts the embedded node (``python -m chain.node``, its own process, fresh data directory) and anvil, deploys
the anchor contract on each, and measures in one run:

(a) one anchor transaction per event (a 1-event root and one batch head), each sent in its own JSON-RPC
    request, back to back without waiting, then every receipt awaited: transactions/s = events/s;
(b) batched anchoring: per round, ``--events`` new event digests spread over ``--batches`` batches, their
    per-batch hash chains folded, the Merkle tree built and one ``ChainClient.anchor`` call (root + one head
    per batch) until the receipt: events/s over everything, tree building included. Run once per value
    of ``--events``: the chain's cost is per batch head, not per event, so events per head decide the rate;
(c) the ratio (b)/(a).

Prints figures; asserts nothing (target in docs/performance.md for (b): ≥10,000 events/s).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chain.anvil import running_anvil, running_embedded_node
from chain.client import ANCHOR_BASE_GAS, HEAD_GAS, ChainClient
from ledger.merkle import ZERO_HEAD, MerkleTree, fold_heads, keccak256

DEPLOYER, ANCHORER = keccak256(b"bench deployer"), keccak256(b"bench anchorer")
ANVIL_GAS_LIMIT = 300_000_000
"""anvil's default 30M block gas limit would split a 1,000-head anchor (≈48M gas) in four."""


@dataclass
class Row:
    node: str
    mode: str
    txs: int
    events: int
    seconds: float
    tree_seconds: float = 0.0

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds


def one_tx_per_event(client: ChainClient, count: int) -> Row:
    """(a): every event is its own root and moves its batch's head by one."""
    batches = [keccak256(os.urandom(32)) for _ in range(50)]
    heads = dict.fromkeys(batches, ZERO_HEAD)
    counts = dict.fromkeys(batches, 0)
    calls = []
    for i in range(count):
        batch, digest = batches[i % len(batches)], keccak256(os.urandom(32))
        heads[batch] = fold_heads([digest], start=heads[batch])
        counts[batch] += 1
        root = MerkleTree.build([digest]).root
        calls.append(client.artifact.encode_call("anchor", root, 1, [batch], [heads[batch]], [counts[batch]]))
    start = time.perf_counter()
    hashes = [client.send(ANCHORER, call, gas=ANCHOR_BASE_GAS + HEAD_GAS) for call in calls]
    client.wait(hashes)
    return Row("", "(a) 1 tx per event", count, count, time.perf_counter() - start)


def batched(client: ChainClient, rounds: int, events: int, batch_count: int) -> Row:
    """(b): one root over ``events`` events and one head per batch per anchor transaction."""
    batches = [keccak256(os.urandom(32)) for _ in range(batch_count)]
    heads = dict.fromkeys(batches, ZERO_HEAD)
    counts = dict.fromkeys(batches, 0)
    txs, total, tree_seconds = 0, 0.0, 0.0
    for _ in range(rounds):
        digests = [keccak256(os.urandom(32)) for _ in range(events)]  # made by the ledger, not timed
        start = time.perf_counter()
        per_batch: dict[bytes, list[bytes]] = {b: [] for b in batches}
        for i, digest in enumerate(digests):
            per_batch[batches[i % batch_count]].append(digest)
        for batch, chain in per_batch.items():
            heads[batch] = fold_heads(chain, start=heads[batch])
            counts[batch] += len(chain)
        tree = MerkleTree.build(digests)
        built = time.perf_counter()
        receipts = client.anchor(ANCHORER, tree.root, events, [(b, heads[b], counts[b]) for b in batches])
        total += time.perf_counter() - start
        tree_seconds += built - start
        txs += len(receipts)
    label = f"(b) {events:,} events / {batch_count:,} heads per root"
    return Row("", label, txs, rounds * events, total, tree_seconds)


def nodes(tmp: Path) -> Iterator[tuple[str, Callable[[], AbstractContextManager[str]]]]:
    balances = {Account.from_key(k).address: 10**24 for k in (DEPLOYER, ANCHORER)}
    yield "embedded", lambda: running_embedded_node(tmp / "chain", block_interval=0.05, balances=balances)
    yield "anvil", lambda: running_anvil(gas_limit=ANVIL_GAS_LIMIT, balances=balances)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--single-txs", type=int, default=500, help="transactions in (a)")
    parser.add_argument("--rounds", type=int, default=3, help="anchors in (b)")
    parser.add_argument("--events", type=int, nargs="+", default=[10_000, 100_000], help="events per root")
    parser.add_argument("--batches", type=int, default=1_000, help="batch heads per root in (b)")
    args = parser.parse_args()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, start_node in nodes(Path(tmp)):
            with start_node() as url:
                client = ChainClient(url, timeout=600)
                admin, anchorer = Account.from_key(DEPLOYER).address, Account.from_key(ANCHORER).address
                client.deploy(DEPLOYER, admin, anchorer)
                measured = [one_tx_per_event(client, args.single_txs)]
                measured += [batched(client, args.rounds, events, args.batches) for events in args.events]
                for row in measured:
                    row.node = name
                    rows.append(row)
                    print(f"  {name}: {row.mode}: {row.events_per_s:,.0f} events/s", file=sys.stderr)
    print(f"$ {shlex.join([Path(sys.executable).name, *sys.argv])}\n")
    header = ("node", "mode", "txs", "events", "s", "tree s", "tx/s", "events/s")
    print("{:<9} {:<42} {:>5} {:>8} {:>7} {:>7} {:>8} {:>9}".format(*header))
    for r in rows:
        print(
            f"{r.node:<9} {r.mode:<42} {r.txs:>5} {r.events:>8,} {r.seconds:>7.2f} {r.tree_seconds:>7.2f} "
            f"{r.txs / r.seconds:>8.1f} {r.events_per_s:>9,.0f}"
        )
    for name in dict.fromkeys(r.node for r in rows):
        single, *batches = (r for r in rows if r.node == name)
        for batch in batches:
            ratio = batch.events_per_s / single.events_per_s
            print(f"(c) {name}: {batch.mode[4:]}: batched / one tx per event = {ratio:,.0f}x")


if __name__ == "__main__":
    main()
