"""A trace of the trade graph as the API answers it: organisations, batches, holder positions and edges, named.

Shared by the forward and back traces and by investigations, whose answer holds two traces.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from trace_api.web.schemas import Response


class OrgRef(Response):
    id: int
    name: str
    uscc: str
    roles: list[str]


class TracedBatch(Response):
    id: int
    gtin: str
    lot: str
    product: str
    quantity: int = Field(description="units registered (or produced by the transformation)")
    registrant: OrgRef


class SentTo(Response):
    org: OrgRef
    quantity: int


class HolderPosition(Response):
    org: OrgRef
    batch_id: int
    gtin: str
    lot: str
    received: int
    on_hand: int
    shipped: int
    consumed: int = Field(description="sold or administered")
    destroyed: int
    transformed: int = Field(description="used as the input of a transformation")
    sent_to: list[SentTo]
    path: list[str] = Field(description="organisations from the start of the trace to this holder (one shortest)")


class EdgeOut(Response):
    from_org: str | None = Field(description="USCC of the sender; none when goods come into being")
    to_org: str | None = Field(description="USCC of the receiver; none when goods leave the trade graph")
    batch_id: int
    quantity: int
    kind: str
    event_id: str


class TraceOut(Response):
    direction: Literal["forward", "back"]
    roots: list[int] = Field(description="the batches the trace starts from")
    batches: list[TracedBatch]
    holders: list[HolderPosition]
    holders_total: int = Field(description="holder positions in the trace; an investigation may list fewer")
    edges: list[EdgeOut]
