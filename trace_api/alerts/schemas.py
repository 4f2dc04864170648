"""Alerts over the JSON API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field

from trace_api.web.schemas import Request, Response


class AlertOut(Response):
    id: int
    kind: str = Field(description="settled_twice, outside_chain, forged_code, frequent_lookups or impossible_travel")
    status: str = Field(description="open, or investigating once a regulator took it up")
    scanned: str = Field(description="the code as it was scanned")
    code_id: int | None
    batch_id: int | None
    gtin: str | None
    lot: str | None
    product: str | None
    subject: str | None = Field(description="the organisation whose scan raised it, by name")
    subject_uscc: str | None
    location: str | None
    region_code: str | None
    detail: dict[str, Any] = Field(description="what was seen: the attempt, the first settlement, the distance…")
    occurrences: int = Field(description="how often the same signal was seen (one alert per kind, code, subject)")
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    event_id: str = Field(description="the signed event that records it, anchored like any event")
    investigation_url: str | None = Field(description="the one-click investigation of its place and time")


class CodeReport(Request):
    """A code a station (or any organisation's scanner) found not genuine when it checked it offline."""

    code: str = Field(min_length=1, max_length=300, description="the code as scanned, with its ?s= signature")
    verdict: str = Field(
        pattern="^(never_issued|missing_signature|malformed_signature|bad_signature|invalid_signature|unknown_issuer"
        "|revoked_issuer|foreign)$",
        description="what the offline check said (the station's verdicts, or never_issued)",
    )
    location_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    seen_at: dt.datetime | None = Field(default=None, description="when it was scanned (offline); default now")
