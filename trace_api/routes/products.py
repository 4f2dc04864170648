from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select

from ledger import errors
from ledger.identifiers import normalize_gtin
from ledger.models import Product, Role
from ledger.registry import create_product
from trace_api.deps import CurrentOrg, SessionDep, StateDep, require_role
from trace_api.errors import error_responses
from trace_api.schemas.goods import ProductCreate, ProductOut

router = APIRouter(prefix="/api/v1", tags=["products"])


@router.post(
    "/products",
    status_code=201,
    response_model=ProductOut,
    responses=error_responses(errors.RoleRequired, errors.AlreadyExists, errors.InvalidGTIN),
)
def register_product(body: ProductCreate, org: CurrentOrg, session: SessionDep, state: StateDep) -> ProductOut:
    """Register a product (producers and importers). Without a GTIN one is assigned under the network prefix."""
    require_role(org, Role.PRODUCER)
    product = create_product(session, org, company_prefix=state.settings.gs1_company_prefix, **body.model_dump())
    return ProductOut.model_validate(product)


@router.get("/products/{gtin}", response_model=ProductOut, responses=error_responses(errors.UnknownProduct))
def product(gtin: str, _org: CurrentOrg, session: SessionDep) -> ProductOut:
    gtin = normalize_gtin(gtin)
    row = session.scalar(select(Product).where(Product.gtin == gtin))
    if row is None:
        raise errors.UnknownProduct(f"no product with GTIN {gtin}", gtin=gtin)
    return ProductOut.model_validate(row)
