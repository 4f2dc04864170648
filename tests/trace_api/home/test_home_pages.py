"""The front door over HTTP: the landing page, the lookup box's redirects and refusals, and the API docs served
from our own assets under a policy that names no other origin."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.trace_api.client import Api
from tests.trace_api.pages import HTML, batch_path, issue_codes, register_beef
from trace_api.home import apidocs


def test_the_landing_page_links_the_lookup_the_station_sign_in_and_the_docs(api: Api) -> None:
    page = api.client.get("/", headers=HTML)
    assert page.status_code == 200
    for link in ('action="/lookup"', 'href="/scan"', 'href="/login"', 'href="/docs"', 'href="/redoc"'):
        assert link in page.text
    assert "食品与疫苗追溯网络" in page.text
    assert "Food and vaccine traceability network" in api.client.get("/?lang=en", headers=HTML).text
    for door in ("/scan", "/login", "/docs", "/redoc"):
        assert api.client.get(door, headers=HTML).status_code == 200, door


def test_a_looked_up_code_goes_to_its_consumer_page_signature_and_all(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    importer, token = api.org("进口商", "producer")
    batch = register_beef(api, token)
    (serial,) = issue_codes(api, session_factory, importer["id"], batch, 1)
    codes = api.client.get(f"/api/v1/batches/{batch['id']}/codes", headers=api.auth(token)).json()
    signed = codes[0]["signed_link"]

    def lookup(code: str) -> str:
        reply = api.client.get("/lookup", params={"code": code}, follow_redirects=False)
        assert reply.status_code == 303, reply.text
        return str(reply.headers["location"])

    item = f"{batch_path(batch)}/21/{serial}"
    assert lookup(f"(01){batch['gtin']}(10){batch['lot']}(21){serial}") == item
    assert lookup(f"  (01){batch['gtin']}(10){batch['lot']}\n") == batch_path(batch)  # as a scanner types it
    assert lookup(signed) == item + "?" + urlsplit(signed).query
    gtin = str(batch["gtin"])  # an EPC class URN: company prefix . indicator + item reference . lot
    assert lookup(f"urn:epc:class:lgtin:{gtin[1:8]}.{gtin[0]}{gtin[8:13]}.BR2026A") == batch_path(batch)


@pytest.mark.parametrize(
    ("code", "words"),
    [("not a code", "无法识别这个码"), ("(01)12345678901234(10)X", "无法识别这个码"), ("06901234567892", "没有批号")],
)
def test_a_code_that_names_no_batch_is_refused_on_the_landing_page(api: Api, code: str, words: str) -> None:
    reply = api.client.get("/lookup", params={"code": code}, headers=HTML)
    assert reply.status_code == 422
    assert words in re.search(r'data-field="refusal">([^<]+)<', reply.text)[1]  # type: ignore[index]
    assert f'value="{code}"' in reply.text


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_docs_load_only_our_own_scripts_under_a_policy_naming_no_other_origin(api: Api, path: str) -> None:
    page = api.client.get(path, headers=HTML)
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "http" not in policy
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', page.text)
    assert sources
    assert all(source.startswith(("/assets/", "/openapi.json")) for source in sources), sources
    for source in sources:
        asset = api.client.get(source)
        assert asset.status_code == 200, source
        if source.startswith(apidocs.STATIC_URL):
            assert asset.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert api.client.get("/openapi.json").json()["info"]["title"] == "lotline"


def test_docs_without_their_installed_files_say_so_instead_of_a_blank_page(
    api: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(apidocs, "STATIC_DIR", tmp_path)
    page = api.client.get("/docs", headers=HTML)
    assert page.status_code == 503
    assert "make install" in page.text
