"""Events anchored per second by the anchoring service, end to end: outbox → chain → a proof on every event.

    .venv/bin/python bench/bench_anchoring_service.py [--events N] [--batches N] [--max-events N]

Builds a scratch SQLite ledger (migrated with Alembic) holding ``--events`` signed EPCIS ship events spread
round-robin over ``--batches`` batches, each with its hash-chain link and outbox row, exactly the rows
``ledger.recorder`` writes. They are generated in bulk (documents built with ``ledger.epcis``, CBV 2.0 hashes,
EIP-712 signatures, on every core) and inserted directly: building them through the scan rules would take
minutes and is not what is measured here.

Then starts the embedded node (``python -m chain.node``, its own process), deploys the anchor contract and
runs ``chain.anchoring.anchor_pending(max_events=--max-events)`` until nothing is left, timing each anchor:
the whole run (outbox rows claimed, Merkle tree built, anchor row and links committed, the anchor
transaction mined, every event's proof written, the anchor confirmed) and, within it, the time on chain
(from sending to the receipt); the rest is the ledger's reads and writes. Prints figures; asserts nothing
(target in docs/performance.md: ≥10,000 events/s anchored).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from eth_account import Account
from sqlalchemy import insert, select, update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chain.anchoring import AnchoredRoot, anchor_pending, anchoring_lag
from chain.anvil import running_embedded_node
from chain.client import ChainClient
from ledger import epcis_events, terms
from ledger.db import make_engine, make_session_factory
from ledger.event_hash import event_hash, hash_digest
from ledger.identifiers import make_uscc
from ledger.keys import KeyVault
from ledger.merkle import ZERO_HEAD, batch_key, chain_head, keccak256
from ledger.migrate import upgrade_to_head
from ledger.models import Batch, Category, Event, EventBatch, OutboxEntry, Role
from ledger.policy import TradeAction
from ledger.registry import create_organisation, create_product
from ledger.signing import EventSigner, SigningDomain

OPERATOR = keccak256(b"bench anchoring service operator")
DOMAIN = SigningDomain(chain_id=20260)
USCC = make_uscc("91330100MA2000001")
CUSTOMER = make_uscc("91330100MA2000002")  # the shipments' receiver: only named in the events
CHUNK = 5_000


def make_events(args: tuple[bytes, int, str, int, int, list[str]]) -> list[dict[str, Any]]:
    """Rows of ``events`` for seqs ``first ..``: one shipping event per seq, on the lot ``lots[seq % n]``."""
    key, org_id, gtin, first, count, lots = args
    signer = EventSigner(key)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for seq in range(first, first + count):
        when = start + timedelta(milliseconds=seq)
        document = epcis_events.transfer(
            TradeAction.SHIP,
            event_time=when,
            epcs=[],
            quantities=[terms.quantity_element(gtin, lots[seq % len(lots)], 1 + seq % 7, "EA")],
            sender=terms.owning_party(USCC),
            receiver=terms.owning_party(CUSTOMER),
            read_point=None,
        )
        event_id = event_hash(document)
        signature = signer.sign(hash_digest(event_id), nonce=seq, deadline=2**40, domain=DOMAIN)
        rows.append(
            {
                "seq": seq,
                "event_id": event_id,
                "event_type": "ObjectEvent",
                "action": "OBSERVE",
                "biz_step": "shipping",
                "disposition": "in_transit",
                "event_time": when,
                "org_id": org_id,
                "document": {**document, "eventID": event_id},
                "signer": signature.signer,
                "nonce": seq,
                "deadline": signature.deadline,
                "signature": "0x" + signature.signature.hex(),
            }
        )
    return rows


def build_ledger(url: str, events: int, batch_count: int) -> None:
    upgrade_to_head(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    vault = KeyVault("bench")
    with factory() as session:
        org, _token = create_organisation(session, vault, name="bench importer", uscc=USCC, roles=[Role.PRODUCER])
        product = create_product(
            session, org, name="frozen beef", category=Category.COLD_CHAIN, company_prefix="6970001"
        )
        key = vault.decrypt(org.encrypted_key, org_ref=org.uscc)
        lots = [f"L{i:06d}" for i in range(batch_count)]
        session.execute(
            insert(Batch),
            [
                {
                    "product_id": product.id,
                    "lot": lot,
                    "registrant_org_id": org.id,
                    "quantity": 10**9,
                    "batch_key": "0x" + batch_key(product.gtin, lot).hex(),
                    "registration_hash": "0x" + keccak256(lot.encode()).hex(),
                    "chain_head": "0x" + ZERO_HEAD.hex(),
                    "event_count": 0,
                }
                for lot in lots
            ],
        )
        session.commit()
        batch_ids = {lot: batch_id for batch_id, lot in session.execute(select(Batch.id, Batch.lot))}
        session.commit()
        jobs = [
            (key, org.id, product.gtin, first, min(CHUNK, events + 1 - first), lots)
            for first in range(1, events + 1, CHUNK)
        ]
        heads = dict.fromkeys(lots, ZERO_HEAD)
        counts = dict.fromkeys(lots, 0)
        with ProcessPoolExecutor(os.cpu_count()) as pool:
            for rows in pool.map(make_events, jobs):
                links = []
                for row in rows:
                    lot = lots[row["seq"] % len(lots)]
                    heads[lot] = chain_head(heads[lot], hash_digest(row["event_id"]))
                    counts[lot] += 1
                    links.append(
                        {
                            "batch_id": batch_ids[lot],
                            "position": counts[lot],
                            "event_seq": row["seq"],
                            "head": "0x" + heads[lot].hex(),
                        }
                    )
                session.execute(insert(Event), rows)
                session.execute(insert(EventBatch), links)
                session.execute(insert(OutboxEntry), [{"event_seq": row["seq"]} for row in rows])
                session.commit()
                print(f"  ledger: {rows[-1]['seq']:,} events", file=sys.stderr)
        session.execute(
            update(Batch),
            [{"id": batch_ids[lot], "chain_head": "0x" + heads[lot].hex(), "event_count": counts[lot]} for lot in lots],
        )
        session.commit()
    engine.dispose()


def anchor_all(url: str, rpc_url: str, max_events: int) -> Iterator[tuple[AnchoredRoot, float]]:
    """Each anchor and the wall time of the `anchor_pending` run that made it, until the outbox is empty."""
    factory = make_session_factory(make_engine(url))
    client = ChainClient(rpc_url, timeout=600)
    operator = Account.from_key(OPERATOR).address
    client.deploy(OPERATOR, operator, operator)
    while True:
        start = time.perf_counter()
        result = anchor_pending(factory, client, OPERATOR, domain=DOMAIN, max_events=max_events)
        if result is None:
            return
        (root,) = result.anchors
        yield root, time.perf_counter() - start
        with factory() as session:
            print(f"  anchored {root.event_count:,} events, lag now {anchoring_lag(session):,}", file=sys.stderr)
            session.commit()


def report(rows: list[tuple[AnchoredRoot, float]]) -> None:
    print(f"$ {shlex.join([Path(sys.executable).name, *sys.argv])}\n")
    columns = ("anchor", "events", "heads", "txs", "run s", "chain s", "ledger s", "events/s")
    print("{:>6} {:>8} {:>6} {:>4} {:>6} {:>8} {:>9} {:>9}".format(*columns))
    for i, (root, seconds) in enumerate(rows, start=1):
        print(
            f"{i:>6} {root.event_count:>8,} {root.batch_count:>6,} {root.transactions:>4} {seconds:>6.2f} "
            f"{root.seconds_on_chain:>8.2f} {seconds - root.seconds_on_chain:>9.2f} "
            f"{root.event_count / seconds:>9,.0f}"
        )
    events = sum(root.event_count for root, _ in rows)
    total = sum(seconds for _, seconds in rows)
    on_chain = sum(root.seconds_on_chain for root, _ in rows)
    print(
        f"\ntotal: {events:,} events in {len(rows)} anchors, {sum(r.transactions for r, _ in rows)} "
        f"transactions, {total:.2f} s: {events / total:,.0f} events/s anchored end to end "
        f"(on chain {on_chain:.2f} s, ledger reads and writes {total - on_chain:.2f} s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=100_000, help="events in the scratch ledger")
    parser.add_argument("--batches", type=int, default=1_000, help="batches the events are spread over")
    parser.add_argument("--max-events", type=int, default=20_000, help="events per anchor (anchor_pending's)")
    parser.add_argument("--block-interval", type=float, default=0.05, help="embedded node's seconds per block")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/ledger.sqlite"
        started = time.perf_counter()
        build_ledger(url, args.events, args.batches)
        print(f"  ledger built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        balances = {Account.from_key(OPERATOR).address: 10**24}
        chain_dir = Path(tmp) / "chain"
        with running_embedded_node(chain_dir, block_interval=args.block_interval, balances=balances) as rpc:
            rows = list(anchor_all(url, rpc, args.max_events))
    report(rows)


if __name__ == "__main__":
    main()
