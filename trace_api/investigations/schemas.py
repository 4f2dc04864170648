"""An investigation over the JSON API."""

from __future__ import annotations

import datetime as dt

from pydantic import Field, model_validator

from trace_api.web.schemas import Request, Response
from trace_api.web.trace_views import OrgRef, TraceOut


class InvestigationIn(Request):
    location_id: int | None = Field(default=None, ge=1, le=2**63 - 1, description="where the positive test was taken")
    org_uscc: str | None = Field(default=None, description="or the whole organisation, by USCC")
    since: dt.datetime
    until: dt.datetime
    max_holders: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description="holder positions listed per trace, those with goods on hand first; holders_total counts all "
        "(the batches at one stall can reach a million positions nationwide: trace a batch for its full list)",
    )
    edges: bool = Field(default=False, description="also list every trade edge of both traces (large)")

    @model_validator(mode="after")
    def _one_place(self) -> InvestigationIn:
        if (self.location_id is None) == (self.org_uscc is None):
            raise ValueError("give exactly one of location_id and org_uscc")
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise ValueError("since and until need a time zone offset")
        if self.since >= self.until:
            raise ValueError("since must be before until")
        return self


class OpenRecallOut(Response):
    id: int
    number: str
    status: str = Field(description="requested (awaiting approval) or open")


class PresentOut(Response):
    batch_id: int
    gtin: str
    lot: str
    product: str
    arrived_before_until: int
    on_hand_at_since: int
    arrived_in_window: int
    open_recall: OpenRecallOut | None = Field(
        default=None, description="a recall of this batch not yet closed: start no second one, follow this one"
    )


class InvestigationOut(Response):
    org: OrgRef
    location_id: int | None
    since: dt.datetime
    until: dt.datetime
    present: list[PresentOut]
    sources: TraceOut
    spread: TraceOut
    other_holders: list[OrgRef]
