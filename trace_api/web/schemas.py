"""The bases of the JSON API's models. Requests forbid unknown fields: a typo is an error, not ignored."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, model_validator


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Ids as the database stores them (64-bit): a larger number is a 422, not an overflow deep in the driver.
RowId = Annotated[int, Path(ge=1, le=2**63 - 1)]


Celsius = Annotated[float, Field(ge=-100, le=100, allow_inf_nan=False)]


class ReadingIn(Request):
    """A temperature reading (°C): a value, or a period's minimum and maximum (and mean). The scans and the cold
    chain's gateway endpoint both take them."""

    time: dt.datetime
    value: Celsius | None = None
    min: Celsius | None = None
    max: Celsius | None = None
    mean: Celsius | None = None

    @model_validator(mode="after")
    def _has_a_value(self) -> ReadingIn:
        if self.time.tzinfo is None:
            raise ValueError("time needs a time zone offset")
        if self.value is None and self.mean is None and self.min is None and self.max is None:
            raise ValueError("a reading needs a value, or a minimum and maximum")
        return self
