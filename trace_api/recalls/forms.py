"""The recall pages' forms: what a clerk typed, read into the recall services' arguments, and refusals worded
in the page's language.

The goods of a new recall are typed or scanned one per line, in any form a scanner reads (a Digital Link, a GS1
element string, an EPC URN) or as "GTIN lot": a line naming a lot recalls the batch, a line naming a serial or an
SSCC recalls that code (a case or pallet with everything in it).
"""

from __future__ import annotations

import re
from typing import Final

from pydantic import Field

from ledger import errors
from ledger.identifiers import DigitalLink, parse_code
from recall.service import MAX_REASON, BatchRef, Report
from trace_api.web.forms import FormMalformed, FormRefused, SignedForm
from trace_api.web.i18n import Words

MAX_GOODS_LINES: Final = 1_000
_GTIN_AND_LOT: Final = re.compile(r"^(\d{8,14})[\s,，]+(\S{1,20})$")
_COUNT: Final = re.compile(r"^\d{1,12}$")


class RecallForm(SignedForm):
    goods: str = ""
    recall_class: str = "2"
    reason: str = ""


class ConfirmForm(SignedForm):
    recall_class: str = "2"


class CloseForm(SignedForm):
    reason: str = ""


class AcknowledgeForm(SignedForm):
    """One row per batch the holder follows, in the order the page listed them."""

    gtin: list[str] = Field(default_factory=list)
    lot: list[str] = Field(default_factory=list)
    quarantined: list[str] = Field(default_factory=list)
    returned: list[str] = Field(default_factory=list)
    destroyed: list[str] = Field(default_factory=list)


def recall_class(value: str, t: Words) -> int:
    if value.strip() not in ("1", "2", "3"):
        raise FormRefused(t("recall.refused.class"))
    return int(value)


def reason(value: str, t: Words) -> str:
    text = value.strip()
    if not text:
        raise FormRefused(t("recall.refused.reason"))
    if len(text) > MAX_REASON:
        raise FormRefused(t("recall.refused.reason_long", limit=MAX_REASON))
    return text


def goods(text: str, t: Words) -> tuple[list[BatchRef], list[DigitalLink]]:
    """The batches and codes of the goods box; every bad line is named at once."""
    lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise FormRefused(t("recall.refused.no_goods"))
    if len(lines) > MAX_GOODS_LINES:
        raise FormRefused(t("recall.refused.too_many", limit=MAX_GOODS_LINES))
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
        raise FormRefused(" ".join(bad))
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
        raise FormMalformed(t("recall.refused.form"))
    out = []
    for gtin, lot, *counts in zip(*columns, strict=True):
        values = [count.strip() or "0" for count in counts]
        if not all(_COUNT.match(value) for value in values):
            raise FormRefused(t("recall.refused.count", lot=lot))
        out.append(Report(gtin, lot, *(int(value) for value in values)))
    return out
