"""The public view of a code, cached per (code, version of everything the view shows).

Building a consumer's view takes about twenty statements (product, batch, item, journey, recalls, holds,
temperature record, documents, anchoring); most lookups are of codes whose view has not changed since the last
one. So one statement reads a *version* of the view — the batch's hash-chain head (it moves with every event on
the batch, and names its whole history, so two ledgers never share one), the item's status, how many of the
batch's events are confirmed on chain, every recall (they are few), unreleased holds, documents, temperature logs and
excursions of the batch — and the view built for that version is answered again while it holds
(docs/performance.md).

The contract: whatever the public view shows must move this version when it changes, or the change is not seen.
Two things are known not to: an organisation's or location's new name (shown in journey steps) is seen once the
batch has a new event; the view's expiry flag is checked against today's date, which is part of the key.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import and_, bindparam, false, func, or_, select
from sqlalchemy.orm import Session

from ledger.identifiers import DigitalLink
from ledger.models import (
    Anchor,
    AnchorStatus,
    Batch,
    Code,
    CodeKind,
    Document,
    Event,
    EventBatch,
    Excursion,
    ExcursionGoods,
    Hold,
    Product,
    Recall,
    ShipmentLine,
    TemperatureLog,
)
from trace_api.web.lookup import PublicView, public_view

CACHED_VIEWS: Final = 20_000
"""Views kept per API process (a few kilobytes each), least recently used dropped first."""


@dataclass(frozen=True, slots=True)
class CachedView:
    view: PublicView
    json: bytes
    """The view as the JSON answer, serialised once."""


def _count_of(*columns: Any, where: Any, start: Any = None, joins: tuple[tuple[Any, Any], ...] = ()) -> list[Any]:
    """One correlated scalar subquery per aggregate column (a subquery of several columns cannot be scalar)."""
    out = []
    for column in columns:
        sub = select(column) if start is None else select(column).select_from(start)
        for table, on in joins:
            sub = sub.join(table, on)
        out.append(sub.where(where).correlate(Batch).scalar_subquery())
    return out


def _version_statement(*, item: bool) -> Any:
    """Built once (the code's names are bound parameters): only its execution is paid per lookup."""
    batch = Batch.id
    on_shipment = select(ShipmentLine.shipment_id).where(ShipmentLine.batch_id == batch)
    columns = [
        *_count_of(
            func.count(Event.seq),
            where=EventBatch.batch_id == batch,
            start=EventBatch,
            joins=(
                (Event, Event.seq == EventBatch.event_seq),
                (Anchor, and_(Anchor.id == Event.anchor_id, Anchor.status == AnchorStatus.CONFIRMED)),
            ),
        ),
        # Every recall, anywhere: the page shows the recalls of the batches an item was made from too, open or
        # closed (docs/recall.md), and recalls are rare, so any new, opened or closed one moves every version.
        *(
            select(column).scalar_subquery()
            for column in (func.count(Recall.id), func.count(Recall.opened_at), func.count(Recall.closed_at))
        ),
        select(func.coalesce(func.max(Recall.id), 0)).scalar_subquery(),
        *_count_of(
            func.count(Hold.id),
            func.coalesce(func.sum(Hold.id), 0),
            where=and_(Hold.batch_id == batch, Hold.released_at.is_(None)),
        ),
        *_count_of(func.count(Document.id), func.max(Document.id), where=Document.batch_id == batch),
        *_count_of(
            func.count(TemperatureLog.id),
            func.sum(TemperatureLog.reading_count),
            func.max(TemperatureLog.last_ms),
            where=or_(TemperatureLog.batch_id == batch, TemperatureLog.shipment_id.in_(on_shipment)),
        ),
        *_count_of(
            func.count(Excursion.id),
            func.count(Excursion.ended_at),
            func.count(Excursion.acknowledged_at),
            func.count(Excursion.candidate_at),
            func.count(Excursion.disposed_at),
            where=ExcursionGoods.batch_id == batch,
            start=Excursion,
            joins=((ExcursionGoods, ExcursionGoods.excursion_id == Excursion.id),),
        ),
    ]
    on_item = and_(Code.batch_id == Batch.id, Code.serial == bindparam("serial"), Code.kind == CodeKind.ITEM)
    return (
        select(Batch.chain_head, Code.id, Code.status, *columns)
        .select_from(Product)
        .join(Batch, Batch.product_id == Product.id)
        .outerjoin(Code, on_item if item else false())
        .where(Product.gtin == bindparam("gtin"), Batch.lot == bindparam("lot"))
    )


_ITEM_VERSION: Final = _version_statement(item=True)
_BATCH_VERSION: Final = _version_statement(item=False)


class ViewCache:
    """Public views by (code, version), least recently used dropped first; shared by the request threads."""

    def __init__(self, size: int = CACHED_VIEWS) -> None:
        self.size = size
        self._views: OrderedDict[tuple[Any, ...], CachedView] = OrderedDict()
        self._lock = threading.Lock()

    def view(
        self,
        session: Session,
        link: DigitalLink,
        public_url: str,
        signature: str | None = None,
        now: dt.datetime | None = None,
    ) -> tuple[CachedView, int | None]:
        """The code's public view: the cached one while its version holds, else built (and kept); and the id of
        the item when its lookups are counted (docs/alerts.md).

        The label's signature is part of the key, so only the exact signature a view was built (and checked) with
        is answered from the cache; a missing, altered or foreign one is checked anew and refused. The view of an
        item whose lookups are counted (sold, administered) shows that count, so it is built every time.
        """
        key = self._key(session, link, public_url)
        if key is not None:
            key = (*key, signature)
            with self._lock:
                cached = self._views.get(key)
                if cached is not None:
                    self._views.move_to_end(key)
                    return cached, None
        # A code never issued, or a label whose signature is not its issuer's, raises here and is not kept.
        built, counted_code_id = public_view(session, link, public_url, signature=signature, now=now)
        cached = CachedView(built, built.model_dump_json().encode())
        if key is not None and counted_code_id is None:
            with self._lock:
                self._views[key] = cached
                while len(self._views) > self.size:
                    self._views.popitem(last=False)
        return cached, counted_code_id

    @staticmethod
    def _key(session: Session, link: DigitalLink, public_url: str) -> tuple[Any, ...] | None:
        if link.gtin is None or link.lot is None:
            return None
        names = {"gtin": link.gtin, "lot": link.lot}
        if link.serial is None:
            version = session.execute(_BATCH_VERSION, names).first()
        else:
            version = session.execute(_ITEM_VERSION, {**names, "serial": link.serial}).first()
        if version is None or (link.serial is not None and version[1] is None):
            return None
        return (link.path, public_url, dt.date.today(), *version)
