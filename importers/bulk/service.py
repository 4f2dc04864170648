"""Bulk batch registration: check every row of a sheet, then register them all through ``register_batch``.

All or nothing by default: one bad row and nothing is written, with every problem of every row in the refusal.
With ``skip_invalid`` the valid rows are registered and the others come back in the report as skipped. Rows
already registered with identical declarations are reported unchanged, so importing the same file twice (or a
file that overlaps an earlier one) writes nothing new. Like every service, this never commits.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Final

from sqlalchemy.orm import Session

from importers.bulk.checks import ProgressFn, check_rows
from importers.bulk.layout import RowError, lay_out
from importers.bulk.reading import read_table
from ledger.errors import InvalidInput, PayloadTooLarge, RoleRequired
from ledger.models import Category, Organisation, Role
from ledger.recorder import Signer
from ledger.registry import register_batch

# The sheets are Chinese: "not in the future" means not after today in China (UTC+8 all year, no DST).
CHINA_TIME: Final = timezone(timedelta(hours=8), "Asia/Shanghai")
# A refusal lists this many problems at most (with the total): a sheet with one systematic mistake in 50,000
# rows should not produce a 20 MB answer. Fixing the listed ones and re-uploading shows the next.
MAX_LISTED_ERRORS: Final = 1000


@dataclass(frozen=True)
class ImportLimits:
    max_bytes: int = 20 * 1024 * 1024
    max_rows: int = 50_000


@dataclass(frozen=True)
class ImportedRow:
    row: int
    gtin: str
    lot: str
    batch_id: int

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "gtin": self.gtin, "lot": self.lot, "batch_id": self.batch_id}


@dataclass
class ImportReport:
    flow: Category
    format: str
    encoding: str | None
    sha256: str
    header_row: int
    rows: int
    created: list[ImportedRow] = field(default_factory=list)
    unchanged: list[ImportedRow] = field(default_factory=list)
    skipped: list[RowError] = field(default_factory=list)  # with skip_invalid: the problems of the rows left out
    extra_columns: list[str] = field(default_factory=list)

    @property
    def skipped_rows(self) -> list[int]:
        return sorted({e.row for e in self.skipped})

    @property
    def summary(self) -> str:
        if not self.created and not self.skipped:
            return f"nothing to do: all {len(self.unchanged)} rows are already registered with these declarations"
        parts = [f"{len(self.created)} batches registered", f"{len(self.unchanged)} already registered (unchanged)"]
        if self.skipped:
            parts.append(f"{len(self.skipped_rows)} rows skipped for {len(self.skipped)} problems")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, object]:
        return {
            "flow": self.flow.value,
            "format": self.format,
            "encoding": self.encoding,
            "sha256": self.sha256,
            "header_row": self.header_row,
            "rows": self.rows,
            "summary": self.summary,
            "created": [r.as_dict() for r in self.created],
            "unchanged": [r.as_dict() for r in self.unchanged],
            "skipped_rows": self.skipped_rows,
            "skipped": [e.as_dict() for e in self.skipped],
            "extra_columns": self.extra_columns,
        }


def import_batches(
    session: Session,
    signer: Signer,
    org: Organisation,
    source: bytes | Path,
    *,
    flow: Category | str | None = None,
    skip_invalid: bool = False,
    progress: ProgressFn | None = None,
    today: date | None = None,
    limits: ImportLimits = ImportLimits(),  # frozen, so one shared default is safe
) -> ImportReport:
    """Register the batches of a CSV or XLSX sheet for ``org``; the flow is told by the headers when not given.

    ``progress(phase, done, total)`` is called per row while checking ("checking") and registering
    ("registering"). Refusals are ``InvalidInput`` (``PayloadTooLarge`` for size) whose context lists the
    problems as ``{row, column, value, error, detail}`` with the row and header as the sheet shows them.
    """
    if not org.has_role(Role.PRODUCER):
        raise RoleRequired("only a producer (importer, farm, manufacturer) registers batches", required=["producer"])
    data = _read_source(source, limits.max_bytes)
    table = read_table(data, max_rows=limits.max_rows)
    layout = lay_out(table, _flow(flow))
    checked = check_rows(
        session,
        org,
        layout,
        table.rows,
        today=today or datetime.now(CHINA_TIME).date(),
        total=len(table.rows),
        progress=progress,
    )
    if checked.errors and not skip_invalid:
        raise _refusal(checked.errors, layout.template.flow, rows=len(table.rows))
    report = ImportReport(
        flow=layout.template.flow,
        format=table.format,
        encoding=table.encoding,
        sha256=hashlib.sha256(data).hexdigest(),
        header_row=table.header_row,
        rows=len(table.rows),
        unchanged=[ImportedRow(n, p.gtin, b.lot, b.id) for n, p, b in checked.unchanged],
        skipped=checked.errors,
        extra_columns=list(layout.extra_columns),
    )
    for done, plan in enumerate(checked.planned, start=1):
        batch = register_batch(
            session, signer, org, gtin=plan.product.gtin, lot=plan.lot, quantity=plan.quantity, attrs=plan.attrs
        )
        report.created.append(ImportedRow(plan.row, plan.product.gtin, plan.lot, batch.id))
        if progress:
            progress("registering", done, len(checked.planned))
    return report


def _refusal(errors: Sequence[RowError], flow: Category, *, rows: int) -> InvalidInput:
    """The whole sheet refused for its problems, the first ``MAX_LISTED_ERRORS`` of them listed."""
    rows_with_errors = len({e.row for e in errors})
    return InvalidInput(
        f"{len(errors)} problems in {rows_with_errors} of {rows} rows; nothing was written"
        + (f" (the first {MAX_LISTED_ERRORS} are listed)" if len(errors) > MAX_LISTED_ERRORS else ""),
        flow=flow.value,
        errors=[e.as_dict() for e in errors[:MAX_LISTED_ERRORS]],
        errors_total=len(errors),
        rows_with_errors=rows_with_errors,
    )


def _read_source(source: bytes | Path, max_bytes: int) -> bytes:
    # The API hands over at most max_bytes + 1 bytes of an upload, so the size itself is not always known here.
    if (source.stat().st_size if isinstance(source, Path) else len(source)) > max_bytes:
        raise PayloadTooLarge(
            f"the file is larger than the limit of {max_bytes} bytes (LOTLINE_MAX_UPLOAD_BYTES): split it",
            max_bytes=max_bytes,
        )
    return source.read_bytes() if isinstance(source, Path) else source


def _flow(flow: Category | str | None) -> Category | None:
    if flow is None or isinstance(flow, Category):
        return flow
    try:
        return Category(flow)
    except ValueError:
        choices = ", ".join(c.value for c in Category)
        raise InvalidInput(f"unknown flow {flow!r}: choose one of {choices}", flow=flow) from None
