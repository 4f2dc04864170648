"""Recalls over the JSON API."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from trace_api.web.schemas import MAX_QUANTITY, Request, Response


class BatchName(Request):
    gtin: str = Field(max_length=14)
    lot: str = Field(max_length=20)


class RecallCreate(Request):
    """A recall of whole batches and/or single codes (items, or cases and pallets with everything in them)."""

    batches: list[BatchName] = Field(default_factory=list, max_length=1_000)
    codes: list[str] = Field(default_factory=list, max_length=10_000, description="any code form a scanner reads")
    recall_class: int = Field(ge=1, le=3, strict=True, description="1 (most serious) to 3, as the FDA scale")
    reason: str = Field(min_length=1, max_length=2_000)

    @model_validator(mode="after")
    def _names_goods(self) -> RecallCreate:
        if not self.batches and not self.codes:
            raise ValueError("a recall names at least one batch or code")
        return self


class RecallClose(Request):
    reason: str = Field(min_length=1, max_length=2_000)


class CandidateConfirm(Request):
    recall_class: int = Field(default=2, ge=1, le=3, strict=True)
    reason: str | None = Field(default=None, min_length=1, max_length=2_000)


class HoldingReport(Request):
    """Running totals for one batch: a new report replaces the previous one."""

    gtin: str = Field(max_length=14)
    lot: str = Field(max_length=20)
    quarantined: int = Field(default=0, ge=0, le=MAX_QUANTITY, strict=True)
    returned: int = Field(default=0, ge=0, le=MAX_QUANTITY, strict=True)
    destroyed: int = Field(default=0, ge=0, le=MAX_QUANTITY, strict=True)


class Acknowledgement(Request):
    holdings: list[HoldingReport] = Field(min_length=1, max_length=1_000)


class RecalledBatch(Response):
    batch_id: int
    gtin: str
    lot: str
    product: str


class Progress(Response):
    holders: int
    acknowledged: int
    settled: int = Field(description="holders that acknowledged and accounted for every unit")
    units_at_open: int
    quarantined: int
    returned: int
    destroyed: int


class ChainState(Response):
    chain_recall_id: str
    open_job: str | None = Field(description="pending, done or failed; null before the recall is opened")
    open_tx_hash: str | None
    close_job: str | None
    close_tx_hash: str | None


class RecallOut(Response):
    id: int
    number: str
    recall_class: int
    reason: str
    status: str
    requested_by_org_id: int | None
    opened_by_org_id: int | None
    opened_at: dt.datetime | None
    closed_at: dt.datetime | None
    close_reason: str | None
    batches: list[RecalledBatch]
    codes_recalled: int
    progress: Progress
    chain: ChainState


class HolderOut(Response):
    org_id: int
    org_name: str
    gtin: str
    lot: str
    quantity_at_open: int
    consumed_at_open: int
    quarantined: int
    returned: int
    destroyed: int
    accounted: int
    acknowledged_at: dt.datetime | None
    settled: bool


class DeliveryOut(Response):
    delivery_id: str
    org_id: int
    event_type: str
    status: str
    attempts: int
    url: str | None
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None


class RecallDetailOut(RecallOut):
    """Regulators see every holder and delivery; a holder sees its own."""

    holders: list[HolderOut]
    deliveries: list[DeliveryOut]


class CandidateOut(Response):
    hold_id: int
    batch: RecalledBatch
    reason: str
    placed_at: dt.datetime
    inspected_by: str | None = Field(description="who inspected, or who recorded the temperatures")
    event_id: str | None
    kind: str = Field(description="inspection (a failed one) or excursion (a cold-chain excursion put forward)")
