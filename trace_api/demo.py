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
from ledger.codes import issue_item_codes
from ledger.goods import Goods
from ledger.identifiers import DigitalLink, make_uscc
from ledger.models import Category, Location, Organisation, Role
from ledger.recorder import Signer
from ledger.registry import BatchAttributes, create_location, create_organisation, create_product, register_batch

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


def seed(session: Session, signer: Signer, *, company_prefix: str, public_url: str) -> Demo:
    demo = Demo()
    first_uscc = make_uscc(ORGS[0][2])
    if session.scalar(select(Organisation.id).where(Organisation.uscc == first_uscc)) is not None:
        demo.already = True
        return demo
    orgs: dict[str, Organisation] = {}
    places: dict[str, Location] = {}
    for key, name, body, role, kind in ORGS:
        org, token = create_organisation(session, signer.vault, name=name, uscc=make_uscc(body), roles=[role])
        orgs[key], demo.tokens[key] = org, token
        places[key] = create_location(session, org, name=name, kind=kind, region_code="330106")

    def at(key: str) -> trade.ScanContext:
        return trade.ScanContext(org=orgs[key], location_id=places[key].id)

    beef = create_product(
        session,
        orgs["importer"],
        name="阿根廷冷冻牛腱",
        name_en="Frozen beef shank (AR)",
        category=Category.COLD_CHAIN,
        company_prefix=company_prefix,
        storage_max_c=-18,
    )
    beef_batch = register_batch(
        session,
        signer,
        orgs["importer"],
        gtin=beef.gtin,
        lot="AR2026-1127",
        quantity=500,
        location_id=places["importer"].id,
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
    serials = issue_item_codes(session, signer, orgs["importer"], beef_batch.id, 60)
    items = [DigitalLink(gtin=beef.gtin, lot=beef_batch.lot, serial=s) for s in serials]
    _hop(session, signer, at("importer"), orgs["wholesale1"], at("wholesale1"), Goods(codes=tuple(items[:40])))
    _hop(session, signer, at("wholesale1"), orgs["wholesale2"], at("wholesale2"), Goods(codes=tuple(items[:20])))
    _hop(session, signer, at("wholesale2"), orgs["supermarket"], at("supermarket"), Goods(codes=tuple(items[:10])))
    _hop(session, signer, at("wholesale1"), orgs["restaurant"], at("restaurant"), Goods(codes=tuple(items[20:30])))
    trade.sell(session, signer, at("supermarket"), Goods(codes=(items[0],)))
    demo.links["beef_item"] = items[0].uri(public_url)
    demo.links["beef_batch"] = DigitalLink(gtin=beef.gtin, lot=beef_batch.lot).uri(public_url)

    vaccine = create_product(
        session,
        orgs["manufacturer"],
        name="四价流感病毒裂解疫苗",
        name_en="Quadrivalent influenza vaccine",
        category=Category.VACCINE,
        company_prefix=company_prefix,
        storage_min_c=2,
        storage_max_c=8,
    )
    dose_batch = register_batch(
        session,
        signer,
        orgs["manufacturer"],
        gtin=vaccine.gtin,
        lot="FLU2026-0931",
        quantity=200,
        location_id=places["manufacturer"].id,
        attrs=BatchAttributes(
            production_date=date.today() - timedelta(days=60),
            expiry_date=date.today() + timedelta(days=300),
            vaccine_approval_no="国药准字S20263001",
            lot_release_cert_no="SJ20264521",
            manufacturer=orgs["manufacturer"].name,
        ),
    )
    dose_serials = issue_item_codes(session, signer, orgs["manufacturer"], dose_batch.id, 50)
    doses = [DigitalLink(gtin=vaccine.gtin, lot=dose_batch.lot, serial=s) for s in dose_serials]
    _hop(session, signer, at("manufacturer"), orgs["province_cdc"], at("province_cdc"), Goods(codes=tuple(doses)))
    _hop(session, signer, at("province_cdc"), orgs["county_cdc"], at("county_cdc"), Goods(codes=tuple(doses[:30])))
    _hop(session, signer, at("county_cdc"), orgs["clinic"], at("clinic"), Goods(codes=tuple(doses[:10])))
    trade.administer(session, signer, at("clinic"), Goods(codes=(doses[0], doses[1])))
    demo.links["vaccine_dose"] = doses[0].uri(public_url)
    return demo


def _hop(
    session: Session,
    signer: Signer,
    sender: trade.ScanContext,
    receiver: Organisation,
    receiving: trade.ScanContext,
    goods: Goods,
) -> None:
    _event, shipment = trade.ship(session, signer, sender, goods, to_org_id=receiver.id)
    trade.receive(session, signer, receiving, shipment_id=shipment.id)
