"""The alerts page: the brand owner reads its alerts, a regulator takes one up into a one-click investigation."""

from __future__ import annotations

import re

from tests.trace_api.client import Api
from tests.trace_api.pages import HTML, form_secrets, sign_in
from tests.trace_api.trust_network import coded_network


def test_a_regulator_takes_an_alert_up_from_the_page_into_an_investigation(api: Api) -> None:
    net = coded_network(api)
    api.client.post(
        "/api/v1/scans", json={"action": "sell", "codes": [net["links"][0]]}, headers=api.auth(net["shop_token"])
    )
    sign_in(api, net["imp"])
    owner_page = api.client.get("/app/alerts", headers=HTML)
    assert owner_page.status_code == 200
    assert "一码多结（重复销售或接种）" in owner_page.text
    assert "首次结算：联华超市" in owner_page.text
    assert "/investigate" not in owner_page.text  # only regulators investigate

    sign_in(api, api.regulator_token)
    page = api.client.get("/app/alerts?lang=en", headers=HTML)
    assert "Settled twice (second sale or dose)" in page.text
    action = re.search(r'action="(/app/alerts/\d+/investigate)"', page.text)
    assert action, page.text
    taken = api.client.post(action[1], data=form_secrets(page.text), headers=HTML, follow_redirects=False)
    assert taken.status_code == 303
    assert taken.headers["location"].startswith("/app/investigations?place=")
    investigation = api.client.get(taken.headers["location"], headers=HTML)
    assert investigation.status_code == 200
    assert 'data-status="investigating"' in api.client.get("/app/alerts", headers=HTML).text


def test_a_forged_form_is_refused_on_the_page(api: Api) -> None:
    net = coded_network(api)
    api.client.post(
        "/api/v1/scans", json={"action": "sell", "codes": [net["links"][0]]}, headers=api.auth(net["shop_token"])
    )
    sign_in(api, api.regulator_token)
    page = api.client.get("/app/alerts", headers=HTML)
    action = re.search(r'action="(/app/alerts/\d+/investigate)"', page.text)
    assert action
    refused = api.client.post(action[1], data={"csrf": "x", "form_key": "y"}, headers=HTML, follow_redirects=False)
    assert refused.status_code in (400, 403)
    assert 'data-status="open"' in refused.text
