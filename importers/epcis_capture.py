"""EPCIS 2.0 capture: a partner's document becomes ledger events, each keeping its own CBV 2.0 hash.

A captured event is never rebuilt. Its JSON is recorded verbatim (with the document's ``@context`` beside it when
that is not the bare EPCIS one, so the stored event alone recomputes its id), and the id is its CBV 2.0 hash, so a
partner who captured it finds it again under the hash they computed.

Two fates, decided per event by what it names (a third for error declarations, below):

- **applied**: it names goods this ledger issued (a GTIN registered here, or one of its SSCCs). Then it must be
  one of the trade steps lotline knows (shipping, receiving, retail_selling, dispensing, destroying, inspecting,
  packing/unpacking, a transformation into one new lot) and goes through the same ``ledger.trade`` /
  ``ledger.packing`` function as a scan, with the same rules, holdings and anchoring; only the recorded document
  is the captured one. Anything else about lotline goods (commissioning, say: codes are issued by the API) is
  refused, so a document can never move or create lotline goods outside the rules.
- **recorded**: it names none of them (GS1's examples, a partner's own goods). It is hashed, signed by the
  capturing organisation, chained into no batch and anchored like any event: the partner's own observation, with
  no movement, holding or code attached.

An event with an ``errorDeclaration`` is a **declaration** about the event with its hash (the hash ignores the
declaration): it is stored beside that event (:mod:`ledger.declarations`) and applies nothing. When the ledger does
not hold the original yet, the event is recorded first as an observation, unless it names lotline goods: a trade
this ledger never recorded cannot be declared erroneous here. Corrective event ids that the document gave its own
events (``urn:uuid:…``) are resolved to those events' hashes.

A document is all-or-nothing: every event is checked and written in the caller's transaction, and the first
refusal raises before the caller commits. An event already in the ledger (same hash) is reported as
``duplicate`` and not applied again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from importers.epcis_apply import CapturedEvent, EventApplier, gs1_key
from ledger import epcis_schema
from ledger.db import make_engine, make_session_factory, session_scope
from ledger.declarations import declare_error
from ledger.epc_uri import canonical_uri
from ledger.errors import (
    InvalidEvent,
    InvalidIdentifier,
    PayloadTooLarge,
)
from ledger.event_hash import STANDARD_CONTEXT, event_hash
from ledger.identifiers import normalize_gtin, normalize_sscc
from ledger.keys import KeyVault
from ledger.models import Code, Event, Organisation, Product
from ledger.recorder import Signer, record_event
from ledger.registry import organisation_by_uscc
from ledger.settings import get_settings
from ledger.signing import SigningDomain

# GS1's JSON schema costs ~25-50 ms per event with jsonschema here, so one request stays under a minute.
MAX_EVENTS: Final = 1000
_NOT_STORED: Final = ("eventID", "recordTime", "errorDeclaration")
_EPC_FIELDS: Final = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_FIELDS: Final = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
# A URI that claims to be a GS1 Digital Link (a primary key segment on some host) must be a well-formed one.
_LOOKS_LIKE_DIGITAL_LINK: Final = re.compile(
    r"^https?://[^/]+(/[^?#]*)?/(00|01|253|255|401|402|414|417|8003|8004|8006|8010|8017|8018)/"
)


class Outcome(StrEnum):
    APPLIED = "applied"  # went through the trade rules: holdings, shipments, codes changed
    RECORDED = "recorded"  # the capturing organisation's own observation: hashed, signed, anchored, nothing moved
    DUPLICATE = "duplicate"  # already in the ledger under this hash; nothing written
    DECLARED = "declared"  # an error declaration, stored beside the event it declares erroneous


@dataclass(frozen=True, slots=True)
class EventStatus:
    index: int
    event_id: str
    outcome: Outcome
    operation: str | None = None  # a trade action, or sensor_report
    declared_event_id: str | None = None


def prepare(document: Mapping[str, Any], *, max_events: int = MAX_EVENTS) -> list[CapturedEvent]:
    """Check a whole document without touching the ledger: GS1's schema, the hash of every event, and the syntax
    of every identifier. Raises :class:`InvalidEvent` (or :class:`PayloadTooLarge`) naming the field."""
    epcis_schema.validate_document(document)
    events = document["epcisBody"].get("eventList") or []
    if len(events) > max_events:
        raise PayloadTooLarge(f"the document holds {len(events)} events; the limit is {max_events}", limit=max_events)
    context = document.get("@context")
    standard = context in (STANDARD_CONTEXT, [STANDARD_CONTEXT])
    prepared = []
    for index, event in enumerate(events):
        where = f"epcisBody.eventList[{index}]"
        try:
            event_id = event_hash(event, context)
        except InvalidEvent as error:
            field = error.context.get("field")
            raise InvalidEvent(f"{where}: {error.detail}", field=f"{where}.{field}" if field else where) from error
        for field, uri in _identifiers(event):
            if not _well_formed(uri):
                raise InvalidEvent(
                    f"{where}.{field}: {uri!r} is not a well-formed EPC URI or GS1 Digital Link",
                    field=f"{where}.{field}",
                )
        verbatim = {key: value for key, value in event.items() if key not in _NOT_STORED}
        prepared.append(
            CapturedEvent(
                index=index,
                stored=verbatim if standard else {"@context": context, **verbatim},
                event_id=event_id,
                event_time=datetime.fromisoformat(event["eventTime"]),
                declared_event_id=event.get("eventID"),
                error_declaration=event.get("errorDeclaration"),
            )
        )
    return prepared


def capture(session: Session, signer: Signer, org: Organisation, events: Sequence[CapturedEvent]) -> list[EventStatus]:
    """Apply or record every prepared event in the caller's transaction (see the module docstring)."""
    known = _known_keys(session, events)
    hashes_by_given_id = {e.declared_event_id: e.event_id for e in events if e.declared_event_id}
    statuses = []
    for event in events:
        declared = event.declared_event_id if event.declared_event_id != event.event_id else None
        if event.error_declaration is not None:
            statuses.append(_declare(session, signer, org, event, known, hashes_by_given_id))
            continue
        if session.scalar(select(Event.seq).where(Event.event_id == event.event_id)) is not None:
            statuses.append(EventStatus(event.index, event.event_id, Outcome.DUPLICATE, None, declared))
            continue
        if any(gs1_key(uri) in known for _field, uri in _identifiers(event.body)):
            operation = EventApplier(session, signer, org, event, known).apply()
            statuses.append(EventStatus(event.index, event.event_id, Outcome.APPLIED, operation, declared))
        else:
            record_event(session, signer, org=org, document=event.stored, batches=(), event_time=event.event_time)
            statuses.append(EventStatus(event.index, event.event_id, Outcome.RECORDED, None, declared))
    return statuses


def _declare(
    session: Session,
    signer: Signer,
    org: Organisation,
    event: CapturedEvent,
    known: set[tuple[str, str]],
    hashes_by_given_id: Mapping[str, str],
) -> EventStatus:
    assert event.error_declaration is not None
    declared = event.declared_event_id if event.declared_event_id != event.event_id else None
    original = session.scalar(select(Event).where(Event.event_id == event.event_id))
    if original is None:
        if any(gs1_key(uri) in known for _field, uri in _identifiers(event.body)):
            raise InvalidEvent(
                f"epcisBody.eventList[{event.index}] declares an error in an event about this network's goods that "
                "the ledger never recorded",
                field=f"epcisBody.eventList[{event.index}].errorDeclaration",
            )
        original = record_event(
            session, signer, org=org, document=event.stored, batches=(), event_time=event.event_time
        )
    corrective = [hashes_by_given_id.get(i, i) for i in event.error_declaration.get("correctiveEventIDs") or ()]
    try:
        stored = declare_error(
            session, org=org, event=original, declaration=event.error_declaration, corrective_event_ids=corrective
        )
    except InvalidEvent as error:
        field = f"epcisBody.eventList[{event.index}].{error.context.get('field', 'errorDeclaration')}"
        raise InvalidEvent(f"{field}: {error.detail}", field=field) from error
    outcome = Outcome.DECLARED if stored is not None else Outcome.DUPLICATE
    return EventStatus(event.index, event.event_id, outcome, None, declared)


def run_epcis_import(database_url: str, path: Path | str, org_uscc: str) -> list[EventStatus]:
    """``lotline import epcis FILE --org USCC``: capture a document file as that organisation, all-or-nothing."""
    settings = get_settings()
    signer = Signer(
        vault=KeyVault(settings.secret_key),
        domain=SigningDomain(chain_id=settings.chain_id),
        ttl_seconds=settings.signature_ttl_seconds,
    )
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidEvent(f"{path} is not a UTF-8 JSON document: {error}") from error
    if not isinstance(document, dict):
        raise InvalidEvent(f"{path} holds JSON but not an EPCIS document object", field="(document)")
    events = prepare(document)
    engine = make_engine(database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            return capture(session, signer, organisation_by_uscc(session, org_uscc), events)
    finally:
        engine.dispose()


# --- identifiers ----------------------------------------------------------------------------------------------


def _identifiers(event: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Every (field path, URI) that names goods: EPCs, the parent, and quantity classes."""
    if isinstance(event.get("parentID"), str):
        yield "parentID", event["parentID"]
    for name in _EPC_FIELDS:
        for i, uri in enumerate(event.get(name) or ()):
            yield f"{name}[{i}]", uri
    for name in _QUANTITY_FIELDS:
        for i, element in enumerate(event.get(name) or ()):
            yield f"{name}[{i}].epcClass", element["epcClass"]


def _well_formed(uri: str) -> bool:
    """Any URI may name goods in EPCIS, but one that claims to be an EPC URI or a GS1 Digital Link must be one,
    check digit included (the canonical form recomputes it for URNs but copies it from Digital Links)."""
    if not (uri.startswith("urn:epc:") or _LOOKS_LIKE_DIGITAL_LINK.match(uri)):
        return True
    if canonical_uri(uri) is None:
        return False
    key = gs1_key(uri)
    try:
        if key is not None:
            (normalize_gtin if key[0] == "01" else normalize_sscc)(key[1])
    except InvalidIdentifier:
        return False
    return True


def _known_keys(session: Session, events: Sequence[CapturedEvent]) -> set[tuple[str, str]]:
    """The GS1 keys the document names that this ledger issued: registered GTINs and its SSCCs."""
    keys = {key for event in events for _field, uri in _identifiers(event.body) if (key := gs1_key(uri))}
    gtins = [v for ai, v in keys if ai == "01"]
    ssccs = [v for ai, v in keys if ai == "00"]
    known = {("01", g) for g in session.scalars(select(Product.gtin).where(Product.gtin.in_(gtins)))}
    return known | {("00", s) for s in session.scalars(select(Code.sscc).where(Code.sscc.in_(ssccs))) if s}
