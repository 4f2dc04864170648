"""What the resolver answers for a case's or pallet's code, ``/00/{sscc}``: the lots it holds now and the lots it
held before (an unpacked case still names what it carried), each a link to its batch page, warnings first.

Only what a batch page already shows publicly is shown: lots, product names, and their recall, hold and expiry
flags; not who holds the case (docs/identifiers.md).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import errors
from ledger.goods import batch_state
from ledger.identifiers import DigitalLink
from ledger.models import Batch, Code, Product
from recall.aggregation import items_ever_inside, items_inside_now


class LotInCase(BaseModel):
    gtin: str
    lot: str
    product: str
    product_en: str | None
    inside_now: int  # item codes of the lot in the case (at any depth) now
    ever_inside: int  # item codes of the lot it held at some time
    url: str
    warnings: list[str]  # recalled, held, expired: as the batch page says


class CaseView(BaseModel):
    sscc: str
    element_string: str
    uri: str
    lots: list[LotInCase]
    warnings: list[str]  # every warning of any lot, once


def case_view(session: Session, sscc: str, public_url: str) -> CaseView:
    link = DigitalLink(sscc=sscc)
    case = session.scalar(select(Code).where(Code.sscc == link.sscc))
    if case is None:
        raise errors.UnknownCode(f"{link.element_string()} was never issued on this network", code=link.path)
    now = Counter(c.batch_id for c in {c.id: c for c in items_inside_now(session, [case])}.values())
    ever = Counter(c.batch_id for c in {c.id: c for c in items_ever_inside(session, [case])}.values())
    lots = [_lot(session, batch_id, now[batch_id], count, public_url) for batch_id, count in sorted(ever.items())]
    return CaseView(
        sscc=link.sscc or sscc,
        element_string=link.element_string(),
        uri=link.uri(public_url),
        lots=lots,
        warnings=sorted({w for lot in lots for w in lot.warnings}),
    )


def _lot(session: Session, batch_id: int | None, inside_now: int, ever_inside: int, public_url: str) -> LotInCase:
    batch = session.get(Batch, batch_id)
    assert batch is not None
    product = session.get(Product, batch.product_id)
    assert product is not None
    state = batch_state(session, batch, product, 0)
    expired = batch.expiry_date is not None and batch.expiry_date < dt.date.today()
    flags = {"recalled": bool(state.open_recall_numbers), "held": state.held_for_org, "expired": expired}
    return LotInCase(
        gtin=product.gtin,
        lot=batch.lot,
        product=product.name,
        product_en=product.name_en,
        inside_now=inside_now,
        ever_inside=ever_inside,
        url=DigitalLink(gtin=product.gtin, lot=batch.lot).uri(public_url),
        warnings=[name for name, raised in flags.items() if raised],
    )
