"""Recall history on the consumer's view: a closed recall stays visible on a sold pack, a recall of an input batch
shows on the output's items, and a failed inspection stands beside the certificate it contradicts."""

from __future__ import annotations

from typing import Any

from tests.trace_api.client import Api
from tests.trace_api.network import scan, ship_and_receive
from tests.trace_api.trust_network import JSON, close_recall, coded_network, issue_codes, open_recall, path_of


def test_a_closed_recall_stays_on_the_page_of_a_pack_sold_before_it(api: Api) -> None:
    net = coded_network(api)
    recall = open_recall(api, "BR2026A", net["gtin"])
    close_recall(api, recall["id"])
    view = api.client.get(path_of(net["links"][0]), headers=JSON).json()
    status = view["status"]
    assert status["item_status"] == "sold"
    assert (status["recalled"], status["recalls"], status["warnings"]) == (False, [], ["recalled_before"])
    [notice] = status["recall_history"]
    assert notice["number"] == recall["number"]
    assert (notice["status"], notice["recall_class"], notice["reason"]) == ("closed", 1, "单增李斯特菌阳性")
    assert notice["opened_at"]
    assert notice["closed_at"]
    assert notice["what_to_do"] == ["stop_eating", "return_for_refund", "call_hotline"]
    assert notice["hotline"] == "12315"
    assert notice["recalled_by"] == "市场监督管理局"
    page = api.client.get(path_of(net["links"][0])).text
    assert f'data-recall="{recall["number"]}" data-status="closed"' in page
    assert "本批次曾被召回（已结束）" in page
    assert "凭包装退回购买处，可退货退款" in page
    assert "12315" in page
    assert "记录完整" not in page


def test_an_open_recall_tells_its_class_reason_and_what_to_do(api: Api) -> None:
    net = coded_network(api)
    recall = open_recall(api, "BR2026A", net["gtin"])
    status = api.client.get(path_of(net["links"][1]), headers=JSON).json()["status"]
    assert (status["recalled"], status["recalls"], status["warnings"]) == (True, [recall["number"]], ["recalled"])
    assert status["recall_history"][0]["status"] == "open"
    page = api.client.get(path_of(net["links"][1]), headers={"Accept-Language": "en"}).text
    assert f"Recall {recall['number']} in progress (class 1)" in page
    assert "Stop eating it now" in page


def test_a_recall_of_an_input_batch_shows_on_the_items_of_the_batch_made_from_it(api: Api) -> None:
    net = coded_network(api)
    ship_and_receive(api, net, 10)
    cuts = api.client.post(
        "/api/v1/products", headers=api.auth(net["imp"]), json={"name": "牛肉切块", "category": "cold_chain"}
    ).json()
    output = {"gtin": cuts["gtin"], "lot": "CUT-1", "quantity": 10}
    made = scan(
        api,
        net["mkt"],
        {"action": "transform", "lines": [{"gtin": net["gtin"], "lot": "BR2026A", "quantity": 5}], "output": output},
    )
    [cut] = issue_codes(api, net["mkt"], made["output_batch_id"], 1)
    recall = open_recall(api, "BR2026A", net["gtin"])
    close_recall(api, recall["id"])
    status: dict[str, Any] = api.client.get(path_of(cut["signed_link"]), headers=JSON).json()["status"]
    [notice] = status["recall_history"]
    assert notice["number"] == recall["number"]
    assert notice["status"] == "closed"
    assert status["warnings"] == ["recalled_before"]


def test_a_failed_inspection_behind_a_recall_stands_beside_the_certificate_it_contradicts(api: Api) -> None:
    net = coded_network(api, declared={"nucleic_acid_result": "negative"})
    line = {"gtin": net["gtin"], "lot": "BR2026A", "quantity": 1}
    scan(api, api.regulator_token, {"action": "inspect", "lines": [line], "passed": False, "reason": "核酸检测阳性"})
    [candidate] = api.client.get("/api/v1/recalls/candidates", headers=api.auth(api.regulator_token)).json()
    confirmed = api.client.post(
        f"/api/v1/recalls/candidates/{candidate['hold_id']}/confirm",
        json={"recall_class": 1},
        headers=api.auth(api.regulator_token),
    )
    assert confirmed.status_code == 201, confirmed.text
    number = confirmed.json()["number"]
    view = api.client.get(path_of(net["links"][0]), headers=JSON).json()
    assert view["status"]["contradicted_certificates"] == {"nucleic_acid_result": number}
    failed = view["status"]["recall_history"][0]["failed_inspection"]
    assert (failed["reason"], failed["by"]) == ("核酸检测阳性", "市场监督管理局")
    page = api.client.get(path_of(net["links"][0])).text
    assert f'data-contradicted="{number}"' in page
    assert f'data-failed-inspection="{number}"' in page
