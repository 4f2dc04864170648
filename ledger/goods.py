"""Resolving and locking the goods a scan names: item codes, logistic units (SSCC) and batch quantities.

Every scan names goods either by code (an item, or a case/pallet whose contents move with it) or by batch and
quantity. This module turns those names into locked rows and the rule snapshots of ``ledger.rules``; it writes
nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ledger.errors import UnknownBatch, UnknownCode
from ledger.identifiers import DigitalLink, normalize_gtin, validate_lot
from ledger.models import Batch, Code, CodeKind, Hold, Holding, Product, Recall, RecallStatus, RecallTarget, utcnow
from ledger.rules import BatchState, ItemState, require_distinct, require_quantity


@dataclass(frozen=True, slots=True)
class BatchLine:
    gtin: str
    lot: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Goods:
    """What a scan names: codes (items or SSCCs) and/or batch quantities."""

    codes: tuple[DigitalLink, ...] = ()
    lines: tuple[BatchLine, ...] = ()


@dataclass
class ResolvedGoods:
    top_codes: list[Code] = field(default_factory=list)  # the codes as scanned
    items: list[Code] = field(default_factory=list)  # every item code moved, contents of SSCCs included
    containers: list[Code] = field(default_factory=list)  # every SSCC moved, nested ones included
    lines: list[tuple[Batch, int]] = field(default_factory=list)
    batches: dict[int, Batch] = field(default_factory=dict)
    products: dict[int, Product] = field(default_factory=dict)

    def quantity_by_batch(self) -> Counter[int]:
        totals: Counter[int] = Counter()
        for item in self.items:
            if item.batch_id is not None:
                totals[item.batch_id] += 1
        for batch, quantity in self.lines:
            totals[batch.id] += quantity
        return totals


def label_of(batch: Batch, product: Product) -> str:
    return f"(01){product.gtin}(10){batch.lot}"


def code_label(code: Code, batches: dict[int, Batch], products: dict[int, Product]) -> str:
    if code.kind is CodeKind.SSCC:
        return f"(00){code.sscc}"
    batch = batches[code.batch_id] if code.batch_id is not None else None
    if batch is None:
        return f"code {code.id}"
    return f"{label_of(batch, products[batch.product_id])}(21){code.serial}"


def resolve(session: Session, goods: Goods) -> ResolvedGoods:
    """Find and lock every row a scan touches, batches in id order so concurrent scans cannot deadlock."""
    require_distinct((link.path for link in goods.codes), what="code")
    resolved = ResolvedGoods()
    batch_ids: set[int] = set()
    for link in goods.codes:
        code = _find_code(session, link)
        resolved.top_codes.append(code)
    _expand(session, resolved.top_codes, resolved)
    batch_ids.update(c.batch_id for c in resolved.items if c.batch_id is not None)
    line_batches: list[tuple[int, int]] = []
    for line in goods.lines:
        quantity = require_quantity(line.quantity)
        batch_id = find_batch_id(session, line.gtin, line.lot)
        batch_ids.add(batch_id)
        line_batches.append((batch_id, quantity))
    resolved.batches = lock_batches(session, batch_ids)
    resolved.lines = [(resolved.batches[bid], qty) for bid, qty in line_batches]
    product_ids = {b.product_id for b in resolved.batches.values()}
    resolved.products = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(product_ids)))}
    return resolved


def find_batch_id(session: Session, gtin: str, lot: str) -> int:
    gtin, lot = normalize_gtin(gtin), validate_lot(lot)
    batch_id = session.scalar(
        select(Batch.id).join(Product, Product.id == Batch.product_id).where(Product.gtin == gtin, Batch.lot == lot)
    )
    if batch_id is None:
        raise UnknownBatch(f"no batch (01){gtin}(10){lot} is registered", gtin=gtin, lot=lot)
    return batch_id


def lock_batches(session: Session, batch_ids: Iterable[int]) -> dict[int, Batch]:
    ordered = sorted(set(batch_ids))
    if not ordered:
        return {}
    # populate_existing: a batch read earlier in this transaction (a code's lot check) may have changed before
    # the lock was granted; its chain head and event count must be the locked row's, not the identity map's.
    rows = session.scalars(
        select(Batch)
        .where(Batch.id.in_(ordered))
        .order_by(Batch.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return {batch.id: batch for batch in rows}


def lock_holding(session: Session, org_id: int, batch_id: int) -> Holding | None:
    # populate_existing: the locked row's counters, not those of a copy read earlier in this transaction.
    return session.scalar(
        select(Holding)
        .where(Holding.org_id == org_id, Holding.batch_id == batch_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


def holding_for_update(session: Session, org_id: int, batch_id: int) -> Holding:
    holding = lock_holding(session, org_id, batch_id)
    if holding is None:
        holding = Holding(
            org_id=org_id,
            batch_id=batch_id,
            on_hand=0,
            received=0,
            shipped=0,
            consumed=0,
            destroyed=0,
            transformed=0,
            updated_at=utcnow(),
        )
        session.add(holding)
    return holding


def batch_state(session: Session, batch: Batch, product: Product, org_id: int) -> BatchState:
    recalls = session.scalars(
        select(Recall.number)
        .join(RecallTarget, RecallTarget.recall_id == Recall.id)
        .where(RecallTarget.batch_id == batch.id, Recall.status == RecallStatus.OPEN, RecallTarget.code_id.is_(None))
        .distinct()
    ).all()
    holds = session.scalars(
        select(Hold.reason)
        .where(Hold.batch_id == batch.id, Hold.released_at.is_(None), or_(Hold.org_id.is_(None), Hold.org_id == org_id))
        .order_by(Hold.id)
    ).all()
    return BatchState(
        batch_id=batch.id,
        label=label_of(batch, product),
        expiry_date=batch.expiry_date,
        open_recall_numbers=tuple(sorted(recalls)),
        held_for_org=bool(holds),
        hold_reasons=tuple(holds),
    )


def recalled_codes(session: Session, code_ids: Sequence[int]) -> dict[int, str]:
    """Codes recalled one by one (a recall can target single items), with the recall number."""
    if not code_ids:
        return {}
    rows = session.execute(
        select(RecallTarget.code_id, Recall.number)
        .join(Recall, Recall.id == RecallTarget.recall_id)
        .where(RecallTarget.code_id.in_(code_ids), Recall.status == RecallStatus.OPEN)
    )
    return {code_id: number for code_id, number in rows if code_id is not None}


def item_state(code: Code, label: str) -> ItemState:
    return ItemState(
        code_id=code.id,
        label=label,
        batch_id=code.batch_id,
        status=code.status,
        holder_org_id=code.holder_org_id,
        shipment_id=code.shipment_id,
    )


def _find_code(session: Session, link: DigitalLink) -> Code:
    if link.sscc is not None:
        code = session.scalar(select(Code).where(Code.sscc == link.sscc).with_for_update())
    elif link.gtin is not None and link.serial is not None:
        code = session.scalar(
            select(Code)
            .join(Batch, Batch.id == Code.batch_id)
            .join(Product, Product.id == Batch.product_id)
            .where(Product.gtin == link.gtin, Code.serial == link.serial, Code.kind == CodeKind.ITEM)
            .with_for_update()
        )
        if code is not None and link.lot is not None:
            batch = session.get(Batch, code.batch_id)
            if batch is None or batch.lot != link.lot:
                code = None  # a serial printed with another lot is not the code we issued
    else:
        raise UnknownCode(f"{link.path} does not name an item or a logistic unit", code=link.path)
    if code is None:
        raise UnknownCode(f"{link.path} was never issued on this network", code=link.path)
    return code


def _expand(session: Session, codes: Sequence[Code], into: ResolvedGoods) -> None:
    """Collect items and containers, following aggregation (pallet → case → item) to any depth."""
    frontier = list(codes)
    seen: set[int] = set()
    while frontier:
        next_ids: list[int] = []
        for code in frontier:
            if code.id in seen:
                continue
            seen.add(code.id)
            if code.kind is CodeKind.SSCC:
                into.containers.append(code)
                next_ids.append(code.id)
            else:
                into.items.append(code)
        frontier = (
            list(session.scalars(select(Code).where(Code.parent_id.in_(next_ids)).order_by(Code.id).with_for_update()))
            if next_ids
            else []
        )
