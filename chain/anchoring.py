"""The anchoring service: outbox rows → one Merkle root and the batches' heads on chain → a proof per event.

One run has two steps, each with its own short transactions (on SQLite a transaction holds the database's
write lock, so none stays open while the chain works):

1. **claim** — the oldest unanchored outbox rows that :mod:`chain.admission` admitted (signature verified) are
   taken in ``seq`` order (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so concurrent workers never claim the same
   rows), the Merkle tree is built over their event digests, and an :class:`~ledger.models.Anchor` row (status
   pending, with its root) is committed with the outbox rows' link to it. From then on the anchor's content is
   fixed: it is *the outbox rows that point at it*; a run that resumes it recomputes root, heads and proofs.
2. **finish** — the root and the heads go on chain (:meth:`ChainClient.anchor`, idempotent: a root already on
   chain is not sent again), then every event gets its anchor, leaf index and proof, and the anchor is
   marked confirmed. An event's proof is only written once its root is on chain, so a reader that finds
   ``events.anchor_id`` set may show the proof.

A worker that dies between the two steps leaves a pending anchor, and the next run finishes it before it
claims anything new. That order is what keeps each batch's head on chain moving forward only: a newer head
is never sent while an older one still waits. (Should two workers race anyway, the contract refuses a head
that does not move forward and the client drops it, so the chain never steps back.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Final

from eth_utils.address import to_checksum_address
from sqlalchemy import Engine, and_, bindparam, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from chain.admission import admit
from chain.artifacts import ContractReverted, HeadUpdate
from chain.client import AnchorReceipt, ChainClient
from ledger.errors import Conflict
from ledger.event_hash import hash_digest
from ledger.merkle import MerkleTree, keccak256
from ledger.models import Anchor, AnchorStatus, Batch, Event, EventBatch, OutboxEntry, utcnow
from ledger.signing import SigningDomain

PROOF_WRITE_CHUNK: Final = 5_000
"""Events whose proofs are written per transaction: short enough not to hold SQLite's write lock for long."""
_ANCHOR_LOCK_SPACE: Final = 0x4C4F54  # "LOT": the first key of PostgreSQL advisory locks on anchors
_LOCK_ARGS: Final = "CAST(:space AS integer), CAST(:id AS integer)"
_WRITE_PROOF: Final = (
    "UPDATE events SET anchor_id = %s, merkle_index = %s, merkle_proof = CAST(%s AS json) WHERE seq = %s",
    "UPDATE events SET anchor_id = ?, merkle_index = ?, merkle_proof = ? WHERE seq = ?",
)
"""The proof write in the driver's own parameter style: ``format`` (psycopg), ``qmark`` (sqlite3)."""
_EVENTS_ANCHORED_TOPIC: Final = keccak256(b"EventsAnchored(bytes32,uint64,uint256)")


@dataclass(frozen=True)
class AnchoredRoot:
    """One anchor brought to confirmed by this run."""

    anchor_id: int
    merkle_root: str
    event_count: int
    batch_count: int
    transactions: int
    """Transactions this run sent for it: 0 when an earlier, interrupted run had already landed the root."""
    tx_hash: str | None
    block_number: int
    resumed: bool
    """The anchor was claimed by an earlier run that did not finish it."""
    seconds_on_chain: float
    """Wall time from sending the anchor to holding its receipt (the proofs are computed meanwhile)."""


@dataclass(frozen=True)
class AnchorResult:
    """What one :func:`anchor_pending` run confirmed, for logs and metrics."""

    anchors: tuple[AnchoredRoot, ...]

    @property
    def events(self) -> int:
        return sum(a.event_count for a in self.anchors)

    @property
    def batches(self) -> int:
        return sum(a.batch_count for a in self.anchors)

    @property
    def transactions(self) -> int:
        return sum(a.transactions for a in self.anchors)

    @property
    def resumed(self) -> int:
        return sum(1 for a in self.anchors if a.resumed)


@dataclass(frozen=True)
class _Plan:
    """An anchor's content: its events in ``seq`` order, their Merkle tree, the batches' new heads."""

    anchor_id: int
    seqs: list[int]
    tree: MerkleTree
    heads: list[HeadUpdate]


def anchor_pending(
    session_factory: sessionmaker[Session],
    client: ChainClient,
    anchorer_key: bytes,
    *,
    domain: SigningDomain,
    max_events: int = 20_000,
    max_gas_per_tx: int | None = None,
) -> AnchorResult | None:
    """Finish every pending anchor, then anchor up to ``max_events`` new events; None if there was nothing.

    Raises :class:`chain.client.ChainUnavailable` (or a contract error) when the chain does not take the
    anchor; what was claimed stays pending and the next run finishes it. Raises :class:`Conflict` when a
    pending anchor's events no longer hash to its root: the ledger was edited, and anchoring stops until
    someone looks (``lotline verify`` says what changed). Events whose signatures do not verify under
    ``domain`` are refused, never anchored.
    """
    done: list[AnchoredRoot] = []
    for anchor_id in pending_anchor_ids(session_factory):
        root = finish_anchor(session_factory, client, anchorer_key, anchor_id, max_gas_per_tx)
        if root is not None:
            done.append(root)
    plan = _claim(session_factory, max_events, admit(session_factory, domain, max_events=max_events))
    if plan is not None:
        root = _finish(session_factory, client, anchorer_key, plan.anchor_id, max_gas_per_tx, fresh=plan)
        if root is not None:
            done.append(root)
    return AnchorResult(tuple(done)) if done else None


def pending_anchor_ids(session_factory: sessionmaker[Session]) -> list[int]:
    """Anchors claimed but not confirmed, oldest first: the order their heads must reach the chain."""
    with session_factory() as session:
        ids = session.scalars(
            select(Anchor.id).where(Anchor.status != AnchorStatus.CONFIRMED).order_by(Anchor.id)
        ).all()
        session.commit()
    return list(ids)


def claim(session_factory: sessionmaker[Session], *, domain: SigningDomain, max_events: int = 20_000) -> int | None:
    """Commit a pending anchor over the oldest admitted outbox rows; its id, or None if there are none."""
    plan = _claim(session_factory, max_events, admit(session_factory, domain, max_events=max_events))
    return None if plan is None else plan.anchor_id


def finish_anchor(
    session_factory: sessionmaker[Session],
    client: ChainClient,
    anchorer_key: bytes,
    anchor_id: int,
    max_gas_per_tx: int | None = None,
) -> AnchoredRoot | None:
    """Put a claimed anchor on chain and write its events' proofs.

    None if the anchor is already confirmed, or another worker is finishing it right now.
    """
    return _finish(session_factory, client, anchorer_key, anchor_id, max_gas_per_tx, fresh=None)


def anchoring_lag(session: Session) -> int:
    """Events whose anchor is not confirmed yet (unclaimed, or claimed and on their way); refused ones aside."""
    unclaimed = OutboxEntry.anchor_id.is_(None) & OutboxEntry.refused_at.is_(None)
    lag = session.scalar(
        select(func.count())
        .select_from(OutboxEntry)
        .outerjoin(Anchor, Anchor.id == OutboxEntry.anchor_id)
        .where(unclaimed | (Anchor.status != AnchorStatus.CONFIRMED))
    )
    return int(lag or 0)


@contextmanager
def _finishing(session_factory: sessionmaker[Session], anchor_id: int) -> Iterator[bool]:
    """Whether this worker may finish ``anchor_id``: on PostgreSQL, holds an advisory lock meanwhile.

    A row lock would not do: the confirmation updates that very row from another session. The advisory lock
    lives on one connection held for the duration (the pool would hand a session's connection to others).
    SQLite has no such lock (its only lock is the write lock, which must not be held across a chain round
    trip); there two workers finishing one anchor are told apart by the chain, which takes a root once.
    """
    with session_factory() as session:
        engine = session.get_bind()
    if not isinstance(engine, Engine) or engine.dialect.name != "postgresql":
        yield True
        return
    key = {"space": _ANCHOR_LOCK_SPACE, "id": anchor_id & 0x7FFFFFFF}
    with engine.connect() as conn:
        locked = bool(conn.scalar(text(f"SELECT pg_try_advisory_lock({_LOCK_ARGS})"), key))
        conn.commit()
        try:
            yield locked
        finally:
            if locked:
                conn.execute(text(f"SELECT pg_advisory_unlock({_LOCK_ARGS})"), key)
                conn.commit()


def _claim(session_factory: sessionmaker[Session], max_events: int, admitted: set[int]) -> _Plan | None:
    if not admitted:
        return None
    with session_factory() as session:  # rows committed since the check (PostgreSQL) wait for the next run
        rows = session.execute(
            select(OutboxEntry.id, Event.seq, Event.event_id)
            .join(Event, Event.seq == OutboxEntry.event_seq)
            .where(
                OutboxEntry.anchor_id.is_(None),
                OutboxEntry.refused_at.is_(None),
                OutboxEntry.event_seq.between(min(admitted), max(admitted)),
            )
            .order_by(OutboxEntry.event_seq)
            .limit(max_events)
            .with_for_update(of=OutboxEntry, skip_locked=True)
        ).all()
        rows = [row for row in rows if row[1] in admitted]
        if not rows:
            session.commit()
            return None
        tree = MerkleTree.build([hash_digest(event_id) for _, _, event_id in rows])
        anchor = Anchor(
            merkle_root="0x" + tree.root.hex(),
            event_count=len(rows),
            batch_count=0,
            status=AnchorStatus.PENDING,
        )
        session.add(anchor)
        session.flush()
        # Core executemany: the ORM's bulk UPDATE by primary key costs several times more per row.
        session.connection().execute(
            update(OutboxEntry).where(OutboxEntry.id == bindparam("b_id")).values(anchor_id=anchor.id),
            [{"b_id": outbox_id} for outbox_id, _, _ in rows],
        )
        heads = _heads(session, anchor.id)
        anchor.batch_count = len(heads)
        session.commit()
        return _Plan(anchor.id, [seq for _, seq, _ in rows], tree, heads)


def _finish(
    session_factory: sessionmaker[Session],
    client: ChainClient,
    anchorer_key: bytes,
    anchor_id: int,
    max_gas_per_tx: int | None,
    *,
    fresh: _Plan | None,
) -> AnchoredRoot | None:
    """Finish ``anchor_id``: from ``fresh`` when this run just claimed it, else from what the ledger holds."""
    with _finishing(session_factory, anchor_id) as ours:
        if not ours:
            return None
        plan = fresh or _plan(session_factory, anchor_id)
        if plan is None:
            return None
        started = time.perf_counter()
        # The proofs are computed while the chain mines: the wait is I/O, the proofs are CPU.
        with ThreadPoolExecutor(1, thread_name_prefix="lotline-anchor") as chain_side:
            landing = chain_side.submit(_land, client, anchorer_key, plan, max_gas_per_tx)
            proofs = _proof_rows(plan)
            receipt, sent = landing.result()
        tx_hash = receipt.tx_hash or _root_tx(client, plan.tree.root, receipt.block_number)
        on_chain = time.perf_counter() - started
        _record_proofs(session_factory, proofs)
        with session_factory() as session:
            session.execute(
                update(Anchor)
                .where(Anchor.id == anchor_id)
                .values(
                    status=AnchorStatus.CONFIRMED,
                    tx_hash=None if tx_hash is None else "0x" + tx_hash.hex(),
                    block_number=receipt.block_number,
                    chain_id=client.chain_id(),
                    contract_address=client.contract_address,
                    confirmed_at=utcnow(),
                )
            )
            session.commit()
    return AnchoredRoot(
        anchor_id,
        "0x" + plan.tree.root.hex(),
        len(plan.seqs),
        len(plan.heads),
        sent,
        None if tx_hash is None else "0x" + tx_hash.hex(),
        receipt.block_number,
        fresh is None,
        on_chain,
    )


def _plan(session_factory: sessionmaker[Session], anchor_id: int) -> _Plan | None:
    with session_factory() as session:
        anchor = session.get(Anchor, anchor_id)
        if anchor is None or anchor.status == AnchorStatus.CONFIRMED:
            session.commit()
            return None
        rows = session.execute(
            select(Event.seq, Event.event_id)
            .join(OutboxEntry, OutboxEntry.event_seq == Event.seq)
            .where(OutboxEntry.anchor_id == anchor_id)
            .order_by(Event.seq)
        ).all()
        heads = _heads(session, anchor_id)
        session.commit()
    tree = MerkleTree.build([hash_digest(event_id) for _, event_id in rows])
    if "0x" + tree.root.hex() != anchor.merkle_root:
        raise Conflict(
            f"anchor {anchor_id}'s outbox rows no longer hash to its root {anchor.merkle_root}: "
            "the ledger was changed after the anchor was claimed; run `lotline verify`",
            anchor_id=anchor_id,
        )
    return _Plan(anchor_id, [seq for seq, _ in rows], tree, heads)


def _heads(session: Session, anchor_id: int) -> list[HeadUpdate]:
    """Each touched batch's head and count as of its last event in this anchor.

    Read from the hash-chain links, not from ``batches.chain_head``: scans taken since the claim may already
    have moved that further, and those events belong to a later anchor.
    """
    last = (
        select(EventBatch.batch_id, func.max(EventBatch.position).label("position"))
        .join(OutboxEntry, OutboxEntry.event_seq == EventBatch.event_seq)
        .where(OutboxEntry.anchor_id == anchor_id)
        .group_by(EventBatch.batch_id)
        .subquery()
    )
    rows = session.execute(
        select(Batch.batch_key, EventBatch.head, EventBatch.position)
        .join(last, and_(last.c.batch_id == EventBatch.batch_id, last.c.position == EventBatch.position))
        .join(Batch, Batch.id == EventBatch.batch_id)
        .order_by(EventBatch.batch_id)
    ).all()
    return [HeadUpdate(bytes.fromhex(key[2:]), bytes.fromhex(head[2:]), int(count)) for key, head, count in rows]


def _land(
    client: ChainClient, anchorer_key: bytes, plan: _Plan, max_gas_per_tx: int | None
) -> tuple[AnchorReceipt, int]:
    """The receipt of the root's transaction and how many transactions were sent to land it."""
    root = plan.tree.root
    try:
        receipts = client.anchor(anchorer_key, root, len(plan.seqs), plan.heads, max_gas_per_tx=max_gas_per_tx)
    except ContractReverted as exc:
        # Another worker landed this very root between our check and our transaction: the work is done.
        landed = client.root_record(root)
        if exc.error != "LotlineAnchorRootAlreadyAnchored" or not landed.anchored:
            raise
        return AnchorReceipt(root, None, landed.block_number, 0, 0, landed.event_total, False), 0
    return receipts[-1], sum(1 for r in receipts if r.tx_hash is not None)


def _root_tx(client: ChainClient, root: bytes, block_number: int) -> bytes | None:
    """The transaction that anchored ``root`` in ``block_number``, from its ``EventsAnchored`` log.

    Needed when an interrupted run had sent it: the proof shown to consumers names the transaction.
    """
    logs = client.w3.eth.get_logs(
        {
            "address": to_checksum_address(client.contract_address),
            "fromBlock": block_number,
            "toBlock": block_number,
            "topics": ["0x" + _EVENTS_ANCHORED_TOPIC.hex(), "0x" + root.hex()],
        }
    )
    return bytes(logs[0]["transactionHash"]) if logs else None


def _proof_rows(plan: _Plan) -> list[tuple[int, int, str, int]]:
    """``(anchor id, leaf index, proof as JSON, seq)`` per event, the parameters of :data:`_WRITE_PROOF`.

    The JSON is joined by hand: a proof is a flat list of hex strings, and ``json.dumps`` per row cost more
    than the database write itself.
    """
    return [(plan.anchor_id, index, _proof_json(plan.tree.proof(index)), seq) for index, seq in enumerate(plan.seqs)]


def _record_proofs(session_factory: sessionmaker[Session], proofs: list[tuple[int, int, str, int]]) -> None:
    """Write each event's anchor, leaf index and proof; rewriting them after a crash gives the same rows.

    Straight to the driver's ``executemany``: SQLAlchemy's per-row parameter processing tripled the cost of
    the largest write anchoring does (one row per event).
    """
    for start in range(0, len(proofs), PROOF_WRITE_CHUNK):
        with session_factory() as session:
            connection = session.connection()
            sql = _WRITE_PROOF[connection.dialect.paramstyle == "qmark"]
            connection.exec_driver_sql(sql, proofs[start : start + PROOF_WRITE_CHUNK])
            session.commit()


def _proof_json(proof: Sequence[bytes]) -> str:
    """``["0x…", …]``: the proof as the ``merkle_proof`` column holds it (``[]`` for a one-event anchor)."""
    return "[" + ",".join(f'"0x{node.hex()}"' for node in proof) + "]"
