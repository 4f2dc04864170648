"""Products over HTTP: register one, look one up by GTIN."""

from __future__ import annotations

from fastapi import APIRouter

from ledger import errors
from ledger.models import Role
from ledger.registry import create_product
from trace_api.products.schemas import ProductCreate, ProductOut
from trace_api.products.service import product_by_gtin
from trace_api.web.deps import CurrentOrg, SessionDep, StateDep, require_role
from trace_api.web.errors import error_responses

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
    return ProductOut.model_validate(product_by_gtin(session, gtin))
