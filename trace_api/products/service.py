"""Products, as the API and the pages read them."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import errors
from ledger.identifiers import normalize_gtin
from ledger.models import Batch, Product


def product_by_gtin(session: Session, gtin: str) -> Product:
    gtin = normalize_gtin(gtin)
    product = session.scalar(select(Product).where(Product.gtin == gtin))
    if product is None:
        raise errors.UnknownProduct(f"no product with GTIN {gtin}", gtin=gtin)
    return product


def batch_counts(session: Session, product_ids: list[int]) -> dict[int, int]:
    """How many batches each product has, for the product list."""
    if not product_ids:
        return {}
    query = select(Batch.product_id, func.count()).where(Batch.product_id.in_(product_ids)).group_by(Batch.product_id)
    counts: dict[int, int] = dict(session.execute(query).all())
    return counts
