"""A small, real trade network on the test ledger: the organisations and goods the rule tests trade."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger import errors
from ledger.codes import issue_item_codes
from ledger.identifiers import DigitalLink, make_uscc
from ledger.keys import KeyVault
from ledger.models import Base, Batch, Category, Code, Holding, Organisation, Role
from ledger.recorder import Signer
from ledger.registry import BatchAttributes, create_organisation, create_product, register_batch
from ledger.signing import SigningDomain

PREFIX = "6970001"
COLD_ATTRS = BatchAttributes(
    customs_declaration_no="310120261000123456",
    origin_country="BR",
    quarantine_cert_no="BR-Q-2026-0042",
    nucleic_acid_test_no="NAT-20261101-7",
    nucleic_acid_result="negative",
    disinfection_cert_no="DIS-3101-5566",
    expiry_date=date.today() + timedelta(days=365),
)
VACCINE_ATTRS = BatchAttributes(
    vaccine_approval_no="国药准字S20260001",
    lot_release_cert_no="SJ20261234",
    manufacturer="某生物制品有限公司",
    expiry_date=date.today() + timedelta(days=500),
)


def make_signer() -> Signer:
    return Signer(vault=KeyVault("test-master-secret"), domain=SigningDomain(chain_id=20260))


def org(db: Session, signer: Signer, n: int, name: str, *roles: Role) -> Organisation:
    uscc = make_uscc(f"91330100MA2{n:06d}")
    created, _token = create_organisation(db, signer.vault, name=name, uscc=uscc, roles=list(roles))
    return created


@dataclass
class Network:
    signer: Signer
    regulator: Organisation
    importer: Organisation
    wholesaler: Organisation
    retailer: Organisation
    clinic: Organisation
    beef: Batch  # cold chain, 100 units, 10 item codes held by the importer
    beef_gtin: str
    serials: list[str]
    vaccine: Batch
    vaccine_gtin: str

    def item(self, i: int) -> DigitalLink:
        return DigitalLink(gtin=self.beef_gtin, lot=self.beef.lot, serial=self.serials[i])


def build_network(db: Session) -> Network:
    signer = make_signer()
    regulator = org(db, signer, 1, "杭州市市场监督管理局", Role.REGULATOR)
    importer = org(db, signer, 2, "浙江冷链进口有限公司", Role.PRODUCER)
    wholesaler = org(db, signer, 3, "一级批发市场", Role.DISTRIBUTOR)
    retailer = org(db, signer, 4, "联华超市", Role.RETAILER)
    clinic = org(db, signer, 5, "西湖区接种门诊", Role.VACCINATOR)
    beef_product = create_product(
        db,
        importer,
        name="冷冻牛肉",
        category=Category.COLD_CHAIN,
        company_prefix=PREFIX,
        unit="EA",
        storage_min_c=-30,
        storage_max_c=-18,
    )
    beef = register_batch(db, signer, importer, gtin=beef_product.gtin, lot="BR2026A", quantity=100, attrs=COLD_ATTRS)
    serials = issue_item_codes(db, signer, importer, beef.id, 10)
    vaccine_product = create_product(
        db,
        importer,
        name="流感疫苗",
        category=Category.VACCINE,
        company_prefix=PREFIX,
        storage_min_c=2,
        storage_max_c=8,
    )
    vaccine = register_batch(
        db, signer, importer, gtin=vaccine_product.gtin, lot="V2026-01", quantity=50, attrs=VACCINE_ATTRS
    )
    db.commit()
    return Network(
        signer,
        regulator,
        importer,
        wholesaler,
        retailer,
        clinic,
        beef,
        beef_product.gtin,
        serials,
        vaccine,
        vaccine_product.gtin,
    )


def snapshot(db: Session) -> dict[str, Any]:
    """Everything a refused scan must leave untouched: row counts, holdings, code states, chain heads."""
    db.expire_all()
    counts = {t.name: db.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}
    holdings = sorted(
        (h.org_id, h.batch_id, h.on_hand, h.received, h.shipped, h.consumed, h.destroyed, h.transformed)
        for h in db.scalars(select(Holding))
    )
    codes = sorted(
        (c.id, c.status.value, c.holder_org_id, c.shipment_id, c.parent_id) for c in db.scalars(select(Code))
    )
    heads = sorted((b.id, b.chain_head, b.event_count) for b in db.scalars(select(Batch)))
    nonces = sorted((o.id, o.signature_nonce) for o in db.scalars(select(Organisation)))
    return {"counts": counts, "holdings": holdings, "codes": codes, "heads": heads, "nonces": nonces}


def refused(db: Session, error: type[errors.LotlineError], action: Callable[[], object]) -> errors.LotlineError:
    """Run a scan that must be refused; prove the refusal is typed and that the ledger is unchanged."""
    before = snapshot(db)
    with pytest.raises(error) as caught:
        action()
    db.rollback()
    assert snapshot(db) == before
    return caught.value
