"""The cold chain over the JSON API."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from ledger.coldchain.profiles import ProfileName
from ledger.models import ExcursionKind, ExcursionStatus, LogScope
from trace_api.web.schemas import BIGINT_MAX, ReadingIn, Request, Response

MAX_GATEWAY_READINGS = 100_000


class ScopeIn(Request):
    """What readings are for: a shipment (its sender or receiver records), a location of the recording
    organisation, or its holding of a batch (GTIN and lot)."""

    shipment_id: int | None = Field(default=None, ge=1, le=BIGINT_MAX)
    location_id: int | None = Field(default=None, ge=1, le=BIGINT_MAX)
    gtin: str | None = Field(default=None, max_length=14)
    lot: str | None = Field(default=None, max_length=20)

    @model_validator(mode="after")
    def _one_scope(self) -> ScopeIn:
        named = [
            self.shipment_id is not None,
            self.location_id is not None,
            self.gtin is not None or self.lot is not None,
        ]
        if named.count(True) != 1 or (named[2] and (self.gtin is None or self.lot is None)):
            raise ValueError("name one scope: shipment_id, location_id, or gtin and lot of a holding")
        return self


class FileUpload(ScopeIn):
    """A logger file's scope and how to read it, as query parameters beside the file."""

    device_id: str | None = Field(default=None, max_length=200, description="when the file names no device")
    interval_s: int | None = Field(default=None, ge=1, le=86_400, description="default: the readings' spacing")
    utc_offset: str = Field(default="+08:00", description="the offset of the logger's clock; its times carry none")


class GatewayLog(Request):
    device_id: str = Field(min_length=1, max_length=200)
    scope: ScopeIn
    interval_s: int | None = Field(default=None, ge=1, le=86_400, description="the logger's interval")
    readings: list[ReadingIn] = Field(min_length=1, max_length=MAX_GATEWAY_READINGS)


class GatewayBatch(Request):
    """What an IoT gateway posts every few minutes: its loggers' new readings."""

    logs: list[GatewayLog] = Field(min_length=1, max_length=1_000)

    @model_validator(mode="after")
    def _bounded(self) -> GatewayBatch:
        if sum(len(log.readings) for log in self.logs) > MAX_GATEWAY_READINGS:
            raise ValueError(f"at most {MAX_GATEWAY_READINGS} readings per batch")
        return self


class ExcursionBrief(Response):
    id: int
    number: str
    kind: ExcursionKind
    rules: list[str]
    started_at: dt.datetime
    ended_at: dt.datetime | None = Field(description="none while it is still going on")


class LogIngested(Response):
    log_id: int
    device_id: str
    scope: LogScope
    stored: int = Field(description="readings new to the log")
    duplicates: int = Field(description="readings the log already had at those instants")
    event_id: str = Field(description="the signed event that anchors these readings (their bytes' SHA-256)")
    sha256: str
    new_excursions: list[ExcursionBrief]
    updated_excursions: list[ExcursionBrief]


class Ingested(Response):
    logs: list[LogIngested]
    missing: int = Field(default=0, description="a logger file's readings marked missing (--, Err): gaps, not zeros")


class GoodsOut(Response):
    batch_id: int
    gtin: str
    lot: str
    product: str
    quantity: int


class ExcursionOut(ExcursionBrief):
    status: ExcursionStatus
    duration_s: int
    min_c: float | None
    max_c: float | None
    profile: str = Field(description="the profile judged (empty for a data gap, which concerns every profile)")
    holder: str
    recorded_by: str
    shipment_id: int | None
    location_id: int | None
    goods: list[GoodsOut]
    event_id: str = Field(description="the event anchoring the readings that showed it")
    acknowledged_at: dt.datetime | None
    recall_candidate: bool
    disposed_at: dt.datetime | None
    disposed_by: str | None
    disposition_reason: str | None
    evidence_sha256: str | None


class DestroyIn(Request):
    reason: str = Field(min_length=1, max_length=2_000)


class ProfileIn(Request):
    profile: ProfileName


class RuleOut(Response):
    name: str
    direction: str
    limit_c: float
    inclusive: bool
    mode: str
    threshold_s: int


class ProfileOut(Response):
    gtin: str
    profile: str | None = Field(description="none: kept at ambient temperature, no rules apply")
    chosen: bool = Field(description="set by the product's owner rather than derived from category and range")
    min_c: float | None
    max_c: float | None
    rules: list[RuleOut]
