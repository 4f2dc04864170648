"""Products, as the API reads them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import errors
from ledger.identifiers import normalize_gtin
from ledger.models import Product


def product_by_gtin(session: Session, gtin: str) -> Product:
    gtin = normalize_gtin(gtin)
    product = session.scalar(select(Product).where(Product.gtin == gtin))
    if product is None:
        raise errors.UnknownProduct(f"no product with GTIN {gtin}", gtin=gtin)
    return product
