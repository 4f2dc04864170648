"""Who takes part in a synthetic network and who trades with whom (docs/flows.md).

Three flows share one network: imported cold-chain food (importers → 一级批发 → 二级批发 → 商超/餐饮/摊位), farm
produce (farms/bases → market stalls) and vaccines (manufacturer → provincial CDC → county CDCs → vaccination
sites). The number of organisations grows linearly with the number of events asked for (about 6,000 at one
million), so that the widest batches of the few national importers reach thousands of holders at that size.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

from importers.generate import names
from ledger.identifiers import make_gtin, make_uscc
from ledger.identifiers.china import USCC_ALPHABET
from ledger.keys import address_of
from ledger.merkle import keccak256
from ledger.models import Category, Role

_CURVE_ORDER: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


class Kind(StrEnum):
    REGULATOR = "regulator"
    NATIONAL_IMPORTER = "national_importer"
    IMPORTER = "importer"
    WHOLESALE_1 = "wholesale_1"  # 一级批发
    WHOLESALE_2 = "wholesale_2"  # 二级批发
    SUPERMARKET = "supermarket"
    RESTAURANT = "restaurant"
    COLD_STALL = "cold_stall"
    FARM = "farm"
    FARM_STALL = "farm_stall"
    MANUFACTURER = "manufacturer"
    PROVINCIAL_CDC = "provincial_cdc"
    COUNTY_CDC = "county_cdc"
    SITE = "site"  # 接种单位


RETAIL: Final = (Kind.SUPERMARKET, Kind.RESTAURANT, Kind.COLD_STALL)
_ROLES: Final = {
    Kind.REGULATOR: (Role.REGULATOR,),
    Kind.NATIONAL_IMPORTER: (Role.PRODUCER,),
    Kind.IMPORTER: (Role.PRODUCER,),
    Kind.WHOLESALE_1: (Role.DISTRIBUTOR, Role.PRODUCER),  # producer too: it cuts carcasses into new batches
    Kind.WHOLESALE_2: (Role.DISTRIBUTOR,),
    Kind.SUPERMARKET: (Role.RETAILER,),
    Kind.RESTAURANT: (Role.RETAILER,),
    Kind.COLD_STALL: (Role.RETAILER,),
    Kind.FARM: (Role.PRODUCER,),
    Kind.FARM_STALL: (Role.RETAILER,),
    Kind.MANUFACTURER: (Role.PRODUCER,),
    Kind.PROVINCIAL_CDC: (Role.DISTRIBUTOR,),
    Kind.COUNTY_CDC: (Role.DISTRIBUTOR,),
    Kind.SITE: (Role.VACCINATOR,),
}
_LOCATION_KIND: Final = {
    Kind.REGULATOR: "office", Kind.NATIONAL_IMPORTER: "cold_store", Kind.IMPORTER: "cold_store",
    Kind.WHOLESALE_1: "cold_store", Kind.WHOLESALE_2: "cold_store", Kind.SUPERMARKET: "store",
    Kind.RESTAURANT: "store", Kind.COLD_STALL: "market_stall", Kind.FARM: "farm", Kind.FARM_STALL: "market_stall",
    Kind.MANUFACTURER: "warehouse", Kind.PROVINCIAL_CDC: "cold_store", Kind.COUNTY_CDC: "cold_store",
    Kind.SITE: "clinic",
}  # fmt: skip
# GB 32100 registration authority + category: enterprise, individual business, cooperative, public institution.
_USCC_HEAD: Final = {Kind.REGULATOR: "11", Kind.PROVINCIAL_CDC: "12", Kind.COUNTY_CDC: "12", Kind.SITE: "12",
                     Kind.FARM_STALL: "92", Kind.COLD_STALL: "92", Kind.FARM: "93"}  # fmt: skip
_PROVINCES: Final = ("浙江", "江苏", "安徽", "福建", "上海")


@dataclass(slots=True)
class Org:
    index: int  # position in Topology.orgs; the workers' organisation table uses it too
    id: int
    kind: Kind
    name: str
    uscc: str
    division: str
    location_id: int
    location_name: str
    private_key: bytes
    address: str
    customers: list[int] = field(default_factory=list)
    products: list[int] = field(default_factory=list)
    company_prefix: str | None = None
    nonce: int = 0

    @property
    def roles(self) -> list[str]:
        return sorted(role.value for role in _ROLES[self.kind])

    @property
    def location_kind(self) -> str:
        return _LOCATION_KIND[self.kind]


@dataclass(slots=True)
class Product:
    index: int
    id: int
    gtin: str
    owner: int
    name: str
    name_en: str
    category: Category
    unit: str
    storage: tuple[float, float]  # °C
    origins: tuple[str, ...] = ()
    carcass: bool = False  # a wholesaler may cut it into packs


@dataclass
class Topology:
    orgs: list[Org]
    products: list[Product]
    by_kind: dict[Kind, list[int]]
    cut_product_of: dict[int, int]  # wholesaler org index → its cut product index

    def of(self, kind: Kind) -> list[int]:
        return self.by_kind.get(kind, [])


def sizes(events: int) -> dict[Kind, int]:
    """Organisations per kind for a network of ``events`` events: linear in size, with floors for small ones."""
    scale = events / 1_000_000

    def n(at_one_million: int, floor: int) -> int:
        return max(floor, round(at_one_million * scale))

    return {
        Kind.REGULATOR: 2,
        Kind.NATIONAL_IMPORTER: 1 if scale < 0.1 else 3,
        Kind.IMPORTER: n(30, 2),
        Kind.WHOLESALE_1: n(25, 3),
        Kind.WHOLESALE_2: n(200, 6),
        Kind.SUPERMARKET: n(1200, 8),
        Kind.RESTAURANT: n(1000, 6),
        Kind.COLD_STALL: n(800, 6),
        Kind.FARM: n(300, 4),
        Kind.FARM_STALL: n(1500, 10),
        Kind.MANUFACTURER: n(8, 2),
        Kind.PROVINCIAL_CDC: min(len(_PROVINCES), n(3, 1)),
        Kind.COUNTY_CDC: n(90, 3),
        Kind.SITE: n(900, 8),
    }


def org_key(seed: int, index: int) -> bytes:
    """A deterministic secp256k1 key per (seed, organisation): a synthetic network is reproducible, keys included."""
    counter = 0
    while True:
        key = keccak256(f"lotline synthetic network {seed} organisation {index} {counter}".encode())
        if 0 < int.from_bytes(key, "big") < _CURVE_ORDER:
            return key
        counter += 1


def _subject_code(index: int, rng: random.Random) -> str:
    """Positions 9-17 of a credit code: unique per organisation (base-31 index) with a random lead."""
    digits = ""
    for _ in range(7):
        index, rest = divmod(index, 31)
        digits = USCC_ALPHABET[rest] + digits
    return "M" + rng.choice(USCC_ALPHABET) + digits


class _Namer:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.counters: dict[str, int] = {}

    def brand(self) -> str:
        a, b = self.rng.sample(names.BRAND_PARTS, 2)
        return a + b

    def person(self) -> str:
        return self.rng.choice(names.SURNAMES) + self.rng.choice(names.GIVEN)

    def numbered(self, key: str) -> int:
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key]

    def name(self, kind: Kind, city: str, province: str) -> str:
        r = self.rng
        district, street = r.choice(names.DISTRICTS), r.choice(names.STREETS)
        match kind:
            case Kind.REGULATOR:
                return f"{city}市市场监督管理局" if self.numbered("reg") == 1 else f"{city}市卫生健康委员会"
            case Kind.NATIONAL_IMPORTER:
                return f"{self.brand()}国际冷链贸易集团有限公司"
            case Kind.IMPORTER:
                return f"{city}{self.brand()}{r.choice(('冷链进口', '食品进出口', '国际贸易'))}有限公司"
            case Kind.WHOLESALE_1:
                return f"{city}{self.brand()}冷冻食品一级批发市场"
            case Kind.WHOLESALE_2:
                return f"{city}{district}{self.brand()}冻品二级批发部"
            case Kind.SUPERMARKET:
                return f"{self.brand()}{r.choice(names.SUPERMARKET_KINDS)}（{city}{street}路店）"
            case Kind.RESTAURANT:
                return f"{city}{self.brand()}{r.choice(names.CUISINES)}餐厅"
            case Kind.COLD_STALL | Kind.FARM_STALL:
                market = f"{city}{district}{r.choice(names.MARKETS)}"
                return f"{market}{self.numbered(market)}号摊位（{self.person()}）"
            case Kind.FARM:
                return f"{city}{district}{self.brand()}{r.choice(('蔬菜种植基地', '果蔬专业合作社', '生态农场'))}"
            case Kind.MANUFACTURER:
                return f"{self.brand()}生物制品有限公司"
            case Kind.PROVINCIAL_CDC:
                return f"{province}省疾病预防控制中心" if province != "上海" else "上海市疾病预防控制中心"
            case Kind.COUNTY_CDC:
                return f"{city}市{district}区疾病预防控制中心"
            case Kind.SITE:
                return f"{city}市{district}区{street}街道社区卫生服务中心预防接种门诊"
        raise AssertionError(kind)


def build_topology(seed: int, events: int, *, first_org_id: int, first_location_id: int) -> Topology:
    rng = random.Random(f"topology/{seed}")  # noqa: S311 - seeded on purpose: a network is reproducible
    namer = _Namer(rng)
    orgs: list[Org] = []
    by_kind: dict[Kind, list[int]] = {}
    for kind, count in sizes(events).items():
        for i in range(count):
            index = len(orgs)
            if kind is Kind.PROVINCIAL_CDC:
                province = _PROVINCES[i]
                city, _, division = next(c for c in names.CITIES if c[1] == province)
            elif kind is Kind.NATIONAL_IMPORTER:
                city, division = rng.choice(names.PORT_CITIES)
                province = ""
            else:
                city, province, division = rng.choice(names.CITIES)
            name = namer.name(kind, city, province)
            org = Org(
                index=index,
                id=first_org_id + index,
                kind=kind,
                name=name,
                uscc=make_uscc(_USCC_HEAD.get(kind, "91") + division + _subject_code(index, rng)),
                division=division,
                location_id=first_location_id + index,
                location_name=f"{name}·{_location_label(kind)}",
                private_key=(key := org_key(seed, index)),
                address=address_of(key),
            )
            orgs.append(org)
            by_kind.setdefault(kind, []).append(index)
    topology = Topology(orgs, [], by_kind, {})
    _link(topology, rng)
    _catalogue(topology, rng)
    return topology


def _location_label(kind: Kind) -> str:
    return {"cold_store": "冷库", "store": "门店", "market_stall": "摊位", "farm": "基地", "warehouse": "成品库",
            "clinic": "接种门诊", "office": "办公地"}[_LOCATION_KIND[kind]]  # fmt: skip


def _link(t: Topology, rng: random.Random) -> None:
    """Customer lists: each buyer picks a few suppliers one tier up; the national importers supply every market."""

    def supply(buyers: list[int], suppliers: list[int], low: int, high: int) -> None:
        for buyer in buyers:
            for supplier in rng.sample(suppliers, min(len(suppliers), rng.randint(low, high))):
                t.orgs[supplier].customers.append(buyer)

    wholesale_1 = t.of(Kind.WHOLESALE_1)
    for importer in t.of(Kind.NATIONAL_IMPORTER):
        t.orgs[importer].customers.extend(wholesale_1)
    for importer in t.of(Kind.IMPORTER):
        t.orgs[importer].customers.extend(rng.sample(wholesale_1, min(len(wholesale_1), rng.randint(2, 5))))
    supply(t.of(Kind.WHOLESALE_2), wholesale_1, 1, 3)
    supply([o for kind in RETAIL for o in t.of(kind)], t.of(Kind.WHOLESALE_2), 1, 3)
    supply(t.of(Kind.FARM_STALL), t.of(Kind.FARM), 2, 4)
    for manufacturer in t.of(Kind.MANUFACTURER):
        t.orgs[manufacturer].customers.extend(t.of(Kind.PROVINCIAL_CDC))
    provincial = t.of(Kind.PROVINCIAL_CDC)
    for i, county in enumerate(t.of(Kind.COUNTY_CDC)):
        t.orgs[provincial[i % len(provincial)]].customers.append(county)
    counties = t.of(Kind.COUNTY_CDC)
    for i, site in enumerate(t.of(Kind.SITE)):
        t.orgs[counties[i % len(counties)]].customers.append(site)


def _catalogue(t: Topology, rng: random.Random) -> None:
    """Products: GTINs under each producer's own GS1 company prefix (69xxxxx, GS1 China's range)."""
    producers = [*t.of(Kind.NATIONAL_IMPORTER), *t.of(Kind.IMPORTER), *t.of(Kind.WHOLESALE_1), *t.of(Kind.FARM),
                 *t.of(Kind.MANUFACTURER)]  # fmt: skip
    for number, index in enumerate(producers):
        t.orgs[index].company_prefix = f"69{10000 + number:05d}"

    def add(owner: int, name: str, name_en: str, category: Category, unit: str, storage: tuple[float, float],
            origins: tuple[str, ...] = (), carcass: bool = False) -> int:  # fmt: skip
        org = t.orgs[owner]
        assert org.company_prefix is not None
        product = Product(
            index=len(t.products),
            id=len(t.products) + 1,
            gtin=make_gtin(org.company_prefix, len(org.products) + 1),
            owner=owner,
            name=name,
            name_en=name_en,
            category=category,
            unit=unit,
            storage=storage,
            origins=origins,
            carcass=carcass,
        )
        t.products.append(product)
        org.products.append(product.index)
        return product.index

    for importer in [*t.of(Kind.NATIONAL_IMPORTER), *t.of(Kind.IMPORTER)]:
        for name, name_en, origins, carcass in rng.sample(names.COLD_PRODUCTS, rng.randint(3, 6)):
            add(importer, name, name_en, Category.COLD_CHAIN, "EA", (-30.0, -18.0), origins, carcass)
    for wholesaler in t.of(Kind.WHOLESALE_1):
        name, name_en = rng.choice(names.CUT_PRODUCTS)
        t.cut_product_of[wholesaler] = add(wholesaler, name, name_en, Category.COLD_CHAIN, "EA", (-25.0, -18.0))
    for farm in t.of(Kind.FARM):
        for name, name_en in rng.sample(names.FARM_PRODUCTS, rng.randint(2, 5)):
            add(farm, name, name_en, Category.FARM_PRODUCE, "KGM", (0.0, 10.0))
    for manufacturer in t.of(Kind.MANUFACTURER):
        for name, name_en in rng.sample(names.VACCINES, rng.randint(2, 4)):
            add(manufacturer, name, name_en, Category.VACCINE, "EA", (2.0, 8.0))
