"""The journey of a batch or an item: its events in time order, with who, where, how much, and anchoring state.

An item's journey is its own scans (directly, or inside a case or pallet) plus the facts of its batch
(registration, documents, inspections). An item that was never scanned on its own travelled with its batch, so
its journey is the batch's. Redaction for an audience (consumer, counterparty, regulator) is the caller's job:
``Step`` carries everything, and ``Step.public()`` the consumer's view.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from ledger import terms
from ledger.models import (
    Anchor,
    AnchorStatus,
    Batch,
    Code,
    Event,
    EventBatch,
    EventEpc,
    Location,
    Movement,
    MovementKind,
    Organisation,
    Product,
)

# Steps that say something about the whole batch, so they belong to every item's journey too.
BATCH_FACTS = frozenset({"commissioning", "inspecting"})


@dataclass
class Party:
    id: int
    name: str
    roles: list[str]


@dataclass
class Step:
    event_id: str
    event_type: str
    event_time: datetime
    biz_step: str | None
    disposition: str | None
    by: Party
    location: str | None
    region_code: str | None
    movements: list[dict[str, Any]] = field(default_factory=list)
    anchored: bool = False
    block_number: int | None = None
    tx_hash: str | None = None
    merkle_root: str | None = None
    # The organisations that took part, by id: the recorder and every sender and receiver of its movements.
    party_ids: frozenset[int] = frozenset()

    @property
    def what(self) -> str | None:
        """The step as a reader names it: its CBV step, except that commissioning is two things on a batch's
        journey — the batch's registration (its quantity comes into being: a commission movement) and an issue of
        item codes (codes for goods already registered: no movement)."""
        step = _short(self.biz_step)
        if step != "commissioning":
            return step
        registers = any(m["kind"] == MovementKind.COMMISSION.value for m in self.movements)
        return "registration" if registers else "code_issuance"

    def public(self) -> dict[str, Any]:
        """What a consumer sees: what happened, when, where (city level), by whom; no quantities or partners' ids."""
        return {
            "event_id": self.event_id,
            "time": self.event_time.isoformat(),
            "step": _short(self.biz_step),
            "what": self.what,
            "disposition": _short(self.disposition),
            "by": {"name": self.by.name, "roles": self.by.roles},
            "region_code": self.region_code,
            "anchored": self.anchored,
            "block_number": self.block_number,
            "tx_hash": self.tx_hash,
        }

    def full(self) -> dict[str, Any]:
        return {
            **self.public(),
            "event_type": self.event_type,
            "location": self.location,
            "movements": self.movements,
            "merkle_root": self.merkle_root,
        }


def _short(term: str | None) -> str | None:
    return term.rsplit("-", 1)[-1] if term and term.startswith("https://ref.gs1.org/cbv/") else term


def batch_journey(session: Session, batch_id: int) -> list[Step]:
    seqs = list(session.scalars(select(EventBatch.event_seq).where(EventBatch.batch_id == batch_id)))
    return _steps(session, seqs, batch_id)


def item_journey(session: Session, code: Code) -> list[Step]:
    """The item's own events (by its EPC, or its containers'), plus its batch's facts.

    Found through ``event_epcs`` (``ledger.epc_index``), never by decoding documents: an event naming the item
    (in its EPC list, as a child, as an input) is the item's; an aggregation with the item among its children makes
    its parent a container of the item, whose events from then on are the item's too."""
    if code.batch_id is None:
        return []
    batch = session.get(Batch, code.batch_id)
    assert batch is not None
    product = session.get(Product, batch.product_id)
    assert product is not None
    assert code.serial is not None
    chosen = _events_naming(session, batch.id, terms.item_epc(product.gtin, code.serial), since=0)
    if not chosen:
        return batch_journey(session, batch.id)
    packed_into = session.execute(
        select(EventEpc.epc, func.min(EventEpc.event_seq))
        .where(EventEpc.event_seq.in_([seq for seq, role in chosen.items() if role == "child"]))
        .where(EventEpc.role == "parent")
        .group_by(EventEpc.epc)
    ).all()
    for container, since in packed_into:
        chosen |= _events_naming(session, batch.id, container, since=since)
    return _steps(session, sorted(set(chosen) | set(_batch_facts(session, batch.id))), batch.id)


_NAMING_ROLES: Final = ("list", "child", "input")
_FACT_STEPS: Final = [form for step in BATCH_FACTS for form in (step, f"https://ref.gs1.org/cbv/BizStep-{step}")]


def _events_naming(session: Session, batch_id: int, epc: str, *, since: int) -> dict[int, str]:
    """The batch's events from ``since`` on that name ``epc`` (not as a parent), with the role it has there."""
    rows = session.execute(
        select(EventEpc.event_seq, EventEpc.role)
        .join(EventBatch, (EventBatch.event_seq == EventEpc.event_seq) & (EventBatch.batch_id == batch_id))
        .where(EventEpc.epc == epc, EventEpc.role.in_(_NAMING_ROLES), EventEpc.event_seq >= since)
    ).all()
    # An EPC both listed and a child in one event counts as a child: that event packs it into a container.
    return dict(sorted(rows, key=lambda row: row[1] == "child"))


def _batch_facts(session: Session, batch_id: int) -> list[int]:
    """The batch's commissioning and inspections that name no EPC list: facts about every item of the batch."""
    lists = select(EventEpc.event_seq).where(EventEpc.event_seq == Event.seq, EventEpc.role == "list")
    return list(
        session.scalars(
            select(Event.seq)
            .join(EventBatch, EventBatch.event_seq == Event.seq)
            .where(EventBatch.batch_id == batch_id, Event.biz_step.in_(_FACT_STEPS), ~lists.exists())
        )
    )


def event_step(session: Session, event_seq: int) -> Step | None:
    """One event as a step (its movements in every batch it touched): the proof page's "what was recorded"."""
    steps = _steps(session, [event_seq], None)
    return steps[0] if steps else None


def _steps(session: Session, seqs: list[int], batch_id: int | None) -> list[Step]:
    if not seqs:
        return []
    # The documents stay unread: a code issuance's lists ten thousand EPCs, and a step shows none of them.
    events = session.scalars(
        select(Event)
        .options(defer(Event.document), defer(Event.merkle_proof))
        .where(Event.seq.in_(seqs))
        .order_by(Event.event_time, Event.seq)
    ).all()
    org_ids = {e.org_id for e in events}
    moves: dict[int, list[Movement]] = defaultdict(list)
    movements = select(Movement).where(Movement.event_seq.in_(seqs))
    if batch_id is not None:
        movements = movements.where(Movement.batch_id == batch_id)
    for move in session.scalars(movements):
        moves[move.event_seq].append(move)
        org_ids.update(i for i in (move.from_org_id, move.to_org_id) if i is not None)
    orgs = {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(org_ids)))}
    location_ids = {e.location_id for e in events if e.location_id is not None}
    locations = {loc.id: loc for loc in session.scalars(select(Location).where(Location.id.in_(location_ids)))}
    anchor_ids = {e.anchor_id for e in events if e.anchor_id is not None}
    anchors = {a.id: a for a in session.scalars(select(Anchor).where(Anchor.id.in_(anchor_ids)))}
    steps = []
    for event in events:
        org = orgs[event.org_id]
        location = locations.get(event.location_id) if event.location_id is not None else None
        anchor = anchors.get(event.anchor_id) if event.anchor_id is not None else None
        confirmed = anchor is not None and anchor.status is AnchorStatus.CONFIRMED
        steps.append(
            Step(
                event_id=event.event_id,
                event_type=event.event_type,
                event_time=event.event_time,
                biz_step=event.biz_step,
                disposition=event.disposition,
                by=Party(org.id, org.name, list(org.roles)),
                location=location.name if location else None,
                region_code=location.region_code if location else None,
                movements=[
                    {
                        "kind": m.kind.value,
                        "quantity": m.quantity,
                        "from": orgs[m.from_org_id].name if m.from_org_id else None,
                        "to": orgs[m.to_org_id].name if m.to_org_id else None,
                        "shipment_id": m.shipment_id,
                    }
                    for m in moves.get(event.seq, [])
                ],
                anchored=confirmed,
                block_number=anchor.block_number if confirmed and anchor else None,
                tx_hash=anchor.tx_hash if confirmed and anchor else None,
                merkle_root=anchor.merkle_root if anchor else None,
                party_ids=frozenset(
                    {org.id}
                    | {i for m in moves.get(event.seq, []) for i in (m.from_org_id, m.to_org_id) if i is not None}
                ),
            )
        )
    return steps
