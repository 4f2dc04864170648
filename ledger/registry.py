"""Registering who and what takes part: organisations and their tokens, locations, products and batches.

Services here never commit: the request or task that owns the session does.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import epcis_events, terms
from ledger.errors import AlreadyExists, InvalidInput, NotAuthenticated, UnknownOrganisation, UnknownProduct
from ledger.identifiers import make_gtin, normalize_gln, normalize_gtin, validate_lot, validate_uscc
from ledger.keys import KeyVault, address_of, generate_private_key, hash_token, new_token
from ledger.merkle import batch_key
from ledger.models import (
    ApiToken,
    Batch,
    Category,
    ChainJob,
    ChainJobStatus,
    Holding,
    Location,
    Movement,
    MovementKind,
    Organisation,
    Product,
    Role,
    utcnow,
)
from ledger.ownership import require_own_location, require_product_owner
from ledger.recorder import ZERO_HEAD, Signer, record_event
from ledger.rules import require_quantity

# What each flow must declare at registration (docs/flows.md). A batch missing one is refused, not half-registered.
REQUIRED_BY_CATEGORY: dict[Category, tuple[str, ...]] = {
    Category.COLD_CHAIN: (
        "customs_declaration_no",
        "origin_country",
        "quarantine_cert_no",
        "nucleic_acid_test_no",
        "disinfection_cert_no",
    ),
    Category.FARM_PRODUCE: ("farm_origin", "harvest_date"),
    Category.VACCINE: ("vaccine_approval_no", "lot_release_cert_no", "manufacturer", "expiry_date"),
}


@dataclass(frozen=True)
class BatchAttributes:
    production_date: date | None = None
    expiry_date: date | None = None
    customs_declaration_no: str | None = None
    origin_country: str | None = None
    quarantine_cert_no: str | None = None
    nucleic_acid_test_no: str | None = None
    nucleic_acid_result: str | None = None
    disinfection_cert_no: str | None = None
    farm_origin: str | None = None
    harvest_date: date | None = None
    rapid_test_result: str | None = None
    rapid_test_no: str | None = None
    vaccine_approval_no: str | None = None
    lot_release_cert_no: str | None = None
    manufacturer: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def create_organisation(
    session: Session,
    vault: KeyVault,
    *,
    name: str,
    uscc: str,
    roles: list[Role],
    name_en: str | None = None,
    gln: str | None = None,
) -> tuple[Organisation, str]:
    """Create an organisation with a fresh chain key; returns it with its first API token (shown once)."""
    uscc = validate_uscc(uscc)
    if not roles:
        raise InvalidInput("an organisation needs at least one role")
    if session.scalar(select(Organisation.id).where(Organisation.uscc == uscc)) is not None:
        raise AlreadyExists(f"an organisation with USCC {uscc} is already registered", uscc=uscc)
    private_key = generate_private_key()
    org = Organisation(
        name=name,
        name_en=name_en,
        uscc=uscc,
        roles=sorted({Role(r).value for r in roles}),
        gln=normalize_gln(gln) if gln else None,
        chain_address=address_of(private_key),
        encrypted_key=vault.encrypt(private_key, org_ref=uscc),
    )
    session.add(org)
    session.flush()
    token = issue_token(session, org)
    session.add(
        ChainJob(
            kind="grant_roles",
            payload={"org_id": org.id, "address": org.chain_address, "roles": org.roles},
            status=ChainJobStatus.PENDING,
        )
    )
    return org, token


def issue_token(
    session: Session, org: Organisation, *, label: str = "default", expires_at: datetime | None = None
) -> str:
    token = new_token()
    session.add(ApiToken(org_id=org.id, token_hash=hash_token(token), label=label, expires_at=expires_at))
    return token


def authenticate(session: Session, token: str, *, now: datetime | None = None) -> Organisation:
    """The organisation behind a bearer token; only the token's hash is ever looked up."""
    now = now or utcnow()
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None:
        raise NotAuthenticated("unknown or revoked token")
    if row.expires_at is not None and row.expires_at <= now:
        raise NotAuthenticated("token expired", expired_at=row.expires_at.isoformat())
    org = session.get(Organisation, row.org_id)
    if org is None:
        raise NotAuthenticated("token's organisation no longer exists")
    return org


def organisation_by_uscc(session: Session, uscc: str) -> Organisation:
    """The organisation registered under a 统一社会信用代码; a malformed code or an unknown one is refused by name."""
    uscc = validate_uscc(uscc)
    org = session.scalar(select(Organisation).where(Organisation.uscc == uscc))
    if org is None:
        raise UnknownOrganisation(f"no organisation with USCC {uscc} is registered", uscc=uscc)
    return org


def create_location(
    session: Session, org: Organisation, *, name: str, kind: str, gln: str | None = None, **details: str | None
) -> Location:
    location = Location(
        org_id=org.id,
        name=name,
        kind=kind,
        gln=normalize_gln(gln) if gln else None,
        region_code=details.get("region_code"),
        address=details.get("address"),
    )
    session.add(location)
    session.flush()
    return location


def create_product(
    session: Session,
    org: Organisation,
    *,
    name: str,
    category: Category,
    company_prefix: str,
    gtin: str | None = None,
    name_en: str | None = None,
    unit: str = "EA",
    storage_min_c: float | None = None,
    storage_max_c: float | None = None,
) -> Product:
    """Register a product; one without a GTIN gets the next one under the network's GS1 company prefix."""
    if storage_min_c is not None and storage_max_c is not None and storage_min_c > storage_max_c:
        raise InvalidInput(f"storage range is inverted: {storage_min_c} °C > {storage_max_c} °C")
    if gtin is None:
        taken = session.scalar(select(func.count()).select_from(Product)) or 0
        gtin = make_gtin(company_prefix, taken + 1)
        while session.scalar(select(Product.id).where(Product.gtin == gtin)) is not None:
            taken += 1
            gtin = make_gtin(company_prefix, taken + 1)
    else:
        gtin = normalize_gtin(gtin)
        if session.scalar(select(Product.id).where(Product.gtin == gtin)) is not None:
            raise AlreadyExists(f"GTIN {gtin} is already registered", gtin=gtin)
    product = Product(
        gtin=gtin,
        owner_org_id=org.id,
        name=name,
        name_en=name_en,
        category=category,
        unit=unit,
        storage_min_c=storage_min_c,
        storage_max_c=storage_max_c,
    )
    session.add(product)
    session.flush()
    return product


def registration_hash(
    product: Product, lot: str, registrant: Organisation, quantity: int, attrs: BatchAttributes
) -> str:
    """SHA-256 of the canonical JSON of what the registrant declared; anchored on chain by ``registerBatch``."""
    record = {
        "gtin": product.gtin,
        "lot": lot,
        "registrant": registrant.uscc,
        "quantity": quantity,
        "unit": product.unit,
        "attributes": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in asdict(attrs).items()},
    }
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "0x" + hashlib.sha256(canonical.encode()).hexdigest()


def register_batch(
    session: Session,
    signer: Signer,
    org: Organisation,
    *,
    gtin: str,
    lot: str,
    quantity: int,
    attrs: BatchAttributes,
    location_id: int | None = None,
    event_time: datetime | None = None,
) -> Batch:
    """Register a batch at first entry: the registrant holds all of it, and a commissioning event starts its chain."""
    gtin = normalize_gtin(gtin)
    lot = validate_lot(lot)
    quantity = require_quantity(quantity)
    product = _registrable_product(session, gtin, lot, attrs)
    require_product_owner(product, org)
    if location_id is not None:
        require_own_location(session, org, location_id)
    event_time = event_time or datetime.now(UTC)

    reg_hash = registration_hash(product, lot, org, quantity, attrs)
    fields = {k: v for k, v in asdict(attrs).items() if k != "extra"}
    batch = Batch(
        product_id=product.id,
        lot=lot,
        registrant_org_id=org.id,
        quantity=quantity,
        batch_key="0x" + batch_key(gtin, lot).hex(),
        registration_hash=reg_hash,
        chain_head=ZERO_HEAD,
        event_count=0,
        **fields,
    )
    session.add(batch)
    session.flush()
    session.add(Holding(org_id=org.id, batch_id=batch.id, on_hand=quantity, received=quantity, updated_at=event_time))
    document = epcis_events.lot_commissioning(
        event_time=event_time,
        lot=terms.quantity_element(gtin, lot, quantity, product.unit),
        registrant=terms.owning_party(org.uscc, org.gln),
        read_point=terms.location_uri(location_id) if location_id else None,
        ilmd=terms.lot_master_data(expiry_date=attrs.expiry_date, production_date=attrs.production_date),
    )
    event = record_event(
        session, signer, org=org, document=document, batches=[batch], event_time=event_time, location_id=location_id
    )
    session.add(
        Movement(
            event_seq=event.seq, batch_id=batch.id, kind=MovementKind.COMMISSION, to_org_id=org.id, quantity=quantity
        )
    )
    session.add(_registration_job(batch, product, org))
    return batch


def _registration_job(batch: Batch, product: Product, registrant: Organisation) -> ChainJob:
    """The chain job that anchors the registrant's declaration (``registerBatch``, docs/anchoring.md)."""
    return ChainJob(
        kind="register_batch",
        payload={
            "batch_id": batch.id,
            "batch_key": batch.batch_key,
            "registration_hash": batch.registration_hash,
            "category": product.category.value,
            "org_id": registrant.id,
        },
        status=ChainJobStatus.PENDING,
    )


def _registrable_product(session: Session, gtin: str, lot: str, attrs: BatchAttributes) -> Product:
    """The batch's product, once the batch is known to be new and to declare what its flow requires."""
    product = session.scalar(select(Product).where(Product.gtin == gtin))
    if product is None:
        raise UnknownProduct(f"no product with GTIN {gtin} is registered", gtin=gtin)
    missing = [name for name in REQUIRED_BY_CATEGORY[product.category] if getattr(attrs, name) in (None, "")]
    if missing:
        raise InvalidInput(f"a {product.category.value} batch must declare: {', '.join(missing)}", missing=missing)
    if session.scalar(select(Batch.id).where(Batch.product_id == product.id, Batch.lot == lot)) is not None:
        raise AlreadyExists(f"batch {gtin}/{lot} is already registered", gtin=gtin, lot=lot)
    return product
