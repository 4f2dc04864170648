"""The bases of the JSON API's models and the bounded types every input goes through.

Requests forbid unknown fields (a typo is an error, not ignored). Every number a client sends is bounded in the
schema, so a number beyond the database's 64 bits is a 422 naming the field, not an overflow deep in the driver;
every text refuses NUL and the other control characters, which PostgreSQL cannot store and no label or page needs
(tab and line breaks stay allowed). The ``Request`` base applies both rules to every field of every request body,
also the ones a schema declares as a plain ``int`` or ``str``; the id and offset types carry the bounds into
paths and query strings.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Annotated, Any, Final

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

# PostgreSQL's BIGINT, and SQLite's INTEGER: the largest id or count the ledger stores.
BIGINT_MAX: Final = 2**63 - 1
# A trillion units: more than any batch, and far enough below BIGINT_MAX that sums of quantities cannot overflow.
MAX_QUANTITY: Final = 10**12
# C0 controls but tab, line feed, carriage return and GS (the FNC1 separator of a GS1 element string); DEL;
# the C1 controls; and lone UTF-16 surrogates, which JSON can spell (\ud800) but no database encoding can store.
CONTROL_CHARACTERS: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1c\x1e\x1f\x7f-\x9f\ud800-\udfff]")


def refuse_control_characters(value: str) -> str:
    if CONTROL_CHARACTERS.search(value):
        raise ValueError("control characters (such as NUL) are not allowed in text")
    return value


def check_input(value: Any) -> None:
    """The shared rules, through lists and mappings: every text without control characters, every whole number
    within 64 bits."""
    if isinstance(value, str):
        refuse_control_characters(value)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not -BIGINT_MAX <= value <= BIGINT_MAX:
            raise ValueError(f"must be a whole number within ±{BIGINT_MAX}")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            check_input(key)
            check_input(item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            check_input(item)


# Ids as the database stores them (64-bit): a larger number is a 422, not an overflow deep in the driver.
RowId = Annotated[int, Path(ge=1, le=BIGINT_MAX)]
RefId = Annotated[int, Field(ge=1, le=BIGINT_MAX)]
QueryId = Annotated[int, Query(ge=1, le=BIGINT_MAX)]
Offset = Annotated[int, Query(ge=0, le=BIGINT_MAX)]
# A page size: the route clamps it to its own maximum.
Limit = Annotated[int, Query(ge=1, le=BIGINT_MAX)]
Quantity = Annotated[int, Field(gt=0, le=MAX_QUANTITY, strict=True, description="whole units of the product")]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _shared_input_rules(cls, value: Any, _info: ValidationInfo) -> Any:
        check_input(value)
        return value


class Response(BaseModel):
    model_config = ConfigDict(from_attributes=True)


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
