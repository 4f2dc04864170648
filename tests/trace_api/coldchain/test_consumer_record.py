"""What a consumer's phone shows of the temperature record: kept in range, or each excursion and how it ended."""

from __future__ import annotations

from tests.trace_api.client import Api
from tests.trace_api.coldchain.flows import logger_csv, upload, vaccine_shipment
from tests.trace_api.pages import HTML

JSON = {"Accept": "application/json"}
EVIDENCE = {"evidence": ("stability.pdf", b"%PDF-1.7 stability", "application/pdf")}


def test_a_batch_logged_in_range_all_the_way_says_so(api: Api) -> None:
    flow = vaccine_shipment(api)
    upload(api, flow.maker_token, flow.shipment_id, logger_csv(flow.shipped_at, [(0, 300, 5.0)]))
    path = f"/01/{flow.gtin}/10/{flow.lot}"
    record = api.client.get(path, headers=JSON).json()["temperature"]
    assert (record["logs"], record["readings"], record["kept_in_range"], record["excursions"]) == (1, 60, True, [])
    page = api.client.get(path, headers=HTML).text
    assert "全程温控正常" in page
    assert "1 份温度记录，60 个读数" in page


def test_an_excursion_and_who_released_it_are_on_the_consumer_page(api: Api) -> None:
    flow = vaccine_shipment(api)
    content = logger_csv(flow.shipped_at, [(0, 60, 5.0), (60, 240, 12.0), (240, 300, 5.0)])
    [found] = upload(api, flow.maker_token, flow.shipment_id, content).json()["logs"][0]["new_excursions"]
    path = f"/01/{flow.gtin}/10/{flow.lot}"
    assert "货物暂停使用，待评估" in api.client.get(path, headers=HTML).text
    released = api.client.post(
        f"/api/v1/excursions/{found['id']}/release",
        headers=api.auth(flow.maker_token),
        data={"reason": "稳定性数据支持"},
        files=EVIDENCE,
    )
    assert released.status_code == 200, released.text
    record = api.client.get(path, headers=JSON).json()["temperature"]
    assert record["kept_in_range"] is False
    [excursion] = record["excursions"]
    assert (excursion["kind"], excursion["status"], excursion["disposed_by"]) == (
        "hot",
        "released",
        "某生物制品有限公司",
    )
    page = api.client.get(path, headers=HTML).text
    assert "温度异常（温度过高）：经 某生物制品有限公司 评估后放行" in page
    english = api.client.get(path, headers={**HTML, "Accept-Language": "en"}).text
    assert "(too warm): released by 某生物制品有限公司" in english


def test_a_product_kept_cold_without_any_log_says_there_is_no_record(api: Api) -> None:
    flow = vaccine_shipment(api)
    assert "暂无温度记录" in api.client.get(f"/01/{flow.gtin}/10/{flow.lot}", headers=HTML).text
