"""The product pages over HTTP: a product registered through the form once, with the API's checks and refusals in
the page's language, and each organisation seeing only its own products."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.models import Product
from tests.trace_api.client import Api
from tests.trace_api.pages import HTML, form_secrets, refusal, register_beef, sign_in

FORM = {"name": "冷冻带鱼", "name_en": "Frozen hairtail", "category": "cold_chain", "unit": "kgm"}


def products(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(Product)) or 0


def test_a_product_registered_through_the_form_gets_a_gtin_once(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    _importer, token = api.org("进口商", "producer")
    sign_in(api, token)
    page = api.client.get("/app/products", headers=HTML)
    assert page.status_code == 200
    form = {**form_secrets(page.text), **FORM, "storage_min_c": "−30", "storage_max_c": "-18"}

    first = api.client.post("/app/products", data=form, follow_redirects=False)
    again = api.client.post("/app/products", data=form, follow_redirects=False)

    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    gtin = first.headers["location"].split("created=")[1].split("#")[0]
    assert gtin.startswith("06970000")  # under the network's GS1 company prefix
    assert products(session_factory) == 1
    listing = api.client.get(first.headers["location"], headers=HTML).text
    assert f"产品已登记，商品条码 {gtin}。" in listing
    assert "-30 ~ -18 °C" in listing
    created = api.client.get(f"/api/v1/products/{gtin}", headers=api.auth(token)).json()
    assert (created["unit"], created["storage_min_c"], created["name_en"]) == ("KGM", -30, "Frozen hairtail")


@pytest.mark.parametrize(
    ("fields", "status", "words"),
    [
        ({"gtin": "06901234567890"}, 422, "商品条码 (GTIN) 无效，请检查校验位。"),
        ({"category": ""}, 422, "请选择产品类别。"),
        ({"unit": "each"}, 422, "计量单位应为 2–3 位 UN/ECE 代码，如 EA 或 KGM。"),
        ({"storage_min_c": "cold"}, 422, "储存温度应为数字，如 −18。"),
        ({"storage_min_c": "-10", "storage_max_c": "-18"}, 422, "最低储存温度高于最高储存温度。"),
        ({"csrf": "forged"}, 403, "表单已过期，请刷新页面后重试。"),
    ],
)
def test_a_refused_product_form_says_why_and_writes_nothing(
    api: Api, session_factory: sessionmaker[Session], fields: dict[str, str], status: int, words: str
) -> None:
    _importer, token = api.org("进口商", "producer")
    sign_in(api, token)
    secrets = form_secrets(api.client.get("/app/products", headers=HTML).text)
    reply = api.client.post("/app/products", data={**secrets, **FORM, **fields})
    assert (reply.status_code, refusal(reply.text)) == (status, words)
    assert 'value="冷冻带鱼"' in reply.text  # what was typed comes back
    assert products(session_factory) == 0


def test_a_taken_gtin_and_a_retailer_are_refused(api: Api, session_factory: sessionmaker[Session]) -> None:
    _importer, token = api.org("进口商", "producer")
    taken = register_beef(api, token)["gtin"]
    sign_in(api, token)
    secrets = form_secrets(api.client.get("/app/products?lang=en", headers=HTML).text)
    reply = api.client.post("/app/products", data={**secrets, **FORM, "gtin": str(taken)})
    assert (reply.status_code, refusal(reply.text)) == (409, "This GTIN is already registered.")
    _shop, shop_token = api.org("超市", "retailer")
    sign_in(api, shop_token)
    secrets = form_secrets(api.client.get("/app/products", headers=HTML).text)
    reply = api.client.post("/app/products", data={**secrets, **FORM})
    assert (reply.status_code, refusal(reply.text)) == (403, "Only a producer or importer may register products.")
    assert products(session_factory) == 1


def test_an_organisation_lists_only_its_own_products(api: Api) -> None:
    _a, a_token = api.org("甲进口商", "producer")
    _b, b_token = api.org("乙进口商", "producer")
    register_beef(api, a_token, name="甲的牛肉")
    sign_in(api, b_token)
    page = api.client.get("/app/products", headers=HTML).text
    assert "甲的牛肉" not in page
    assert "贵单位还没有登记产品。" in page
    assert api.client.get("/app/products", follow_redirects=False).status_code == 200
    api.client.cookies.clear()
    assert api.client.get("/app/products", follow_redirects=False).headers["location"] == "/login?next=/app/products"
