"""Code runs and item codes over the JSON API."""

from __future__ import annotations

import datetime as dt

from pydantic import Field

from trace_api.web.schemas import Request, Response


class CodeRunCreate(Request):
    count: int = Field(gt=0, le=2_000_000, strict=True)


class CodeRunOut(Response):
    id: int
    batch_id: int
    count: int
    issued: int
    status: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None


class CodeOut(Response):
    serial: str
    digital_link: str
    signed_link: str | None
    status: str
