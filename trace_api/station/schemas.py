from __future__ import annotations

from pydantic import Field

from trace_api.web.schemas import Response


class ReadCode(Response):
    kind: str = Field(description="item, batch, product or sscc")
    gtin: str | None
    lot: str | None
    serial: str | None
    sscc: str | None


class DecodedCode(Response):
    text: str = Field(description="the symbol's content; GS1 element strings in their (01)… form")
    symbol: str = Field(description="QRCode or DataMatrix")
    page: int
    x: int
    y: int
    verdict: str = Field(description="genuine, missing_signature, unknown_issuer, revoked_issuer, … (offline check)")
    genuine: bool
    detail: str
    issuer: str | None
    code: ReadCode | None = Field(description="what the code names; null when it is not a code of this network")


class DecodedUpload(Response):
    codes: list[DecodedCode]
