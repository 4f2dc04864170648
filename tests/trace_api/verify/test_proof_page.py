"""The proof page over HTTP before anchoring and for an unknown event: it says what it knows, and shows what anyone
may see of an event (its step, hash and proof), never the event document."""

from __future__ import annotations

import re

from tests.trace_api.client import Api
from tests.trace_api.pages import HTML, register_beef


def test_a_record_not_yet_anchored_says_so_and_shows_no_document(api: Api) -> None:
    importer, token = api.org("浙江冷链进口有限公司", "producer")
    batch = register_beef(api, token)
    view = api.client.get(f"/01/{batch['gtin']}/10/{batch['lot']}", headers={"Accept": "application/json"}).json()
    event_id = view["journey"][0]["event_id"]
    digest = re.fullmatch(r"ni:///sha-256;([0-9a-f]{64})\?ver=CBV2\.0", event_id)[1]  # type: ignore[index]

    page = api.client.get(f"/proof/{digest}", headers=HTML)

    assert page.status_code == 200
    assert "等待上链：记录已保存" in page.text
    assert '<dd data-field="what">批次登记</dd>' in page.text
    assert f'<code class="break" data-field="digest">0x{digest}</code>' in page.text
    assert "默克尔路径" not in page.text  # nothing to walk yet
    assert str(importer["uscc"]) not in page.text  # the event document stays with the parties and regulators
    assert "310120261000123456" not in page.text
    assert api.client.get(f"/proof/{event_id}", headers=HTML).status_code == 200  # the full id works too


def test_an_unknown_or_malformed_event_is_a_public_not_found_page(api: Api) -> None:
    for wrong in ("0" * 64, "not-an-event"):
        page = api.client.get(f"/proof/{wrong}", headers=HTML)
        assert page.status_code == 404
        assert "没有这条记录。" in page.text
        assert 'href="/"' in page.text
