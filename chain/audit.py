"""``lotline verify``: recompute every stored hash and hold the ledger against the chain.

The ledger can be edited by anyone with database access; the chain cannot. So every check starts from what
is stored and ends at something the chain fixed:

* **events** — each document must still hash (CBV 2.0, without its ``eventID``) to its event id, its signature
  must be its organisation's with nonces increasing (``ledger.signature_check``), an anchored event's Merkle
  proof must lead from its digest to its anchor's root, and an event the anchoring worker refused is reported;
* **anchors** — each confirmed root must be on chain with the same event total, and still have its events;
* **batches** — each batch's hash chain is re-folded from its links in position order (a deleted, reordered
  or altered event breaks it at a position), must end at the batch row's head and count, and must pass
  through the head the chain holds at the chain's count; the registration hash must be the chain's;
* **derived tables** — batch rows, movements, holdings and item codes replayed from what the events and
  registrations commit to (``ledger.projection``), and each recall's batches against the chain's recall record.

Events past the chain's count (or in anchors not yet confirmed) are *pending*, counted, not findings: the
ledger anchors asynchronously.

The whole audit reads in one transaction so that it sees one state of the ledger (repeatable read on
PostgreSQL). On SQLite any transaction holds the write lock, so scans wait while the audit reads.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from chain.artifacts import RecallStatus
from chain.client import ChainClient
from chain.findings import KIND_OF_TABLE, AuditReport, Finding, FindingKind
from ledger.errors import LotlineError
from ledger.event_hash import event_hash, hash_digest
from ledger.merkle import ZERO_HEAD, chain_head, verify_proof
from ledger.models import (
    Anchor,
    AnchorStatus,
    Batch,
    Event,
    EventBatch,
    Organisation,
    OutboxEntry,
    Product,
    RecallDetail,
    RecallTarget,
)
from ledger.projection import check_projections
from ledger.signature_check import SIGNED_COLUMNS, NonceBook, SignedRow
from ledger.signing import SigningDomain

__all__ = ["AuditReport", "Finding", "FindingKind", "Resume", "audit", "recall_target_findings"]

_STREAM: Final = 2_000
_UNHASHED: Final = frozenset({"errorDeclaration", "recordTime"})
"""Fields the CBV 2.0 hash leaves out that the ledger never keeps in a stored document (docs/anchoring.md)."""


@dataclass(frozen=True)
class _BatchRow:
    label: str
    batch_key: bytes
    registration_hash: str
    chain_head: str
    event_count: int


@dataclass(frozen=True)
class Resume:
    """Where an incremental audit starts: events up to ``after_seq`` were verified, with these last nonces."""

    after_seq: int
    nonces: dict[int, int]


def audit(session: Session, client: ChainClient, domain: SigningDomain, since: Resume | None = None) -> AuditReport:
    """Check the whole ledger against itself and the chain; findings name each bad event, batch, anchor or row.

    ``domain`` is the network's signing domain (``LOTLINE_CHAIN_ID``), under which every event was signed. With
    ``since``, only the events after it are rehashed and their signatures and proofs checked; anchors, batch
    chains and derived tables are checked whole (``chain.checkpoint``).
    """
    since = since or Resume(0, {})
    if not session.in_transaction() and session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    report = AuditReport()
    anchors = _check_anchors(session, client, report)
    _check_events(session, anchors, report, since.after_seq)
    _check_signatures(session, domain, report, since)
    _check_batches(session, client, report)
    for found in check_projections(session):
        kind = KIND_OF_TABLE[found.table]
        report.findings.append(Finding(kind, found.detail, batch_id=found.batch_id, table=found.table, row=found.row))
    report.findings.extend(recall_target_findings(session, client))
    return report


def _check_signatures(session: Session, domain: SigningDomain, report: AuditReport, since: Resume) -> None:
    """Every event's signature in ledger order (nonces must increase), and the rows anchoring refused."""
    addresses = dict(session.execute(select(Organisation.id, Organisation.chain_address)).all())
    book = NonceBook(dict(since.nonces))
    rows = session.execute(
        select(*SIGNED_COLUMNS)
        .where(Event.seq > since.after_seq)
        .order_by(Event.seq)
        .execution_options(yield_per=_STREAM)
    )
    for partition in rows.partitions():
        signed = [SignedRow(*row) for row in partition]
        problems = book.check(signed, domain, addresses)
        for row in signed:
            if row.seq in problems:
                found = Finding(FindingKind.SIGNATURE_INVALID, problems[row.seq], event_id=row.event_id)
                report.findings.append(found)
    refused = session.execute(
        select(Event.event_id, OutboxEntry.refusal)
        .join(OutboxEntry, OutboxEntry.event_seq == Event.seq)
        .where(OutboxEntry.refused_at.is_not(None))
        .order_by(Event.seq)
    )
    for event_id, refusal in refused:
        detail = f"the anchoring worker refused it: {refusal}"
        report.findings.append(Finding(FindingKind.EVENT_REFUSED, detail, event_id=event_id))


def _check_anchors(session: Session, client: ChainClient, report: AuditReport) -> dict[int, bytes]:
    """Roots of the confirmed anchors, after checking each against the chain and its events in the ledger."""
    roots: dict[int, bytes] = {}
    events_in = Counter(session.scalars(select(Event.anchor_id).where(Event.anchor_id.is_not(None))).all())
    for anchor in session.scalars(select(Anchor).order_by(Anchor.id)):
        if anchor.status != AnchorStatus.CONFIRMED:
            report.counts["anchors_pending"] += 1
            continue
        report.counts["anchors"] += 1
        root = bytes.fromhex(anchor.merkle_root[2:])
        roots[anchor.id] = root
        record = client.root_record(root)
        problem = None
        if not record.anchored:
            problem = f"root {anchor.merkle_root} is not on chain"
        elif record.event_total != anchor.event_count:
            problem = f"the chain counts {record.event_total} events in this root, the ledger {anchor.event_count}"
        elif events_in[anchor.id] != anchor.event_count:
            problem = f"{anchor.event_count} events were anchored, {events_in[anchor.id]} are left in the ledger"
        if problem:
            report.findings.append(Finding(FindingKind.ANCHOR_MISMATCH, problem, anchor_id=anchor.id))
    return roots


def _check_events(session: Session, anchors: dict[int, bytes], report: AuditReport, after_seq: int) -> None:
    rows = session.execute(
        select(Event.event_id, Event.document, Event.anchor_id, Event.merkle_proof)
        .where(Event.seq > after_seq)
        .order_by(Event.seq)
        .execution_options(yield_per=_STREAM)
    )
    for event_id, document, anchor_id, proof in rows:
        report.counts["events"] += 1
        body = {k: v for k, v in document.items() if k != "eventID"}
        try:
            rehashed: str | None = event_hash(body)
        except LotlineError:
            rehashed = None
        if rehashed != event_id or document.get("eventID") != event_id:
            detail = f"the stored document hashes to {rehashed}" if rehashed else "the stored document is not EPCIS"
            report.findings.append(Finding(FindingKind.EVENT_EDITED, detail, event_id=event_id))
        if unhashed := sorted(_UNHASHED.intersection(document)):
            detail = f"the stored document carries {', '.join(unhashed)}, outside its hash: no ledger writer stores it"
            report.findings.append(Finding(FindingKind.UNHASHED_CONTENT, detail, event_id=event_id))
        root = anchors.get(anchor_id) if anchor_id is not None else None
        if root is None:
            report.counts["events_pending"] += 1
        elif _proves(event_id, proof, root):
            report.counts["events_anchored"] += 1
        else:
            detail = f"its proof does not lead to the root of anchor {anchor_id}"
            report.findings.append(Finding(FindingKind.PROOF_INVALID, detail, event_id=event_id, anchor_id=anchor_id))


def _proves(event_id: str, proof: Any, root: bytes) -> bool:
    try:
        return verify_proof(hash_digest(event_id), [bytes.fromhex(p[2:]) for p in proof or ()], root)
    except (LotlineError, ValueError, TypeError):
        return False


def _check_batches(session: Session, client: ChainClient, report: AuditReport) -> None:
    batches = {
        batch_id: _BatchRow(f"{gtin}/{lot}", bytes.fromhex(key[2:]), reg, head, count)
        for batch_id, gtin, lot, key, reg, head, count in session.execute(
            select(
                Batch.id,
                Product.gtin,
                Batch.lot,
                Batch.batch_key,
                Batch.registration_hash,
                Batch.chain_head,
                Batch.event_count,
            ).join(Product, Product.id == Batch.product_id)
        )
    }
    links = session.execute(
        select(EventBatch.batch_id, EventBatch.position, EventBatch.head, Event.event_id)
        .join(Event, Event.seq == EventBatch.event_seq)
        .order_by(EventBatch.batch_id, EventBatch.position)
        .execution_options(yield_per=_STREAM)
    )
    current: list[tuple[int, str, str]] = []
    current_id: int | None = None
    for batch_id, position, head, event_id in links:
        if batch_id != current_id:
            if current_id is not None:
                _check_batch(current_id, batches.pop(current_id), current, client, report)
            current_id, current = batch_id, []
        current.append((position, head, event_id))
    if current_id is not None:
        _check_batch(current_id, batches.pop(current_id), current, client, report)
    for batch_id, row in batches.items():
        _check_batch(batch_id, row, [], client, report)


@dataclass
class _Fold:
    """A batch's links re-folded: the last head, the head after ``stop`` events, the first broken position."""

    head: bytes = ZERO_HEAD
    at_stop: bytes | None = None
    broken_at: int | None = None
    broken_detail: str = ""


def _fold(links: list[tuple[int, str, str]], stop: int) -> _Fold:
    fold = _Fold(at_stop=ZERO_HEAD if stop == 0 else None)
    for expected, (position, stored_head, event_id) in enumerate(links, start=1):
        fold.head = chain_head(fold.head, hash_digest(event_id))
        if fold.broken_at is None and position != expected:
            fold.broken_at, fold.broken_detail = expected, f"position {expected} is missing"
        elif fold.broken_at is None and "0x" + fold.head.hex() != stored_head:
            fold.broken_at, fold.broken_detail = position, f"the chain does not follow at position {position}"
        if position == stop:
            fold.at_stop = fold.head
    return fold


def _check_batch(
    batch_id: int, row: _BatchRow, links: list[tuple[int, str, str]], client: ChainClient, report: AuditReport
) -> None:
    report.counts["batches"] += 1
    record = client.batch_record(row.batch_key)
    fold = _fold(links, record.event_count)
    found: list[tuple[FindingKind, str, int | None]] = []
    if fold.broken_at is not None:
        found.append((FindingKind.BATCH_CHAIN_BROKEN, fold.broken_detail, fold.broken_at))
    if "0x" + fold.head.hex() != row.chain_head or len(links) != row.event_count:
        detail = (
            f"the batch row says {row.event_count} events ending at {row.chain_head}; "
            f"its links are {len(links)} ending at 0x{fold.head.hex()}"
        )
        found.append((FindingKind.BATCH_HEAD_MISMATCH, detail, None))
    if fold.at_stop is None:
        detail = f"the chain counts {record.event_count} events; the ledger has no event at that position"
        found.append((FindingKind.CHAIN_HEAD_MISMATCH, detail, record.event_count))
    elif fold.at_stop != record.head:
        detail = (
            f"after {record.event_count} events the chain holds 0x{record.head.hex()}, "
            f"the ledger folds to 0x{fold.at_stop.hex()}"
        )
        found.append((FindingKind.CHAIN_HEAD_MISMATCH, detail, record.event_count))
    if not record.registered:
        report.counts["batches_unregistered"] += 1
    elif "0x" + record.registration_hash.hex() != row.registration_hash:
        detail = f"the chain registered 0x{record.registration_hash.hex()}, the ledger {row.registration_hash}"
        found.append((FindingKind.REGISTRATION_MISMATCH, detail, None))
    report.counts["batch_events_pending"] += sum(1 for position, _, _ in links if position > record.event_count)
    report.findings.extend(
        Finding(kind, detail, batch_id=batch_id, batch=row.label, position=position) for kind, detail, position in found
    )


def recall_target_findings(session: Session, client: ChainClient) -> list[Finding]:
    """Each recall on chain covers exactly the batches its targets name in the ledger (a deleted target shows)."""
    targets: dict[int, set[str]] = defaultdict(set)
    for recall_id, key in session.execute(
        select(RecallTarget.recall_id, Batch.batch_key).join(Batch, Batch.id == RecallTarget.batch_id)
    ):
        targets[recall_id].add(key)
    findings = []
    for recall_id, chain_recall_id in session.execute(
        select(RecallDetail.recall_id, RecallDetail.chain_recall_id).order_by(RecallDetail.recall_id)
    ):
        record = client.recall_record(bytes.fromhex(chain_recall_id[2:]))
        if record.status == RecallStatus.NONE:
            continue  # not opened on chain yet: its chain job is pending
        on_chain = {"0x" + key.hex() for key in record.batch_keys}
        if on_chain != targets[recall_id]:
            missing, extra = sorted(on_chain - targets[recall_id]), sorted(targets[recall_id] - on_chain)
            detail = f"batches recalled on chain but not targeted: {missing}; targeted but not on chain: {extra}"
            findings.append(
                Finding(
                    FindingKind.RECALL_TARGET_MISMATCH, detail, table="recall_targets", row=f"recall_id={recall_id}"
                )
            )
    return findings
