"""The recalls a code's page tells of, open or closed, with what to do (docs/recall.md, "What the consumer sees").

Built from :func:`ledger.recall_history.recall_history`. Only what a consumer may see: the recall's number, class,
reason, dates and status, who recalls (by name, never a counterparty's USCC) and the failed inspection it was
confirmed from.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

from pydantic import Field

from ledger.models import Category, RecallStatus
from ledger.recall_history import RecallFact
from trace_api.web.schemas import Response

# The national consumer hotline of market regulation (全国12315平台), for food and vaccines alike.
HOTLINE: Final = "12315"
# What the holder of a recalled pack does, by category: food is not eaten and goes back for a refund; a vaccine
# is not given, and whoever received one of the lot asks the clinic (a dose cannot be returned).
WHAT_TO_DO: Final = {
    Category.COLD_CHAIN: ("stop_eating", "return_for_refund", "call_hotline"),
    Category.FARM_PRODUCE: ("stop_eating", "return_for_refund", "call_hotline"),
    Category.VACCINE: ("stop_using", "ask_the_clinic", "call_hotline"),
}
# The declared test results a failed inspection contradicts: shown beside it on the page, never alone.
TEST_RESULTS: Final = ("nucleic_acid_result", "rapid_test_result")


class InspectionNotice(Response):
    reason: str
    by: str
    at: dt.datetime


class RecallNotice(Response):
    """One recall of the item's batch or of a batch it was made from."""

    number: str
    recall_class: int = Field(description="1 (serious risk) to 3")
    reason: str
    status: str = Field(description="open, or closed (kept as history)")
    opened_at: dt.datetime | None
    closed_at: dt.datetime | None
    recalled_by: str = Field(description="who recalls: the producer that asked, else the regulator, by name")
    via_input: bool = Field(description="the recall covers a batch this one was made from")
    what_to_do: list[str] = Field(description="stop_eating / stop_using, return_for_refund / ask_the_clinic, …")
    hotline: str = HOTLINE
    failed_inspection: InspectionNotice | None = Field(description="the failed inspection it was confirmed from")


def recall_notices(facts: list[RecallFact], category: Category) -> list[RecallNotice]:
    return [
        RecallNotice(
            number=fact.number,
            recall_class=fact.recall_class,
            reason=fact.reason,
            status="open" if fact.status is RecallStatus.OPEN else "closed",
            opened_at=fact.opened_at,
            closed_at=fact.closed_at,
            recalled_by=fact.recalled_by,
            via_input=fact.via_input,
            what_to_do=list(WHAT_TO_DO[category]),
            failed_inspection=InspectionNotice(
                reason=fact.inspection.reason, by=fact.inspection.by, at=fact.inspection.at
            )
            if fact.inspection
            else None,
        )
        for fact in facts
    ]


def contradicted(notices: list[RecallNotice], certificates: dict[str, str]) -> dict[str, str]:
    """The declared test results a failed inspection behind a recall contradicts, each with that recall's number."""
    failed = next((n for n in notices if n.failed_inspection is not None), None)
    if failed is None:
        return {}
    return {name: failed.number for name in TEST_RESULTS if name in certificates}
