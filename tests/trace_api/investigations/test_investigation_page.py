"""The investigation page: the batches at a place, their sources and other holders, refusals in words."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.trace_api.client import Api
from tests.trace_api.pages import (
    HTML,
    refusal,
    sign_in,
)
from trace_api.investigations import pages as investigation_pages
from trace_api.web.i18n import LOCAL_TZ


def test_the_investigation_page_finds_the_batch_its_sources_and_other_holders(api: Api, net: dict[str, Any]) -> None:
    sign_in(api, api.regulator_token)
    form = api.client.get("/app/investigations", headers=HTML)
    assert form.status_code == 200
    assert 'type="datetime-local"' in form.text
    now = datetime.now(LOCAL_TZ).replace(tzinfo=None, microsecond=0)
    window = {"since": (now - timedelta(hours=1)).isoformat(), "until": (now + timedelta(minutes=5)).isoformat()}
    found = api.client.get("/app/investigations", params={"place": net["shop"]["uscc"], **window}, headers=HTML)
    assert found.status_code == 200, found.text
    present = re.findall(r'<tr data-batch-id="\d+">\s*<td>([^<]+)<br>', found.text)
    assert present == ["冷冻牛肉"]
    assert "goods=" + net["gtin"] + "%20BR2026A" in found.text  # one click to recall it
    sources = found.text[found.text.index('class="table sources"') : found.text.index('id="spread-heading"')]
    assert "进口商" in sources
    assert "一级批发市场" in sources
    assert re.search(rf'<g class="holder holder-here" data-org-id="{net["shop"]["id"]}"', found.text)
    assert "其他持有者（2 家）" in found.text

    bad_place = api.client.get("/app/investigations", params={"place": "somewhere", **window}, headers=HTML)
    assert (bad_place.status_code, refusal(bad_place.text)) == (422, "地点应为 18 位统一社会信用代码或地点编号。")
    backwards = {"place": net["shop"]["uscc"], "since": window["until"], "until": window["since"]}
    empty = api.client.get("/app/investigations", params=backwards, headers=HTML)
    assert (empty.status_code, refusal(empty.text)) == (422, "开始时间必须早于结束时间。")
    stranger = {"place": "91330100MA2999999X", **window}
    unknown = api.client.get("/app/investigations", params=stranger, headers=HTML)
    assert unknown.status_code in (404, 422)


def test_the_investigation_graph_names_a_consignee_whose_goods_are_still_on_the_way(
    api: Api, net: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(investigation_pages, "ROWS_SHOWN", 1)  # its shipper is not among the holders listed
    restaurant, _token = api.org("西湖饭店", "retailer")
    line = {"gtin": net["gtin"], "lot": "BR2026A", "quantity": 2}
    shipped = api.client.post(
        "/api/v1/scans",
        json={"action": "ship", "to_org": restaurant["uscc"], "lines": [line]},
        headers=api.auth(net["mkt"]),
    )
    assert shipped.status_code == 201, shipped.text
    sign_in(api, api.regulator_token)
    now = datetime.now(LOCAL_TZ).replace(tzinfo=None, microsecond=0)
    window = {"since": (now - timedelta(hours=1)).isoformat(), "until": (now + timedelta(minutes=5)).isoformat()}

    found = api.client.get("/app/investigations", params={"place": net["shop"]["uscc"], **window}, headers=HTML)

    box = re.search(rf'<g class="holder holder-\w+" data-org-id="{restaurant["id"]}".*?</g>', found.text, re.S)
    assert box is not None, "the consignee is not drawn"
    assert "西湖饭店" in box[0]
