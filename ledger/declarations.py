"""Error declarations (EPCIS 2.0 §7.4.1.5): stored beside the event they declare erroneous, never inside it.

A declaration is captured as the erroneous event again, with an ``errorDeclaration`` added. The CBV 2.0 hash
ignores that field, so the declaration carries the original's id; this module keeps it in its own table
(``error_declarations``), one per event, and gives it back the way EPCIS publishes it.

What a declaration does to the ledger's state is deliberately little (docs/events.md, "Error declarations"): the
erroneous event, its hash-chain link and its anchor stay, since the history is append-only; nothing it moved is
moved back. The correction is the corrective events, ordinary events that go through the same rules as any other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.errors import AlreadyExists, Forbidden, InvalidEvent
from ledger.models import ErrorDeclaration, Event, Organisation, Role

_REASON_FORMS: Final = ("https://ref.gs1.org/cbv/ER-", "urn:epcglobal:cbv:er:")


def declare_error(
    session: Session,
    *,
    org: Organisation,
    event: Event,
    declaration: Mapping[str, Any],
    corrective_event_ids: Sequence[str],
) -> ErrorDeclaration | None:
    """Store ``declaration`` against ``event``; ``None`` when that very declaration is already stored.

    Only the organisation that recorded the event, or a regulator, may declare it erroneous. A second, different
    declaration of one event is refused: EPCIS has no way to withdraw the first.
    """
    if event.org_id != org.id and not org.has_role(Role.REGULATOR):
        raise Forbidden(
            f"only the organisation that recorded {event.event_id} (or a regulator) may declare it erroneous",
            event_id=event.event_id,
        )
    existing = declaration_of(session, event.seq)
    if existing is not None:
        if existing.declaration == dict(declaration):
            return None
        raise AlreadyExists(f"{event.event_id} was already declared erroneous", event_id=event.event_id)
    try:
        declared_at = datetime.fromisoformat(str(declaration["declarationTime"]))
    except (KeyError, ValueError) as error:
        raise InvalidEvent(
            "errorDeclaration.declarationTime must be an ISO 8601 date-time with an offset",
            field="errorDeclaration.declarationTime",
        ) from error
    if declared_at.tzinfo is None:
        raise InvalidEvent("errorDeclaration.declarationTime has no offset", field="errorDeclaration.declarationTime")
    reason = declaration.get("reason")
    row = ErrorDeclaration(
        event_seq=event.seq,
        declared_by_org_id=org.id,
        declaration_time=declared_at,
        reason=reason if isinstance(reason, str) else None,
        corrective_event_ids=list(corrective_event_ids),
        declaration=dict(declaration),
    )
    session.add(row)
    session.flush()
    return row


def declaration_of(session: Session, event_seq: int) -> ErrorDeclaration | None:
    """The declaration stored against one event, if any (the accessor other features use)."""
    return session.get(ErrorDeclaration, event_seq)


def declarations_of(session: Session, event_seqs: Iterable[int]) -> dict[int, ErrorDeclaration]:
    seqs = list(event_seqs)
    if not seqs:
        return {}
    rows = session.scalars(select(ErrorDeclaration).where(ErrorDeclaration.event_seq.in_(seqs)))
    return {row.event_seq: row for row in rows}


def published(row: ErrorDeclaration) -> dict[str, Any]:
    """The ``errorDeclaration`` object as EPCIS publishes it: as captured, corrective ids as resolved."""
    published = dict(row.declaration)
    if row.corrective_event_ids:
        published["correctiveEventIDs"] = list(row.corrective_event_ids)
    return published


def reason_forms(reasons: Iterable[str]) -> list[str]:
    """A CBV error reason in every spelling a declaration may use (bare, Web URI, URN)."""
    forms: list[str] = []
    for reason in reasons:
        bare = reason
        for prefix in _REASON_FORMS:
            bare = bare.removeprefix(prefix)
        forms.extend((reason, bare, *(prefix + bare for prefix in _REASON_FORMS)))
    return forms
