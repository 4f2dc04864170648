"""The regulator pages' forms: what a clerk typed, read into the recall services' arguments, and refusals worded
in the page's language.

Every box arrives as text, so nothing is refused by the framework before we can say why. The goods of a new
recall are typed or scanned one per line, in any form a scanner reads (a Digital Link, a GS1 element string, an
EPC URN) or as "GTIN lot": a line naming a lot recalls the batch, a line naming a serial or an SSCC recalls that
code (a case or pallet with everything in it).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from pydantic import BaseModel

from ledger import errors
from ledger.identifiers import DigitalLink, parse_code
from recall.service import MAX_REASON, BatchRef, Report
from trace_api.pages.i18n import LOCAL_TZ, Words

MAX_GOODS_LINES: Final = 1_000
FORM_KEY: Final = re.compile(r"^[0-9a-f]{32}$")
_GTIN_AND_LOT: Final = re.compile(r"^(\d{8,14})[\s,，]+(\S{1,20})$")
_COUNT: Final = re.compile(r"^\d{1,12}$")
_USCC: Final = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


class Refused(Exception):
    """The form cannot be carried out; ``message`` says why, in the page's language."""

    def __init__(self, message: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


class Signed(BaseModel):
    """What every form carries: the CSRF token, and a key drawn when the form was opened, so a double submit
    replays the first answer instead of writing twice (the JSON API's Idempotency-Key)."""

    csrf: str = ""
    form_key: str = ""


class RecallForm(Signed):
    goods: str = ""
    recall_class: str = "2"
    reason: str = ""


class ConfirmForm(Signed):
    recall_class: str = "2"


class CloseForm(Signed):
    reason: str = ""


class AcknowledgeForm(Signed):
    """One row per batch the holder follows, in the order the page listed them."""

    gtin: list[str] = []
    lot: list[str] = []
    quarantined: list[str] = []
    returned: list[str] = []
    destroyed: list[str] = []


def recall_class(value: str, t: Words) -> int:
    if value.strip() not in ("1", "2", "3"):
        raise Refused(t("recall.refused.class"))
    return int(value)


def reason(value: str, t: Words) -> str:
    text = value.strip()
    if not text:
        raise Refused(t("recall.refused.reason"))
    if len(text) > MAX_REASON:
        raise Refused(t("recall.refused.reason_long", limit=MAX_REASON))
    return text


def goods(text: str, t: Words) -> tuple[list[BatchRef], list[DigitalLink]]:
    """The batches and codes of the goods box; every bad line is named at once."""
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise Refused(t("recall.refused.no_goods"))
    if len(lines) > MAX_GOODS_LINES:
        raise Refused(t("recall.refused.too_many", limit=MAX_GOODS_LINES))
    batches: list[BatchRef] = []
    codes: list[DigitalLink] = []
    bad: list[str] = []
    for number, line in lines:
        link = _read_line(line)
        if link is not None and (link.serial is not None or link.sscc is not None):
            codes.append(link)
        elif link is not None and link.gtin is not None and link.lot is not None:
            batches.append(BatchRef(link.gtin, link.lot))
        else:  # unreadable, or a bare GTIN: a product is not something to recall
            bad.append(t("recall.refused.line", number=number, line=line))
    if bad:
        raise Refused(" ".join(bad))
    return list(dict.fromkeys(batches)), list(dict.fromkeys(codes))


def _read_line(line: str) -> DigitalLink | None:
    try:
        if match := _GTIN_AND_LOT.match(line):
            return DigitalLink(gtin=match[1], lot=match[2])
        return parse_code(line)
    except errors.InvalidInput:
        return None


def reports(form: AcknowledgeForm, t: Words) -> list[Report]:
    """Running totals per batch, zeros included: a holder that sold everything before the recall still
    acknowledges it (it must reach its customers), with nothing to report."""
    columns = (form.gtin, form.lot, form.quarantined, form.returned, form.destroyed)
    if not form.gtin or len({len(column) for column in columns}) != 1:
        raise Refused(t("recall.refused.form"), status_code=400)
    out = []
    for gtin, lot, *counts in zip(*columns, strict=True):
        values = [count.strip() or "0" for count in counts]
        if not all(_COUNT.match(value) for value in values):
            raise Refused(t("recall.refused.count", lot=lot))
        out.append(Report(gtin, lot, *(int(value) for value in values)))
    return out


def place(value: str, t: Words) -> tuple[int | None, str | None]:
    """An investigation's place: a location number, or an organisation's unified social credit code."""
    text = value.strip().upper()
    if text.isdigit() and 0 < int(text) < 2**63:
        return int(text), None
    if _USCC.match(text):
        return None, text
    raise Refused(t("investigation.refused.place"))


def local_moment(value: str, t: Words, name: str) -> datetime:
    """A ``datetime-local`` box (no offset) read as Beijing time, where the clerk is."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise Refused(t("investigation.refused.time", field=t(f"investigation.{name}"))) from None
    return moment.replace(tzinfo=LOCAL_TZ) if moment.tzinfo is None else moment


def explain(error: errors.LotlineError, t: Words) -> str:
    """A ledger refusal in the page's language; the English detail follows where we have no words of our own."""
    key = f"recall.error.{error.reason}"
    if t.has(key):
        return t(key)
    return t("recall.error.other", reason=error.reason, detail=error.detail)
