"""Speed of the ledger core's hot paths: CBV 2.0 event hashing (ours and GS1's reference), EIP-712 signing and
verification, Merkle trees with all their proofs, CSPRNG serials.

    .venv/bin/python bench/bench_core.py

Prints one line per figure with the load average (figures are only meaningful on a quiet machine).
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Callable
from datetime import UTC, datetime

from epcis_event_hash_generator import hash_generator, json_to_py

from ledger import epcis_events, terms
from ledger.event_hash import STANDARD_CONTEXT, event_hash, hash_digest
from ledger.identifiers import new_serials
from ledger.keys import generate_private_key
from ledger.merkle import MerkleTree
from ledger.policy import TradeAction
from ledger.signing import EventSigner, SigningDomain, verify_event_signature


def rate(label: str, count: int, work: Callable[[], object]) -> None:
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    print(f"{label:<44} {count / elapsed:>12,.0f} /s   ({elapsed:.2f} s for {count:,})")


def main() -> None:
    event = epcis_events.transfer(
        TradeAction.SHIP,
        event_time=datetime(2026, 11, 27, 9, 30, tzinfo=UTC),
        epcs=[terms.item_epc("06970000000017", "K74CZDQ52WSS")],
        quantities=[],
        sender=terms.owning_party("91330100MA2W000014"),
        receiver=terms.owning_party("91330100MA2W000027"),
        read_point=None,
    )
    events = [{**event, "eventTime": f"2026-11-27T09:{i // 60 % 60:02d}:{i % 60:02d}.000Z"} for i in range(5_000)]
    rate("CBV 2.0 event hash (lotline)", len(events), lambda: [event_hash(e) for e in events])

    def reference() -> None:
        for e in events[:200]:
            document = {"@context": [STANDARD_CONTEXT], "type": "EPCISDocument", "epcisBody": {"eventList": [e]}}
            json_to_py._namespaces.clear()
            hash_generator.epcis_hashes_from_events(
                json_to_py.event_list_from_epcis_document_json(copy.deepcopy(document))
            )

    rate("CBV 2.0 event hash (GS1 reference generator)", 200, reference)

    digests = [hash_digest(event_hash(e)) for e in events[:2_000]]
    signer, domain = EventSigner(generate_private_key()), SigningDomain(chain_id=20260)
    signatures = []
    rate(
        "EIP-712 sign (key loaded once)",
        len(digests),
        lambda: signatures.extend(
            signer.sign(d, nonce=i + 1, deadline=2**40, domain=domain) for i, d in enumerate(digests)
        ),
    )

    def verify() -> None:
        for i, (digest, sig) in enumerate(zip(digests, signatures, strict=True)):
            verify_event_signature(digest, sig, domain, expected_signer=signer.address, last_nonce=i, now=0)

    rate("EIP-712 verify", len(digests), verify)

    leaves = [os.urandom(32) for _ in range(100_000)]
    tree: list[MerkleTree] = []
    rate("Merkle tree build, 100,000 events", len(leaves), lambda: tree.append(MerkleTree.build(leaves)))
    rate("Merkle proofs, all 100,000", len(leaves), lambda: [tree[0].proof(i) for i in range(len(leaves))])
    rate("CSPRNG serials", 1_000_000, lambda: new_serials(1_000_000))
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("command: .venv/bin/python bench/bench_core.py")


if __name__ == "__main__":
    main()
