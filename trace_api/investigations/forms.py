"""The investigation form's boxes read into a place and a window, refusals worded in the page's language."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from trace_api.web.forms import FormRefused
from trace_api.web.i18n import LOCAL_TZ, Words

_USCC: Final = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


def place(value: str, t: Words) -> tuple[int | None, str | None]:
    """An investigation's place: a location number, or an organisation's unified social credit code."""
    text = value.strip().upper()
    if text.isdigit() and 0 < int(text) < 2**63:
        return int(text), None
    if _USCC.match(text):
        return None, text
    raise FormRefused(t("investigation.refused.place"))


def local_moment(value: str, t: Words, name: str) -> datetime:
    """A ``datetime-local`` box (no offset) read as Beijing time, where the clerk is."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise FormRefused(t("investigation.refused.time", field=t(f"investigation.{name}"))) from None
    return moment.replace(tzinfo=LOCAL_TZ) if moment.tzinfo is None else moment


def window(since: str, until: str, t: Words) -> tuple[datetime, datetime]:
    start, end = local_moment(since, t, "since"), local_moment(until, t, "until")
    if start >= end:
        raise FormRefused(t("investigation.refused.window"))
    return start, end
