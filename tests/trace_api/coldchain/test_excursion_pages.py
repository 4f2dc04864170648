"""The cold-chain pages: a regulator's list filtered by region, product and holder; a holder acknowledging and
destroying; a maker releasing with evidence; refusals in the page's language, writing nothing."""

from __future__ import annotations

import re

from tests.trace_api.client import Api
from tests.trace_api.coldchain.flows import Flow, beef_shipment, logger_csv, upload, vaccine_shipment
from tests.trace_api.network import scan
from tests.trace_api.pages import HTML, form_secrets, refusal, sign_in

EN = {**HTML, "Accept-Language": "en"}


def warm_shipment(api: Api, *, received: bool = True) -> tuple[Flow, int]:
    flow = vaccine_shipment(api)
    content = logger_csv(flow.shipped_at, [(0, 60, 5.0), (60, 240, 12.0), (240, 300, 5.0)])
    [found] = upload(api, flow.maker_token, flow.shipment_id, content).json()["logs"][0]["new_excursions"]
    if received:
        scan(api, flow.clinic_token, {"action": "receive", "shipment_id": flow.shipment_id})
    return flow, found["id"]


def test_a_regulator_lists_open_excursions_and_filters_them(api: Api) -> None:
    flow, excursion_id = warm_shipment(api)
    imp, _mkt, shipment_id, shipped_at = beef_shipment(api)
    upload(api, imp, shipment_id, logger_csv(shipped_at, [(0, 60, -20.0), (100, 180, -20.0)]))
    sign_in(api, api.regulator_token)
    page = api.client.get("/app/excursions", headers=HTML)
    assert page.status_code == 200
    assert len(re.findall(r'<tr data-excursion-id="\d+">', page.text)) == 2
    assert "温度过高" in page.text
    assert "温度记录中断" in page.text
    assert "暂停使用，待处置" in page.text
    mine = api.client.get(f"/app/excursions?gtin={flow.gtin}", headers=HTML)
    assert re.findall(r'<tr data-excursion-id="(\d+)">', mine.text) == [str(excursion_id)]
    by_holder = api.client.get(f"/app/excursions?holder={flow.clinic['uscc']}", headers=HTML)
    assert re.findall(r'<tr data-excursion-id="(\d+)">', by_holder.text) == [str(excursion_id)]
    bad = api.client.get("/app/excursions?holder=91330100MA2000000X", headers=HTML)
    assert bad.status_code == 422
    assert "统一社会信用代码无效" in refusal(bad.text)
    english = api.client.get("/app/excursions", headers=EN)
    assert "Too warm" in english.text
    assert "No temperature record" in english.text


def test_the_holder_acknowledges_then_destroys_on_the_page(api: Api) -> None:
    flow, excursion_id = warm_shipment(api)
    sign_in(api, flow.clinic_token)
    path = f"/app/excursions/{excursion_id}"
    page = api.client.get(path, headers=HTML)
    assert "连续超过储存上限 30 分钟" in page.text
    assert 'action="' + path + '/release"' not in page.text  # the holder cannot clear its own goods
    acknowledged = api.client.post(
        f"{path}/acknowledge", data=form_secrets(page.text), headers=HTML, follow_redirects=False
    )
    assert acknowledged.status_code == 303
    page = api.client.get(path, headers=HTML)
    assert "持有单位已确认" in page.text
    secrets = dict(re.findall(r'name="(csrf|form_key)" value="([^"]+)"', page.text.split("/destroy")[1]))
    destroyed = api.client.post(
        f"{path}/destroy", data={**secrets, "reason": "超温报废"}, headers=HTML, follow_redirects=False
    )
    assert destroyed.status_code == 303
    page = api.client.get(path, headers=HTML)
    assert 'data-field="status">已销毁<' in page.text


def test_the_maker_releases_with_evidence_and_a_release_without_it_says_why(api: Api) -> None:
    flow, excursion_id = warm_shipment(api)
    sign_in(api, flow.maker_token)
    path = f"/app/excursions/{excursion_id}"
    page = api.client.get(path, headers=HTML)
    secrets = dict(re.findall(r'name="(csrf|form_key)" value="([^"]+)"', page.text.split("/release")[1]))
    refused = api.client.post(f"{path}/release", data={**secrets, "reason": "稳定性数据支持"}, headers=HTML)
    assert refused.status_code == 415
    assert 'data-field="status">暂停使用，待处置<' in refused.text
    evidence = {"evidence": ("stability.pdf", b"%PDF-1.7 stability", "application/pdf")}
    released = api.client.post(
        f"{path}/release",
        data={**secrets, "reason": "稳定性数据支持"},
        files=evidence,
        headers=HTML,
        follow_redirects=False,
    )
    assert released.status_code == 303, released.text
    page = api.client.get(path, headers=HTML)
    assert 'data-field="status">已放行<' in page.text
    assert "稳定性数据支持" in page.text


def test_an_outsider_finds_no_excursion_and_a_regulator_makes_it_a_candidate(api: Api) -> None:
    _flow, excursion_id = warm_shipment(api, received=False)
    _other, other_token = api.org("另一家门诊", "vaccinator")
    sign_in(api, other_token)
    assert api.client.get(f"/app/excursions/{excursion_id}", headers=HTML).status_code == 404
    sign_in(api, api.regulator_token)
    page = api.client.get(f"/app/excursions/{excursion_id}", headers=HTML)
    secrets = dict(re.findall(r'name="(csrf|form_key)" value="([^"]+)"', page.text.split("/candidate")[1]))
    made = api.client.post(
        f"/app/excursions/{excursion_id}/candidate", data=secrets, headers=HTML, follow_redirects=False
    )
    assert made.status_code == 303
    assert "已列入召回候选" in api.client.get(f"/app/excursions/{excursion_id}", headers=HTML).text
    recalls = api.client.get("/app/recalls", headers=HTML).text
    assert "冷链温度异常 · cold-chain excursion EX-" in recalls
    assert "温度记录单位：某生物制品有限公司" in recalls
