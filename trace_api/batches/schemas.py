"""Batches and their documents over the JSON API."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from ledger.models import Category
from trace_api.web.schemas import Quantity, RefId, Request, Response


class BatchCreate(Request):
    gtin: str
    lot: str = Field(description="GS1 AI 10: up to 20 characters of character set 82")
    quantity: Quantity
    location_id: RefId | None = Field(default=None, description="where it was made: one of the registrant's locations")
    production_date: dt.date | None = None
    expiry_date: dt.date | None = None
    customs_declaration_no: str | None = Field(default=None, max_length=40, description="报关单号")
    origin_country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")
    quarantine_cert_no: str | None = Field(default=None, max_length=60, description="检疫证明编号")
    nucleic_acid_test_no: str | None = Field(default=None, max_length=60, description="核酸检测报告编号")
    nucleic_acid_result: str | None = Field(default=None, pattern=r"^(negative|positive)$")
    disinfection_cert_no: str | None = Field(default=None, max_length=60, description="消毒证明编号")
    farm_origin: str | None = Field(default=None, max_length=200, description="产地/基地")
    harvest_date: dt.date | None = None
    rapid_test_result: str | None = Field(default=None, pattern=r"^(pass|fail)$", description="农残快检")
    rapid_test_no: str | None = Field(default=None, max_length=60)
    vaccine_approval_no: str | None = Field(default=None, max_length=60, description="批准文号")
    lot_release_cert_no: str | None = Field(default=None, max_length=60, description="批签发证明编号")
    manufacturer: str | None = Field(default=None, max_length=200)

    @model_validator(mode="after")
    def _dates_make_sense(self) -> BatchCreate:
        today = dt.date.today()
        for name in ("production_date", "harvest_date"):
            value = getattr(self, name)
            if value is not None and value > today:
                raise ValueError(f"{name} {value} is in the future")
        if self.production_date and self.expiry_date and self.expiry_date < self.production_date:
            raise ValueError("expiry_date is before production_date")
        return self


class BatchOut(Response):
    id: int
    gtin: str
    lot: str
    product_name: str
    category: Category
    quantity: int
    unit: str
    registrant: str
    production_date: dt.date | None
    expiry_date: dt.date | None
    attributes: dict[str, str]
    batch_key: str
    registration_hash: str
    chain_head: str
    event_count: int
    status: str = Field(description="active, recalled, held or expired")
    digital_link: str


class DocumentOut(Response):
    id: int
    kind: str
    filename: str
    content_type: str
    size: int
    sha256: str
    event_id: str | None = None
