"""What the recall routes and pages share beyond the views: the exports, and the holder graph of a recall."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from ledger.models import Recall
from recall import export, repository
from recall.walk import forward
from trace_api.recalls.schemas import HolderOut
from trace_api.web.files import XLSX
from trace_api.web.holder_graph import HolderGraph, holder_graph
from trace_api.web.queries import org_names

ExportKind = Literal["csv", "xlsx", "epcis.json"]


@dataclass(frozen=True)
class Export:
    content: bytes
    media_type: str
    filename: str


def export_file(session: Session, recall: Recall, kind: ExportKind) -> Export:
    """The FSMA 204 rows as CSV (UTF-8 with BOM) or XLSX, or every event of the goods as an EPCIS 2.0 document."""
    if kind == "epcis.json":
        document = export.epcis_export(session, recall.id)
        content = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        return Export(content, "application/ld+json", f"{recall.number}.epcis.json")
    rows = export.export_rows(session, recall.id)
    if kind == "csv":
        return Export(export.to_csv(rows), "text/csv; charset=utf-8", f"{recall.number}.csv")
    return Export(export.to_xlsx(rows, title=recall.number), XLSX, f"{recall.number}.xlsx")


def standing(rows: list[HolderOut]) -> str:
    """Where a holder stands in a recall, over its rows: settled, acknowledged or still pending."""
    if all(r.settled for r in rows):
        return "settled"
    return "acknowledged" if any(r.acknowledged_at is not None for r in rows) else "pending"


def recall_graph(session: Session, recall_id: int, holders: list[HolderOut]) -> HolderGraph:
    """The recall's holder graph: the same forward walk that opened it, boxes coloured by progress."""
    targets = repository.targets_of(session, recall_id)
    whole = [batch_id for batch_id, code_id in targets if code_id is None]
    codes = [code_id for _batch_id, code_id in targets if code_id is not None]
    trace = forward(session, batch_ids=whole, code_ids=codes)
    rows: dict[int, list[HolderOut]] = {}
    for holder in holders:
        rows.setdefault(holder.org_id, []).append(holder)
    statuses = {org_id: standing(mine) for org_id, mine in rows.items()}
    names = org_names(session, {h.org_id for h in trace.holders} | {e.to_org_id for e in trace.edges if e.to_org_id})
    return holder_graph(trace, names, statuses, default="passed")
