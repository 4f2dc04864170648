"""A sheet's import over the JSON API."""

from __future__ import annotations

from pydantic import Field

from ledger.models import Category
from trace_api.web.schemas import Response


class ImportedRowOut(Response):
    row: int = Field(description="row number as the sheet shows it")
    gtin: str
    lot: str
    batch_id: int


class RowProblemOut(Response):
    row: int
    column: str | None = Field(description="the column's header as written in the sheet")
    value: str | None
    error: str = Field(description="machine-readable reason: InvalidGTIN, UnknownProduct, AlreadyExists, …")
    detail: str


class ImportOut(Response):
    flow: Category
    format: str = Field(description="csv or xlsx")
    encoding: str | None = Field(description="for CSV: utf-8, utf-8-sig, gbk, gb18030 or utf-16")
    sha256: str
    header_row: int
    rows: int
    summary: str
    created: list[ImportedRowOut]
    unchanged: list[ImportedRowOut] = Field(description="already registered with identical declarations")
    skipped_rows: list[int]
    skipped: list[RowProblemOut] = Field(description="with skip_invalid: why each skipped row was left out")
    extra_columns: list[str] = Field(description="headers that fill no field of the template; ignored")
