"""Products over the JSON API."""

from __future__ import annotations

from pydantic import Field

from ledger.models import Category
from trace_api.web.schemas import Request, Response


class ProductCreate(Request):
    gtin: str | None = Field(
        default=None, description="GTIN-8/12/13/14; omitted: one is assigned under the network prefix"
    )
    name: str = Field(min_length=1, max_length=200)
    name_en: str | None = Field(default=None, max_length=200)
    category: Category
    unit: str = Field(default="EA", pattern=r"^[A-Z0-9]{2,3}$", description="UN/ECE rec. 20 unit code")
    storage_min_c: float | None = Field(default=None, ge=-100, le=100)
    storage_max_c: float | None = Field(default=None, ge=-100, le=100)


class ProductOut(Response):
    id: int
    gtin: str
    name: str
    name_en: str | None
    category: Category
    unit: str
    storage_min_c: float | None
    storage_max_c: float | None
