"""The capture job GS1's REST binding answers a capture with, in its own (camelCase) field names."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from trace_api.web.schemas import Response


class CapturedEvent(Response):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    index: int = Field(description="the event's place in the document, from 0")
    event_id: str = Field(alias="eventID", description="its CBV 2.0 hash")
    status: str = Field(
        description="applied, recorded, declared (an error declaration, stored beside the event) or duplicate"
    )
    operation: str | None = Field(default=None, description="the trade operation an applied event became")
    declared_event_id: str | None = Field(
        default=None, alias="declaredEventID", description="the eventID the document gave, when it differs"
    )


class CaptureJob(Response):
    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    running: bool
    success: bool
    capture_error_behaviour: str = Field(alias="captureErrorBehaviour")
    errors: list[str]
    event_count: int = Field(alias="eventCount")
    events: list[CapturedEvent]
