"""The shapes of a trace and an investigation described for people: what the API's response models validate.

:mod:`recall.investigate` builds these from a :class:`recall.trace.Trace`; they are plain JSON-able dicts (the CLI
prints them as JSON), typed so that a reader, mypy and the API's pydantic models all know the same keys.
"""

from __future__ import annotations

from typing import Literal, TypedDict

Direction = Literal["forward", "back"]


class OrgView(TypedDict):
    id: int
    name: str
    uscc: str
    roles: list[str]


class BatchView(TypedDict):
    id: int
    gtin: str
    lot: str
    product: str
    quantity: int  # units registered, or produced by the transformation
    registrant: OrgView


class SentToView(TypedDict):
    org: OrgView
    quantity: int


class HolderView(TypedDict):
    org: OrgView
    batch_id: int
    gtin: str
    lot: str
    received: int
    on_hand: int
    shipped: int
    consumed: int  # sold or administered
    destroyed: int
    transformed: int  # used as the input of a transformation
    sent_to: list[SentToView]
    path: list[str]  # names of the organisations on one shortest chain from the trace's start


class EdgeView(TypedDict):
    from_org: str | None  # USCC of the sender; none when goods come into being
    to_org: str | None  # USCC of the receiver; none when goods leave the trade graph
    batch_id: int
    quantity: int
    kind: str
    event_id: str


class TraceView(TypedDict):
    direction: Direction
    roots: list[int]  # the batches the trace starts from
    batches: list[BatchView]
    holders: list[HolderView]
    holders_total: int  # holder positions in the trace; the list may name fewer
    edges: list[EdgeView]


class PresentView(TypedDict):
    batch_id: int
    gtin: str
    lot: str
    product: str
    arrived_before_until: int
    on_hand_at_since: int
    arrived_in_window: int


class InvestigationView(TypedDict):
    org: OrgView
    location_id: int | None
    since: str  # ISO 8601, with the offset it was asked with
    until: str
    present: list[PresentView]
    sources: TraceView
    spread: TraceView
    other_holders: list[OrgView]
