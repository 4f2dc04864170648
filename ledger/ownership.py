"""What belongs to whom: a GTIN to the organisation that registered its product, a location to the organisation
that registered it. Access is decided by organisation id, never by a name (two organisations may share a display
name). See docs/data-model.md, "Who owns what"."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ledger.errors import NotOwner, UnknownLocation
from ledger.models import Location, Organisation, Product


def require_product_owner(product: Product, org: Organisation) -> None:
    """Only the product's owner registers batches under its GTIN: anyone else would take its future lots."""
    if product.owner_org_id != org.id:
        raise NotOwner(
            f"GTIN {product.gtin} belongs to another organisation: only its owner registers batches under it",
            field="gtin",
            gtin=product.gtin,
        )


def require_own_location(session: Session, org: Organisation, location_id: int, *, field: str = "location_id") -> None:
    """An event happens at one of its recorder's own locations; an unknown id is named as such."""
    location = session.get(Location, location_id)
    if location is None:
        raise UnknownLocation(f"{field}: no location {location_id}", field=field, location_id=location_id)
    if location.org_id != org.id:
        raise NotOwner(
            f"{field}: location {location_id} belongs to another organisation", field=field, location_id=location_id
        )
