"""Investigations: the place and window in, the batches present, their sources and spread out, named."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.models import Recall, RecallStatus, RecallTarget
from ledger.registry import organisation_by_uscc
from recall.investigate import Investigation, describe_investigation, investigate
from trace_api.investigations.schemas import InvestigationOut, OpenRecallOut
from trace_api.web.queries import org_names


def investigate_place(
    session: Session, *, location_id: int | None, org_uscc: str | None, since: datetime, until: datetime
) -> Investigation:
    """What was at a location, or anywhere of an organisation (by USCC), between ``since`` and ``until``."""
    org_id = organisation_by_uscc(session, org_uscc).id if org_uscc is not None else None
    return investigate(session, location_id=location_id, org_id=org_id, since=since, until=until)


def describe(
    session: Session, found: Investigation, *, edges: bool, max_holders: int, leave_out_self: bool = False
) -> InvestigationOut:
    described = describe_investigation(
        session, found, edges=edges, max_holders=max_holders, leave_out_self=leave_out_self
    )
    result = InvestigationOut.model_validate(described)
    under_recall = open_recalls(session, [p.batch_id for p in result.present])
    for present in result.present:
        present.open_recall = under_recall.get(present.batch_id)
    return result


def open_recalls(session: Session, batch_ids: list[int]) -> dict[int, OpenRecallOut]:
    """The recall not yet closed of each batch that has one (the earliest, if several), by batch id."""
    rows = session.execute(
        select(RecallTarget.batch_id, Recall.id, Recall.number, Recall.status)
        .join(Recall, Recall.id == RecallTarget.recall_id)
        .where(RecallTarget.batch_id.in_(batch_ids), Recall.status != RecallStatus.CLOSED)
        .order_by(Recall.id.desc())
    )
    return {batch_id: OpenRecallOut(id=i, number=n, status=str(status)) for batch_id, i, n, status in rows}


def graph_names(session: Session, found: Investigation, result: InvestigationOut) -> dict[int, str]:
    """Names for the holder graph: the place, the holders listed, and consignees whose goods are still in
    transit (they hold nothing yet, so no holder list names them)."""
    names = {o.id: o.name for o in result.other_holders} | {found.org_id: result.org.name}
    in_transit = {e.to_org_id for e in found.spread.edges if e.to_org_id is not None} - names.keys()
    return names | org_names(session, in_transit)
