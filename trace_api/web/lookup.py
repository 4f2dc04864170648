"""What a code tells: the product, batch and item behind it, their status, and their journey for an audience.

The consumer's resolver shows the public view; the trace of a code (``/api/v1/trace/{code}``) shows the same
view with the steps the caller took part in, or every step for a regulator, in full.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final

from pydantic import Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import errors
from ledger.coldchain.evaluation import moment
from ledger.coldchain.queries import temperature_record
from ledger.identifiers import DigitalLink
from ledger.journey import Step, batch_journey, item_journey
from ledger.models import (
    Batch,
    Code,
    CodeKind,
    CodeLookups,
    Document,
    Event,
    EventBatch,
    Hold,
    Organisation,
    Product,
)
from ledger.models import CodeStatus as CodeStatusValue
from ledger.recall_history import recall_history
from trace_api.web.genuine import check_signature
from trace_api.web.recall_notices import RecallNotice, contradicted, recall_notices
from trace_api.web.schemas import Response

# The declarations a batch may carry beyond its dates, in the order a clerk fills them.
ATTRIBUTE_FIELDS: Final = (
    "customs_declaration_no",
    "origin_country",
    "quarantine_cert_no",
    "nucleic_acid_test_no",
    "nucleic_acid_result",
    "disinfection_cert_no",
    "farm_origin",
    "harvest_date",
    "rapid_test_result",
    "rapid_test_no",
    "vaccine_approval_no",
    "lot_release_cert_no",
    "manufacturer",
)
VERIFY_URL: Final = "/api/v1/verify/events/{event_id}"
# Items whose consumers' lookups are counted: after its sale, a code looked up very often was likely copied.
COUNTED: Final = frozenset({CodeStatusValue.SOLD, CodeStatusValue.ADMINISTERED})


def declared_attributes(batch: Batch) -> dict[str, str]:
    """The batch's declarations that are filled in, dates as ISO text."""
    return {
        name: value.isoformat() if isinstance(value, dt.date) else str(value)
        for name in ATTRIBUTE_FIELDS
        if (value := getattr(batch, name)) is not None
    }


class CodeFacts(Response):
    kind: str
    element_string: str
    uri: str
    issued: bool = Field(description="always true: a code never issued here is refused as UnknownCode")
    signature: str | None = Field(
        default=None,
        description="the label's ?s= signature, checked on a consumer lookup of an item: valid, or not_signed "
        "(issued without one); a missing, invalid or foreign one is refused as CodeNotGenuine",
    )


class ProductFacts(Response):
    gtin: str
    name: str
    name_en: str | None
    category: str
    storage_min_c: float | None
    storage_max_c: float | None


class DocumentDigest(Response):
    kind: str
    sha256: str


class BatchFacts(Response):
    lot: str
    registrant: str
    production_date: dt.date | None
    expiry_date: dt.date | None
    certificates: dict[str, str] = Field(description="the batch's declarations, by field name")
    documents: list[DocumentDigest]


class LookupCount(Response):
    """Consumers' lookups of a sold or administered item, this one included (counted by the worker)."""

    count: int
    first_at: dt.datetime = Field(description="the first lookup after the sale")


class CodeStatus(Response):
    recalled: bool = Field(description="an open recall covers the batch, the item or a batch it was made from")
    recalls: list[str] = Field(description="numbers of the open recalls")
    recall_history: list[RecallNotice] = Field(description="every recall that touched it, open or closed")
    contradicted_certificates: dict[str, str] = Field(
        description="declared test results a failed inspection contradicts, with the recall's number"
    )
    held: bool
    expired: bool
    item_status: str | None = Field(description="an item's own status (sold, administered, …); none for a batch")
    consumed_at: dt.datetime | None = Field(default=None, description="when the item was sold or administered")
    lookups: LookupCount | None = Field(default=None, description="lookups since its sale or administration")
    warnings: list[str] = Field(
        description="recalled, recalled_before (only closed recalls), held, expired: what a consumer must be told first"
    )


class StepParty(Response):
    name: str
    roles: list[str]


class PublicStep(Response):
    """A step as the public sees it: what happened, when, where (city level), by whom; no quantities."""

    event_id: str
    time: str
    step: str | None
    what: str | None = Field(
        description="the step as a reader names it: the CBV step, commissioning told apart as registration or "
        "code_issuance"
    )
    disposition: str | None
    by: StepParty
    region_code: str | None
    anchored: bool
    block_number: int | None
    tx_hash: str | None


class MovementOut(Response):
    kind: str
    quantity: int
    from_org: str | None = Field(alias="from", description="the sender's name")
    to_org: str | None = Field(alias="to", description="the receiver's name")
    shipment_id: int | None


class FullStep(PublicStep):
    """A step in full, for those who took part in it and for regulators."""

    event_type: str
    location: str | None
    movements: list[MovementOut]
    merkle_root: str | None


class ProofFacts(Response):
    batch_key: str
    registration_hash: str
    chain_head: str
    event_count: int
    anchored_events: int
    verify_url: str = Field(description="where each step's proof is checked, {event_id} filled in")


class ExcursionFact(Response):
    number: str
    kind: str = Field(description="hot, cold, data_gap or vvm")
    started_at: dt.datetime
    ended_at: dt.datetime | None = Field(description="none while it goes on")
    status: str = Field(description="open (the goods are held), released or destroyed")
    disposed_by: str | None
    disposed_at: dt.datetime | None


class TemperatureFacts(Response):
    """The batch's temperature record: its shipments' and holdings' logs, and every excursion it was in."""

    logs: int
    readings: int
    first: dt.datetime | None
    last: dt.datetime | None
    kept_in_range: bool | None = Field(description="true: logged, and no excursion; none: no temperature record")
    excursions: list[ExcursionFact]


class CodeView(Response):
    """Everything a code tells but its journey."""

    code: CodeFacts
    product: ProductFacts
    batch: BatchFacts
    status: CodeStatus
    temperature: TemperatureFacts
    proof: ProofFacts


class PublicView(CodeView):
    """The consumer's view of a code: no quantities, prices or counterparties' identifiers."""

    journey: list[PublicStep]


@dataclass
class Found:
    product: Product
    batch: Batch
    code: Code | None


def find(session: Session, link: DigitalLink) -> Found:
    """The rows a Digital Link names; a code never issued here is reported as such (a forgery, or a typo)."""
    if link.gtin is None or link.lot is None:
        raise errors.InvalidDigitalLink("a lotline code names a batch (GTIN + lot) or an item (+ serial)")
    product = session.scalar(select(Product).where(Product.gtin == link.gtin))
    batch = (
        session.scalar(select(Batch).where(Batch.product_id == product.id, Batch.lot == link.lot)) if product else None
    )
    if product is None or batch is None:
        raise errors.UnknownCode(f"{link.element_string()} was never issued on this network", code=link.path)
    code = None
    if link.serial is not None:
        code = session.scalar(
            select(Code).where(Code.batch_id == batch.id, Code.serial == link.serial, Code.kind == CodeKind.ITEM)
        )
        if code is None:
            raise errors.UnknownCode(f"{link.element_string()} was never issued on this network", code=link.path)
    return Found(product, batch, code)


def journey(session: Session, found: Found) -> list[Step]:
    return item_journey(session, found.code) if found.code else batch_journey(session, found.batch.id)


def code_view(session: Session, link: DigitalLink, found: Found, public_url: str) -> CodeView:
    product, batch = found.product, found.batch
    registrant = session.get(Organisation, batch.registrant_org_id)
    assert registrant is not None
    documents = session.scalars(select(Document).where(Document.batch_id == batch.id).order_by(Document.id))
    anchored = session.scalar(
        select(func.count())
        .select_from(EventBatch)
        .join(Event, Event.seq == EventBatch.event_seq)
        .where(EventBatch.batch_id == batch.id, Event.anchor_id.is_not(None))
    )
    return CodeView(
        code=CodeFacts(
            kind=link.kind.value, element_string=link.element_string(), uri=link.uri(public_url), issued=True
        ),
        product=ProductFacts(
            gtin=product.gtin,
            name=product.name,
            name_en=product.name_en,
            category=product.category.value,
            storage_min_c=product.storage_min_c,
            storage_max_c=product.storage_max_c,
        ),
        batch=BatchFacts(
            lot=batch.lot,
            registrant=registrant.name,
            production_date=batch.production_date,
            expiry_date=batch.expiry_date,
            certificates=declared_attributes(batch),
            documents=[DocumentDigest.model_validate(d) for d in documents],
        ),
        status=_status(session, found),
        temperature=_temperature(session, batch.id),
        proof=ProofFacts(
            batch_key=batch.batch_key,
            registration_hash=batch.registration_hash,
            chain_head=batch.chain_head,
            event_count=batch.event_count,
            anchored_events=anchored or 0,
            verify_url=VERIFY_URL,
        ),
    )


def public_view(
    session: Session, link: DigitalLink, public_url: str, signature: str | None = None, now: dt.datetime | None = None
) -> tuple[PublicView, int | None]:
    """The consumer's view, and the id of the item when its lookups are counted (sold or administered).

    An item's label must carry its issuer's signature (``signature``, the ``?s=``).
    """
    found = find(session, link)
    verdict = check_signature(session, link, found.code, signature) if found.code else None
    if verdict is not None and not verdict.genuine:
        raise errors.CodeNotGenuine(
            f"{link.element_string()}: the label's signature is {verdict.value}; it was not printed by the code's "
            "issuer",
            code=link.path,
            signature=verdict.value,
        )
    steps = [PublicStep.model_validate(step.public()) for step in journey(session, found)]
    view = PublicView(**dict(code_view(session, link, found, public_url)), journey=steps)
    view.code.signature = verdict.value if verdict else None
    counted = found.code if found.code and found.code.status in COUNTED else None
    if counted is not None:
        view.status.consumed_at = counted.consumed_at
        view.status.lookups = _lookups(session, counted.id, now or dt.datetime.now(dt.UTC))
    return view, counted.id if counted else None


def _lookups(session: Session, code_id: int, now: dt.datetime) -> LookupCount:
    """What the worker counted so far, with this lookup (its count is on its way to the worker)."""
    counted = session.get(CodeLookups, code_id)
    if counted is None:
        return LookupCount(count=1, first_at=now)
    return LookupCount(count=counted.count + 1, first_at=counted.first_at)


def _status(session: Session, found: Found) -> CodeStatus:
    # Held for every holder (org_id null): the public sees the batch, not one holder's stock. The open recalls
    # come from the history below, so the trade rules' batch_state (which reads them again) is not used here.
    held = session.scalar(
        select(Hold.id)
        .where(Hold.batch_id == found.batch.id, Hold.released_at.is_(None), Hold.org_id.is_(None))
        .limit(1)
    )
    expired = found.batch.expiry_date is not None and found.batch.expiry_date < dt.date.today()
    facts = recall_history(session, found.batch.id, found.code.id if found.code else None)
    notices = recall_notices(facts, found.product.category)
    open_numbers = [n.number for n in notices if n.status == "open"]
    flags = {
        "recalled": bool(open_numbers),
        "recalled_before": bool(notices) and not open_numbers,
        "held": held is not None,
        "expired": expired,
    }
    return CodeStatus(
        recalled=flags["recalled"],
        held=flags["held"],
        expired=expired,
        recalls=open_numbers,
        recall_history=notices,
        contradicted_certificates=contradicted(notices, declared_attributes(found.batch)),
        item_status=found.code.status.value if found.code else None,
        warnings=[name for name, raised in flags.items() if raised],
    )


def _temperature(session: Session, batch_id: int) -> TemperatureFacts:
    record = temperature_record(session, batch_id)
    logged = [log for log in record.logs if log.readings]
    first = min((log.first_ms for log in logged if log.first_ms is not None), default=None)
    last = max((log.last_ms for log in logged if log.last_ms is not None), default=None)
    return TemperatureFacts(
        logs=len(logged),
        readings=sum(log.readings for log in logged),
        first=moment(first) if first is not None else None,
        last=moment(last) if last is not None else None,
        kept_in_range=None if not logged and not record.excursions else not record.excursions,
        excursions=[
            ExcursionFact(
                number=e.number,
                kind=e.kind.value,
                started_at=e.started_at,
                ended_at=e.ended_at,
                status=e.status.value,
                disposed_by=record.names.get(e.disposed_by_org_id) if e.disposed_by_org_id else None,
                disposed_at=e.disposed_at,
            )
            for e in record.excursions
        ],
    )
