"""Which column holds which field, and which flow's template a sheet follows.

Problems with the header row are problems of the whole file (a missing column fails every row), so they are
reported once, on the header row, before any data row is read.
"""

from __future__ import annotations

from dataclasses import dataclass

from importers.bulk.reading import Table
from importers.templates import TEMPLATES, Template, match_header
from ledger.errors import InvalidInput
from ledger.models import Category


@dataclass(frozen=True)
class RowError:
    """One problem, located as the user sees it: the sheet's row number and the column's header as written."""

    row: int
    column: str | None
    value: str | None
    error: str  # the ledger error's class name, the machine-readable reason (InvalidGTIN, UnknownProduct, …)
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "value": self.value, "error": self.error, "detail": self.detail}


@dataclass(frozen=True)
class Layout:
    template: Template
    index: dict[str, int]  # field → position in the row
    header: dict[str, str]  # field → header as the user wrote it
    extra_columns: tuple[str, ...]  # headers that fill no field of this template; ignored


def _flow_specific_keys() -> dict[Category, frozenset[str]]:
    shared = frozenset.intersection(*(frozenset(c.key for c in t.columns) for t in TEMPLATES.values()))
    return {flow: frozenset(c.key for c in t.columns) - shared for flow, t in TEMPLATES.items()}


_SPECIFIC = _flow_specific_keys()


def detect_flow(keys: set[str]) -> Category:
    """The flow whose own columns (customs declaration, harvest date, lot release …) the headers name most."""
    scores = {flow: len(keys & specific) for flow, specific in _SPECIFIC.items()}
    best = max(scores.values())
    winners = [flow for flow, score in scores.items() if score == best]
    if best == 0 or len(winners) > 1:
        raise InvalidInput(
            "cannot tell from the headers which template this file follows; choose the flow "
            f"({', '.join(f.value for f in TEMPLATES)})",
            scores={f.value: s for f, s in scores.items()},
        )
    return winners[0]


def lay_out(table: Table, flow: Category | None) -> Layout:
    """Map the header row to fields; refuse, listing every problem, a header row the template cannot use."""
    found: dict[str, int] = {}
    unknown: list[str] = []
    errors: list[RowError] = []
    for position, text in enumerate(table.headers):
        key = match_header(text) if text else None
        if key is None:
            if text:
                unknown.append(text)
        elif key in found:
            first = table.headers[found[key]]
            errors.append(
                RowError(table.header_row, text, None, "InvalidInput", f"column {text!r} repeats column {first!r}")
            )
        else:
            found[key] = position
    template = TEMPLATES[flow or detect_flow(set(found))]
    own = {c.key for c in template.columns}
    unknown += [table.headers[p] for k, p in found.items() if k not in own]
    for column in template.columns:
        if column.key in template.required and column.key not in found:
            errors.append(
                RowError(
                    table.header_row,
                    column.header(required=True),
                    None,
                    "InvalidInput",
                    f"required column {column.zh} ({column.key}) is missing from the {template.flow.value} template",
                )
            )
    if errors:
        raise InvalidInput(
            f"the header row (row {table.header_row}) cannot be used; nothing was written",
            flow=template.flow.value,
            errors=[e.as_dict() for e in errors],
            errors_total=len(errors),
        )
    return Layout(
        template=template,
        index={k: p for k, p in found.items() if k in own},
        header={k: table.headers[p] for k, p in found.items() if k in own},
        extra_columns=tuple(unknown),
    )
