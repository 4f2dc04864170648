"""Trade scans over the JSON API."""

from __future__ import annotations

import datetime as dt
from typing import Any, Final, Literal

from pydantic import Field, model_validator

from ledger.policy import TradeAction
from trace_api.web.schemas import Quantity, ReadingIn, RefId, Request, Response


class BatchQuantity(Request):
    gtin: str
    lot: str
    quantity: Quantity


class TransformOutput(Request):
    gtin: str
    lot: str
    quantity: Quantity


class SensorIn(Request):
    """A logger or probe read at the scan: its readings go into the event (its hash covers them) and into the
    goods' temperature log (the shipment's, for a shipping or receiving scan; else the holdings')."""

    device_id: str = Field(min_length=1, max_length=200)
    readings: list[ReadingIn] = Field(min_length=1, max_length=10_000)


# Scans whose events carry sensor data (packing and transforming name containers and lots being made, not goods
# whose temperature is kept); and those where a vaccine vial monitor is read.
SENSING: Final = frozenset({
    TradeAction.SHIP, TradeAction.RECEIVE, TradeAction.SELL, TradeAction.ADMINISTER, TradeAction.DESTROY,
    TradeAction.INSPECT,
})  # fmt: skip
VIAL_MONITORED: Final = frozenset({TradeAction.RECEIVE, TradeAction.ADMINISTER})


class Scan(Request):
    """One trade scan. Goods are named by code (any form a scanner reads: Digital Link, GS1 element string,
    EPC URN) and/or by batch and quantity."""

    action: TradeAction
    codes: list[str] = Field(default_factory=list, max_length=10_000)
    lines: list[BatchQuantity] = Field(default_factory=list, max_length=1_000)
    to_org: str | None = Field(default=None, description="ship: the receiver's USCC")
    shipment_id: RefId | None = Field(default=None, description="receive: the shipment being received")
    sscc: str | None = Field(default=None, description="pack/unpack: the case or pallet")
    passed: bool | None = Field(default=None, description="inspect: the result")
    reason: str | None = Field(default=None, max_length=500)
    output: TransformOutput | None = None
    location_id: RefId | None = Field(
        default=None, description="where it happened: one of the organisation's locations"
    )
    event_time: dt.datetime | None = Field(default=None, description="when it happened (offline scans); default now")
    sensors: list[SensorIn] = Field(default_factory=list, max_length=20, description="temperature read at the scan")
    vvm_stage: int | None = Field(
        default=None, ge=1, le=4, strict=True, description="receive/administer of vaccines: the vial monitor's stage"
    )

    @model_validator(mode="after")
    def _fits_action(self) -> Scan:
        needs = {
            TradeAction.SHIP: ("to_org", self.to_org),
            TradeAction.RECEIVE: ("shipment_id", self.shipment_id),
            TradeAction.PACK: ("sscc", self.sscc),
            TradeAction.UNPACK: ("sscc", self.sscc),
            TradeAction.INSPECT: ("passed", self.passed),
            TradeAction.TRANSFORM: ("output", self.output),
        }
        if self.action in needs and needs[self.action][1] is None:
            raise ValueError(f"{self.action.value} needs {needs[self.action][0]}")
        if self.sensors and self.action not in SENSING:
            raise ValueError(f"{self.action.value} carries no sensor data")
        if self.vvm_stage is not None and self.action not in VIAL_MONITORED:
            raise ValueError("a vial monitor's stage is read at receipt or administration")
        goods_optional = (TradeAction.RECEIVE, TradeAction.UNPACK)
        if self.action not in goods_optional and not self.codes and not self.lines:
            raise ValueError(f"{self.action.value} needs codes or lines naming the goods")
        if self.event_time is not None:
            if self.event_time.tzinfo is None:
                raise ValueError("event_time needs a time zone offset")
            if self.event_time > dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5):
                raise ValueError("event_time is in the future")
        return self


class ScanList(Request):
    scans: list[Scan] = Field(min_length=1, max_length=500)


class ScanResult(Response):
    action: TradeAction
    event_id: str = Field(description="the CBV 2.0 event hash")
    shipment_id: int | None = None
    output_batch_id: int | None = None
    anchoring: str = Field(description="pending until the event is in an anchored Merkle root, then anchored")
    excursions: list[str] = Field(
        default_factory=list, description="cold-chain excursions the scan's sensor data raised: the goods are held"
    )


class ScanResults(Response):
    results: list[ScanResult]


class ScanLine(Request):
    key: str = Field(
        min_length=8, max_length=128, description="this scan's own idempotency key, kept through every retry"
    )
    scan: dict[str, Any] = Field(
        description="one scan, as POST /api/v1/scans takes it; a malformed scan is refused on its own line"
    )


class ScanLines(Request):
    """Scans queued offline (a phone, a fixed station), each applied on its own and answered on its own line."""

    scans: list[ScanLine] = Field(min_length=1, max_length=500)


class LineOutcome(Response):
    index: int
    key: str
    outcome: Literal["accepted", "refused"]
    result: ScanResult | None = None
    error: str | None = Field(default=None, description="refused: the reason, as in every refusal")
    detail: str | None = None
    context: dict[str, Any] | None = None


class LineOutcomes(Response):
    lines: list[LineOutcome]
    accepted: int
    refused: int


class SaleUndo(Request):
    """Packs sold by mistake, put back on sale by their seller within ten days (docs/events.md)."""

    codes: list[str] = Field(min_length=1, max_length=100, description="the packs' codes, as scanned")
    location_id: int | None = None


class SaleUndone(Response):
    event_id: str = Field(description="the CBV 2.0 hash of the undo's own event")
    voided: list[str] = Field(description="the sale events it voids")
    anchoring: str = "pending"
