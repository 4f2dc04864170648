"""Traces for holders and regulators: of a code's journey, and of the trade graph forward or back."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ledger import errors
from ledger.identifiers import DigitalLink, parse_code
from ledger.models import Organisation, Role
from recall.investigate import Direction, describe_trace, has_held, roots_of
from recall.walk import back, forward
from trace_api.tracing.schemas import CodeTrace
from trace_api.web.lookup import FullStep, PublicStep, code_view, find, journey
from trace_api.web.trace_views import TraceOut


def link_of(gtin: str | None, lot: str | None, code: str | None) -> DigitalLink:
    """The goods a trace starts from: named by a code in any form, or by GTIN and lot."""
    if code is not None:
        if gtin is not None or lot is not None:
            raise errors.InvalidInput("name the goods by code, or by gtin and lot, not both")
        return parse_code(code)
    if gtin is None or lot is None:
        raise errors.InvalidInput("a trace needs ?code=… or ?gtin=…&lot=…")
    return DigitalLink(gtin=gtin, lot=lot)


def trade_trace(session: Session, org: Organisation, direction: Direction, link: DigitalLink) -> TraceOut:
    """Every holder downstream (forward) or every source upstream (back), for a regulator or a holder."""
    batch_ids, code_ids = roots_of(session, link)
    walk = forward if direction == "forward" else back
    trace = walk(session, batch_ids=batch_ids, code_ids=code_ids)
    if not org.has_role(Role.REGULATOR) and not has_held(session, org.id, trace):
        raise errors.RoleRequired(
            "only a regulator, or an organisation that held these goods, may trace them",
            required=[Role.REGULATOR.value],
        )
    return TraceOut.model_validate(describe_trace(session, trace, direction))


def code_trace(session: Session, org: Organisation, link: DigitalLink, public_url: str) -> CodeTrace:
    """A code's journey: the steps the caller took part in in full, the others as the public sees them (all in
    full for a regulator). Only its registrant, those who took part and regulators may see it."""
    found = find(session, link)
    regulator = org.has_role(Role.REGULATOR)
    steps = journey(session, found)
    involved = [s for s in steps if org.id in s.party_ids]
    if not regulator and found.batch.registrant_org_id != org.id and not involved:
        raise errors.UnknownCode(f"{link.element_string()} is not visible to this organisation", code=link.path)
    mine = {s.event_id for s in involved}
    shown: list[FullStep | PublicStep] = [
        FullStep.model_validate(s.full()) if regulator or s.event_id in mine else PublicStep.model_validate(s.public())
        for s in steps
    ]
    return CodeTrace(**dict(code_view(session, link, found, public_url)), journey=shown)
