"""Organisations, their locations and webhooks over the JSON API."""

from __future__ import annotations

from pydantic import Field, HttpUrl

from ledger.models import Role
from trace_api.web.schemas import Request, Response


class OrgCreate(Request):
    name: str = Field(min_length=1, max_length=200, examples=["浙江冷链进口有限公司"])
    name_en: str | None = Field(default=None, max_length=200)
    uscc: str = Field(
        description="统一社会信用代码, 18 characters, check character validated", examples=["91330100MA2000002H"]
    )
    roles: list[Role] = Field(min_length=1)
    gln: str | None = None
    webhook_url: HttpUrl | None = None


class OrgOut(Response):
    id: int
    name: str
    name_en: str | None
    uscc: str
    roles: list[str]
    gln: str | None
    chain_address: str


class OrgCreated(Response):
    org: OrgOut
    token: str = Field(description="the organisation's API token; shown once, stored only as a hash")
    webhook_secret: str | None = Field(
        default=None, description="the secret recall webhooks are signed with, when a webhook URL was given; shown once"
    )


class LocationCreate(Request):
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(pattern=r"^(warehouse|cold_store|market|market_stall|store|restaurant|clinic|farm|cdc|office)$")
    gln: str | None = None
    region_code: str | None = Field(default=None, pattern=r"^\d{6}$", description="行政区划代码")
    address: str | None = Field(default=None, max_length=300)


class LocationOut(Response):
    id: int
    org_id: int
    name: str
    kind: str
    gln: str | None
    region_code: str | None
    address: str | None


class WebhookSet(Request):
    url: HttpUrl | None = Field(description="where recall messages are POSTed; null removes the webhook")


class WebhookOut(Response):
    url: str | None
    secret: str | None = Field(description="the HMAC secret, shown only in this answer")
    signature: str = Field(
        default="X-Lotline-Signature: sha256=HMAC-SHA256(secret, f'{X-Lotline-Timestamp}.{X-Lotline-Delivery}.' + body)"
    )
