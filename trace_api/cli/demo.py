"""``lotline demo``: a small, realistic network so a newcomer sees lotline working.

Cold chain: a Zhejiang importer brings in Argentine beef, sells it through a first-tier and a second-tier wholesale
market to a supermarket and a restaurant. Vaccines: a manufacturer ships influenza vaccine to the provincial CDC,
on to a county CDC and a vaccination clinic, which administers doses. Everything goes through the same ledger
services the API uses (rules, signatures, outbox), so a running worker anchors it like any other scan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import trade
from ledger.code_signing import signed_uri
from ledger.codes import issue_item_codes
from ledger.errors import UnknownOrganisation
from ledger.goods import Goods
from ledger.identifiers import DigitalLink, make_uscc
from ledger.models import Category, Code, Location, Organisation, Role
from ledger.recorder import Signer
from ledger.registry import (
    BatchAttributes,
    create_location,
    create_organisation,
    create_product,
    organisation_by_uscc,
    register_batch,
)

ORGS: list[tuple[str, str, str, Role, str]] = [
    # key, name, USCC body (17), role, location kind
    ("importer", "浙江海港冷链进口有限公司", "91330200MA2D00001", Role.PRODUCER, "cold_store"),
    ("wholesale1", "杭州农副产品物流中心（一级批发）", "91330100MA2D00002", Role.DISTRIBUTOR, "market"),
    ("wholesale2", "下城区农贸批发市场（二级批发）", "91330100MA2D00003", Role.DISTRIBUTOR, "market"),
    ("supermarket", "联华超市文三路店", "91330100MA2D00004", Role.RETAILER, "store"),
    ("restaurant", "知味观湖滨店", "91330100MA2D00005", Role.RETAILER, "restaurant"),
    ("manufacturer", "华东生物制品有限公司", "91330100MA2D00006", Role.PRODUCER, "warehouse"),
    ("province_cdc", "浙江省疾病预防控制中心", "12330000MB0D00007", Role.DISTRIBUTOR, "cdc"),
    ("county_cdc", "西湖区疾病预防控制中心", "12330106MB0D00008", Role.DISTRIBUTOR, "cdc"),
    ("clinic", "西湖区北山街道社区卫生服务中心接种门诊", "12330106MB0D00009", Role.VACCINATOR, "clinic"),
]


@dataclass
class Demo:
    tokens: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    already: bool = False


@dataclass
class _Network:
    """The demo's organisations and their places, by key, and what they sign with."""

    session: Session
    signer: Signer
    company_prefix: str
    orgs: dict[str, Organisation] = field(default_factory=dict)
    places: dict[str, Location] = field(default_factory=dict)

    def at(self, key: str) -> trade.ScanContext:
        return trade.ScanContext(org=self.orgs[key], location_id=self.places[key].id)

    def hop(self, sender: str, receiver: str, items: list[DigitalLink]) -> None:
        """``sender`` ships the items to ``receiver``, which receives them."""
        goods = Goods(codes=tuple(items))
        _event, shipment = trade.ship(
            self.session, self.signer, self.at(sender), goods, to_org_id=self.orgs[receiver].id
        )
        trade.receive(self.session, self.signer, self.at(receiver), shipment_id=shipment.id)


def seed(session: Session, signer: Signer, *, company_prefix: str, public_url: str) -> Demo:
    if _seeded(session):
        return Demo(already=True)
    demo = Demo()
    network = _Network(session, signer, company_prefix)
    for key, name, body, role, kind in ORGS:
        org, token = create_organisation(session, signer.vault, name=name, uscc=make_uscc(body), roles=[role])
        network.orgs[key], demo.tokens[key] = org, token
        network.places[key] = create_location(session, org, name=name, kind=kind, region_code="330106")
    demo.links = _cold_chain(network, public_url) | _vaccines(network, public_url)
    return demo


def _seeded(session: Session) -> bool:
    try:
        organisation_by_uscc(session, make_uscc(ORGS[0][2]))
    except UnknownOrganisation:
        return False
    return True


def _cold_chain(network: _Network, public_url: str) -> dict[str, str]:
    """Argentine beef from the importer through two wholesale markets to a supermarket and a restaurant."""
    importer = network.orgs["importer"]
    beef = create_product(
        network.session,
        importer,
        name="阿根廷冷冻牛腱",
        name_en="Frozen beef shank (AR)",
        category=Category.COLD_CHAIN,
        company_prefix=network.company_prefix,
        storage_max_c=-18,
    )
    batch = register_batch(
        network.session,
        network.signer,
        importer,
        gtin=beef.gtin,
        lot="AR2026-1127",
        quantity=500,
        location_id=network.places["importer"].id,
        attrs=BatchAttributes(
            production_date=date.today() - timedelta(days=40),
            expiry_date=date.today() + timedelta(days=680),
            customs_declaration_no="310120261000456789",
            origin_country="AR",
            quarantine_cert_no="AR-SENASA-88213",
            nucleic_acid_test_no="ZJ-NAT-20261120-031",
            nucleic_acid_result="negative",
            disinfection_cert_no="NB-XD-20261121-17",
        ),
    )
    serials = issue_item_codes(network.session, network.signer, importer, batch.id, 60)
    items = [DigitalLink(gtin=beef.gtin, lot=batch.lot, serial=s) for s in serials]
    network.hop("importer", "wholesale1", items[:40])
    network.hop("wholesale1", "wholesale2", items[:20])
    network.hop("wholesale2", "supermarket", items[:10])
    network.hop("wholesale1", "restaurant", items[20:30])
    trade.sell(network.session, network.signer, network.at("supermarket"), Goods(codes=(items[0],)))
    return {
        "beef_item": _signed(network.session, batch.id, items[0], public_url),
        "beef_batch": DigitalLink(gtin=beef.gtin, lot=batch.lot).uri(public_url),
    }


def _vaccines(network: _Network, public_url: str) -> dict[str, str]:
    """Influenza vaccine from the manufacturer through the provincial and county CDCs to a clinic."""
    manufacturer = network.orgs["manufacturer"]
    vaccine = create_product(
        network.session,
        manufacturer,
        name="四价流感病毒裂解疫苗",
        name_en="Quadrivalent influenza vaccine",
        category=Category.VACCINE,
        company_prefix=network.company_prefix,
        storage_min_c=2,
        storage_max_c=8,
    )
    batch = register_batch(
        network.session,
        network.signer,
        manufacturer,
        gtin=vaccine.gtin,
        lot="FLU2026-0931",
        quantity=200,
        location_id=network.places["manufacturer"].id,
        attrs=BatchAttributes(
            production_date=date.today() - timedelta(days=60),
            expiry_date=date.today() + timedelta(days=300),
            vaccine_approval_no="国药准字S20263001",
            lot_release_cert_no="SJ20264521",
            manufacturer=manufacturer.name,
        ),
    )
    serials = issue_item_codes(network.session, network.signer, manufacturer, batch.id, 50)
    doses = [DigitalLink(gtin=vaccine.gtin, lot=batch.lot, serial=s) for s in serials]
    network.hop("manufacturer", "province_cdc", doses)
    network.hop("province_cdc", "county_cdc", doses[:30])
    network.hop("county_cdc", "clinic", doses[:10])
    trade.administer(network.session, network.signer, network.at("clinic"), Goods(codes=(doses[0], doses[1])))
    return {"vaccine_dose": _signed(network.session, batch.id, doses[0], public_url)}


def _signed(session: Session, batch_id: int, item: DigitalLink, public_url: str) -> str:
    """The item's address as its QR prints it, with the issuer's signature: the consumer page refuses a bare one."""
    signature = session.scalar(select(Code.signature).where(Code.batch_id == batch_id, Code.serial == item.serial))
    assert signature is not None, "issue_item_codes signs every code"
    return signed_uri(item, public_url, signature)
