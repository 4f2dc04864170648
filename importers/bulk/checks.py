"""Every check a row must pass before anything is written, run over the whole sheet so all problems come at once.

Cell checks (check digits, lot characters, whole positive quantities, dates, country codes, the flow's required
declarations) need nothing but the row. Sheet checks need the ledger, and are made with a few set queries rather
than one per row: the product behind each GTIN (it must exist and belong to the sheet's flow), lots repeated in
the file, and lots already registered.

A lot already registered by the same organisation with exactly the same declarations is *unchanged*: that is
what makes re-importing a file a no-op. The comparison is the batch's own registration hash, the SHA-256 of what
was declared that is anchored on chain, so "identical" here means identical there. Keeping idempotency in the
batches themselves (rather than in a table of imported files) also makes a sheet that overlaps an earlier one, or
a batch first registered through the API, import cleanly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Final

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from importers.bulk.cells import Cell, Value, parse_cell
from importers.bulk.layout import Layout, RowError
from ledger.errors import LotlineError
from ledger.models import Batch, Organisation, Product
from ledger.registry import BatchAttributes, registration_hash

ProgressFn = Callable[[str, int, int], None]
# Bounded IN lists: SQLite caps bound parameters, and PostgreSQL plans long lists badly.
_CHUNK: Final = 500
_KEYS: Final = ("gtin", "lot", "quantity")


@dataclass(frozen=True)
class PlannedBatch:
    row: int
    product: Product
    lot: str
    quantity: int
    attrs: BatchAttributes


@dataclass
class Checked:
    planned: list[PlannedBatch] = field(default_factory=list)
    unchanged: list[tuple[int, Product, Batch]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass
class _Row:
    number: int
    values: dict[str, Value | None]
    errors: list[RowError]

    @property
    def key(self) -> tuple[str, str] | None:
        gtin, lot = self.values.get("gtin"), self.values.get("lot")
        return (gtin, lot) if isinstance(gtin, str) and isinstance(lot, str) else None


def check_rows(
    session: Session,
    org: Organisation,
    layout: Layout,
    rows: Iterable[tuple[int, tuple[Cell, ...]]],
    *,
    today: date,
    total: int,
    progress: ProgressFn | None,
) -> Checked:
    """Sort the rows into batches to register, batches already registered as declared, and problems."""
    parsed: list[_Row] = []
    for done, (number, cells) in enumerate(rows, start=1):
        parsed.append(_parse_row(layout, number, cells, today))
        if progress:
            progress("checking", done, total)
    products = _products(session, {r.key[0] for r in parsed if r.key})
    for row in parsed:
        product = products.get(row.key[0]) if row.key else None
        if row.key and product is None:
            _fail(row, layout, "gtin", "UnknownProduct", f"no product with GTIN {row.key[0]} is registered")
        elif product is not None and product.category is not layout.template.flow:
            _fail(row, layout, "gtin", "InvalidInput", f"GTIN {product.gtin} is a {product.category.value} product, "
                  f"not a {layout.template.flow.value} one: import it with that template")  # fmt: skip
    _flag_repeated_lots(parsed, layout)
    existing = _existing_batches(
        session, {(products[r.key[0]].id, r.key[1]) for r in parsed if r.key and r.key[0] in products}
    )
    checked = Checked()
    for row in parsed:
        product = products.get(row.key[0]) if row.key else None
        if row.key is None or product is None:
            checked.errors.extend(row.errors)  # an unreadable or unknown GTIN, or an unreadable lot: already said
            continue
        batch = existing.get((product.id, row.key[1]))
        if batch is not None:
            _compare_with_ledger(row, layout, org, product, batch)
        if row.errors:
            checked.errors.extend(row.errors)
        elif batch is not None:
            checked.unchanged.append((row.number, product, batch))
        else:
            checked.planned.append(_plan(row, product))
    return checked


def _parse_row(layout: Layout, number: int, cells: tuple[Cell, ...], today: date) -> _Row:
    row = _Row(number, {}, [])
    template = layout.template
    for column in template.columns:
        position = layout.index.get(column.key)
        raw = cells[position] if position is not None and position < len(cells) else None
        try:
            value = parse_cell(raw, column)
        except LotlineError as error:
            row.errors.append(RowError(number, layout.header[column.key], str(raw), error.reason, error.detail))
            continue
        if value is None and column.key in template.required:
            _fail(row, layout, column.key, "InvalidInput", f"{column.zh} ({column.key}) is required and is empty")
        row.values[column.key] = value
    for key in ("production_date", "harvest_date"):
        day = row.values.get(key)
        if isinstance(day, date) and day > today:
            _fail(row, layout, key, "InvalidInput", f"{day} is in the future (today is {today})")
    expiry = row.values.get("expiry_date")
    for key in ("production_date", "harvest_date"):
        start = row.values.get(key)
        if isinstance(expiry, date) and isinstance(start, date) and expiry < start:
            _fail(
                row,
                layout,
                "expiry_date",
                "InvalidInput",
                f"expiry date {expiry} is before {layout.header[key]} {start}",
            )
    return row


def _fail(row: _Row, layout: Layout, key: str, error: str, detail: str) -> None:
    value = row.values.get(key)
    shown = None if value is None else str(value)
    row.errors.append(RowError(row.number, layout.header.get(key), shown, error, detail))


def _flag_repeated_lots(parsed: list[_Row], layout: Layout) -> None:
    """Every repeat of a lot is an error; the first occurrence too when the repeats disagree with it, since
    then nobody can tell which row is right (and ``skip_invalid`` must not pick one)."""
    groups: dict[tuple[str, str], list[_Row]] = {}
    for row in parsed:
        if row.key:
            groups.setdefault(row.key, []).append(row)
    for (gtin, lot), rows in groups.items():
        first, *later = rows
        for row in later:
            _fail(row, layout, "lot", "InvalidInput", f"lot {lot} of GTIN {gtin} is already on row {first.number}")
        if any(r.values != first.values for r in later):
            numbers = ", ".join(str(r.number) for r in later)
            _fail(
                first,
                layout,
                "lot",
                "InvalidInput",
                f"lot {lot} of GTIN {gtin} is repeated on row(s) {numbers} with different values",
            )


def _compare_with_ledger(row: _Row, layout: Layout, org: Organisation, product: Product, batch: Batch) -> None:
    lot = batch.lot
    if batch.registrant_org_id != org.id:
        _fail(
            row,
            layout,
            "lot",
            "AlreadyExists",
            f"lot {lot} of GTIN {product.gtin} is already registered by another organisation",
        )
        return
    if row.errors:
        return  # the row cannot be compared until it reads; its own errors say why
    planned = _plan(row, product)
    if registration_hash(product, lot, org, planned.quantity, planned.attrs) == batch.registration_hash:
        return
    differences = (
        [f"quantity (ledger {batch.quantity}, file {planned.quantity})"] if batch.quantity != planned.quantity else []
    )
    for name, declared in asdict(planned.attrs).items():
        registered = getattr(batch, name, None)
        if name != "extra" and registered != declared:
            differences.append(f"{name} (ledger {registered}, file {declared})")
    _fail(row, layout, "lot", "AlreadyExists", f"lot {lot} of GTIN {product.gtin} is already registered with different "
          f"declarations: {'; '.join(differences) or 'unit or registrant changed'}")  # fmt: skip


def _plan(row: _Row, product: Product) -> PlannedBatch:
    declared: dict[str, Any] = {k: v for k, v in row.values.items() if k not in _KEYS}
    lot, quantity = row.values["lot"], row.values["quantity"]
    assert isinstance(lot, str)  # a row without errors has both
    assert isinstance(quantity, int)
    return PlannedBatch(row.number, product, lot, quantity, BatchAttributes(**declared))


def _products(session: Session, gtins: set[str]) -> dict[str, Product]:
    found: dict[str, Product] = {}
    ordered = sorted(gtins)
    for i in range(0, len(ordered), _CHUNK):
        found.update(
            (p.gtin, p) for p in session.scalars(select(Product).where(Product.gtin.in_(ordered[i : i + _CHUNK])))
        )
    return found


def _existing_batches(session: Session, keys: set[tuple[int, str]]) -> dict[tuple[int, str], Batch]:
    found: dict[tuple[int, str], Batch] = {}
    ordered = sorted(keys)
    for i in range(0, len(ordered), _CHUNK):
        chunk = ordered[i : i + _CHUNK]
        query = select(Batch).where(tuple_(Batch.product_id, Batch.lot).in_(chunk))
        found.update(((b.product_id, b.lot), b) for b in session.scalars(query))
    return found
