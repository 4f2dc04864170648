"""EPCIS 2.0 queries over the ledger's events (GS1 REST binding ``GET /events``), as an EPCISQueryDocument.

Visibility: an organisation sees the events it authored, the events that moved goods to or from it (the trade
graph's edges), and observations that name it as a source or destination; a regulator sees every event.

Filtering is split on purpose. Everything that lives in an indexed column (type, event time, record time,
bizStep, disposition, author, the movements behind visibility) is filtered in SQL. What lives only inside the
JSON document (EPCs, classes, read point, business location, observations' parties) is filtered in Python over a
bounded window of candidates in ``seq`` order, because JSON paths are not portable between SQLite and PostgreSQL.
A page therefore scans at most ``MAX_SCANNED`` candidates; when it stops early the answer carries a next-page token
even if the page is short. The way up, if selective EPC queries over millions of events matter, is an
event-to-identifier index table written by the recorder.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Final

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from ledger.coldchain.sensors import SensorQuery
from ledger.declarations import declaration_of, declarations_of, reason_forms
from ledger.declarations import published as published_declaration
from ledger.epc_uri import canonical_uri
from ledger.errors import InvalidInput, UnknownEvent
from ledger.models import ErrorDeclaration, Event, EventBatch, Movement, Organisation, Role
from ledger.terms import party_id
from trace_api.epcis.contexts import AnswerContext, without_context
from trace_api.epcis.typed import TypedQuery

MAX_PER_PAGE: Final = 1000
MAX_SCANNED: Final = 2000
_WINDOW: Final = 500
_CBV_FORMS: Final = {
    "bizStep": ("https://ref.gs1.org/cbv/BizStep-", "urn:epcglobal:cbv:bizstep:"),
    "disposition": ("https://ref.gs1.org/cbv/Disp-", "urn:epcglobal:cbv:disp:"),
}


@dataclass(frozen=True, slots=True)
class EventQuery:
    """The standard SimpleEventQuery parameters lotline answers (lists are ORs, as in the REST binding)."""

    event_types: Sequence[str] = ()
    ge_event_time: datetime | None = None
    lt_event_time: datetime | None = None
    ge_record_time: datetime | None = None
    lt_record_time: datetime | None = None
    biz_steps: Sequence[str] = ()
    dispositions: Sequence[str] = ()
    actions: Sequence[str] = ()
    match_epc: Sequence[str] = ()
    match_any_epc: Sequence[str] = ()
    match_epc_class: Sequence[str] = ()
    match_parent_id: Sequence[str] = ()
    match_input_epc: Sequence[str] = ()
    match_output_epc: Sequence[str] = ()
    typed: TypedQuery = field(default_factory=TypedQuery)  # EQ_bizTransaction_<type>, EQ_source_<type>, …
    biz_locations: Sequence[str] = ()
    read_points: Sequence[str] = ()
    sensor: SensorQuery = field(default_factory=SensorQuery)  # EQ_type, GE_value_CEL, EQ_deviceID, …
    error_declared: bool | None = None  # EXISTS_errorDeclaration
    error_reasons: Sequence[str] = ()
    corrective_event_ids: Sequence[str] = ()
    per_page: int = 30
    next_page_token: str | None = None


@dataclass
class QueryPage:
    events: list[dict[str, Any]] = field(default_factory=list)
    next_page_token: str | None = None
    context: AnswerContext = field(default_factory=AnswerContext)

    def document(self) -> dict[str, Any]:
        return query_document(self.events, self.context.context())


def query_events(session: Session, org: Organisation, query: EventQuery) -> QueryPage:
    if not 1 <= query.per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"perPage must be between 1 and {MAX_PER_PAGE}", field="perPage")
    after = _token_seq(query.next_page_token)
    statement = _visible(_sql_filters(select(Event), query), org).order_by(Event.seq)
    page = QueryPage()
    scanned = 0
    full = False
    while scanned < MAX_SCANNED:
        rows = list(session.scalars(statement.where(Event.seq > after).limit(_WINDOW)))
        moved = _moved_for(session, org, [event.seq for event in rows])
        declarations = declarations_of(session, [event.seq for event in rows])
        for event in rows:
            scanned += 1
            declaration = declarations.get(event.seq)
            if _matches(event, query, declaration) and _may_see(event, org, moved):
                if not page.context.admit(event.document):
                    full = True  # it needs another @context: it opens the next page
                    break
                after = event.seq
                page.events.append(_as_published(event, declaration))
                if len(page.events) == query.per_page:
                    full = True
                    break
            else:
                after = event.seq
        if full or len(rows) < _WINDOW:
            break
    more = session.scalar(select(statement.where(Event.seq > after).limit(1).exists()))
    page.next_page_token = str(after) if more else None
    return page


def get_event(session: Session, org: Organisation, event_id: str) -> dict[str, Any]:
    statement = _visible(select(Event).where(Event.event_id == event_id), org)
    event = session.scalar(statement)
    if event is None or not _may_see(event, org, _moved_for(session, org, [event.seq])):
        raise UnknownEvent(f"no event {event_id} is visible to {org.name}", event_id=event_id)
    return _as_published(event, declaration_of(session, event.seq))


def query_document(
    events: Sequence[Mapping[str, Any]], context: str | list[Any], *, query_name: str = "SimpleEventQuery"
) -> dict[str, Any]:
    """An EPCISQueryDocument of ``events`` under ``context`` (an :class:`AnswerContext`'s, which they agree with)."""
    return {
        "@context": context,
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": _utc(datetime.now(UTC)),
        "epcisBody": {
            "queryResults": {
                "queryName": query_name,
                "resultsBody": {"eventList": [without_context(event) for event in events]},
            }
        },
    }


# --- SQL side ---------------------------------------------------------------------------------------------------


def _sql_filters(statement: Select[Event], query: EventQuery) -> Select[Event]:
    if query.event_types:
        statement = statement.where(Event.event_type.in_(query.event_types))
    if query.actions:
        statement = statement.where(Event.action.in_(query.actions))
    if query.biz_steps:
        statement = statement.where(Event.biz_step.in_(_cbv_forms("bizStep", query.biz_steps)))
    if query.dispositions:
        statement = statement.where(Event.disposition.in_(_cbv_forms("disposition", query.dispositions)))
    for column, bound, lower in (
        (Event.event_time, query.ge_event_time, True),
        (Event.event_time, query.lt_event_time, False),
        (Event.recorded_at, query.ge_record_time, True),
        (Event.recorded_at, query.lt_record_time, False),
    ):
        if bound is not None:
            statement = statement.where(column >= bound if lower else column < bound)
    declared = select(ErrorDeclaration.event_seq)
    if query.error_reasons:
        declared = declared.where(ErrorDeclaration.reason.in_(reason_forms(query.error_reasons)))
    if query.error_declared or query.error_reasons or query.corrective_event_ids:
        statement = statement.where(Event.seq.in_(declared))
    elif query.error_declared is False:
        statement = statement.where(Event.seq.not_in(declared))
    return statement


def _visible(statement: Select[Event], org: Organisation) -> Select[Event]:
    """Regulators: everything. Others: their own events, events that moved goods to or from them, and events
    that touch no lotline batch (observations), whose parties ``_may_see`` then checks."""
    if org.has_role(Role.REGULATOR):
        return statement
    moved = select(Movement.event_seq).where(or_(Movement.from_org_id == org.id, Movement.to_org_id == org.id))
    observation = ~exists().where(EventBatch.event_seq == Event.seq)
    return statement.where(or_(Event.org_id == org.id, Event.seq.in_(moved), observation))


def _cbv_forms(kind: str, values: Iterable[str]) -> list[str]:
    """A CBV term as any of its spellings (bare, Web URI, URN), as stored documents may use any of them."""
    web, urn = _CBV_FORMS[kind]
    forms: list[str] = []
    for value in values:
        bare = value.removeprefix(web).removeprefix(urn)
        forms.extend((value, bare, web + bare, urn + bare))
    return forms


def _token_seq(token: str | None) -> int:
    if token is None:
        return 0
    if not token.isascii() or not token.isdigit() or len(token) > 18:
        raise InvalidInput("nextPageToken is not one this server handed out", field="nextPageToken")
    return int(token)


# --- Python side ------------------------------------------------------------------------------------------------


def _moved_for(session: Session, org: Organisation, seqs: Sequence[int]) -> set[int]:
    if not seqs or org.has_role(Role.REGULATOR):
        return set()
    moved = select(Movement.event_seq).where(
        Movement.event_seq.in_(seqs), or_(Movement.from_org_id == org.id, Movement.to_org_id == org.id)
    )
    return set(session.scalars(moved))


def _may_see(event: Event, org: Organisation, moved: set[int]) -> bool:
    """The SQL filter let every observation through; keep those this organisation wrote or is named in."""
    if org.has_role(Role.REGULATOR) or event.org_id == org.id or event.seq in moved:
        return True
    ours = {party_id(org.uscc)} | ({party_id(org.uscc, org.gln)} if org.gln else set())
    document = event.document
    named = {
        entry.get(key)
        for list_name, key in (("sourceList", "source"), ("destinationList", "destination"))
        for entry in document.get(list_name) or ()
        if isinstance(entry, dict)
    }
    return bool(named & ours)


def _matches(event: Event, query: EventQuery, declaration: ErrorDeclaration | None) -> bool:
    document = event.document
    if query.corrective_event_ids and not (
        declaration and set(query.corrective_event_ids) & set(declaration.corrective_event_ids)
    ):
        return False
    checks: list[tuple[Sequence[str], Iterator[str], bool]] = [
        (query.match_epc, _values(document, ("epcList", "childEPCs"), ()), True),
        (
            query.match_any_epc,
            _values(document, ("epcList", "childEPCs", "inputEPCList", "outputEPCList"), ("parentID",)),
            True,
        ),
        (query.match_epc_class, _classes(document), True),
        (query.match_parent_id, _values(document, (), ("parentID",)), True),
        (query.match_input_epc, _values(document, ("inputEPCList",), ()), True),
        (query.match_output_epc, _values(document, ("outputEPCList",), ()), True),
        (query.read_points, _ids(document, "readPoint"), False),
        (query.biz_locations, _ids(document, "bizLocation"), False),
    ]
    matched = all(not wanted or _any_match(wanted, found, epc=epc) for wanted, found, epc in checks)
    return matched and query.typed.matches(document) and query.sensor.matches(document)


def _values(document: Mapping[str, Any], lists: Sequence[str], singles: Sequence[str]) -> Iterator[str]:
    for name in lists:
        yield from (v for v in document.get(name) or () if isinstance(v, str))
    for name in singles:
        if isinstance(document.get(name), str):
            yield document[name]


def _classes(document: Mapping[str, Any]) -> Iterator[str]:
    for name in ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"):
        for element in document.get(name) or ():
            if isinstance(element, dict) and isinstance(element.get("epcClass"), str):
                yield element["epcClass"]


def _ids(document: Mapping[str, Any], name: str) -> Iterator[str]:
    value = document.get(name)
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        yield value["id"]


def _any_match(wanted: Sequence[str], found: Iterable[str], *, epc: bool) -> bool:
    """EPCs and classes match in canonical Digital Link form (a URN and a Digital Link of one item are one EPC);
    an ``idpat`` pattern with a wildcard matches everything under its GTIN."""
    found_forms = {_canonical(v) if epc else v for v in found}
    for value in wanted:
        target = _canonical(value) if epc else value
        if target in found_forms:
            return True
        if epc and ":idpat:" in value and any(f.startswith(target + "/") for f in found_forms):
            return True
    return False


@lru_cache(maxsize=1 << 16)
def _canonical(uri: str) -> str:
    return canonical_uri(uri) or uri


def _as_published(event: Event, declaration: ErrorDeclaration | None) -> dict[str, Any]:
    """The stored event as EPCIS publishes it: our eventID (its hash), our recordTime, and its error declaration
    (which the hash ignores) when one was captured."""
    published = {**event.document, "recordTime": _utc(event.recorded_at)}
    if declaration is not None:
        published["errorDeclaration"] = published_declaration(declaration)
    return published


def _utc(moment: datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
