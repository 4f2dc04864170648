"""Labels from the signed-in pages over HTTP: the same files as the API, with the session cookie and only for
batches the organisation may see; the sheets page lists every sheet of a batch or of one run."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader
from sqlalchemy.orm import Session, sessionmaker

from tests.trace_api.client import Api
from tests.trace_api.pages import HTML, issue_codes, register_beef, sign_in


def test_label_files_follow_the_session_and_the_pages_language(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    importer, token = api.org("进口商", "producer")
    batch = register_beef(api, token)
    serials = issue_codes(api, session_factory, importer["id"], batch, 30)
    sheet = f"/app/batches/{batch['id']}/labels.pdf"

    assert api.client.get(sheet, follow_redirects=False).headers["location"] == f"/login?next={sheet}"
    sign_in(api, token)
    zh = api.client.get(sheet)
    assert zh.headers["content-disposition"] == f'attachment; filename="labels-{batch["gtin"]}-BR2026A-1-30.pdf"'
    assert "第 1/2 页" in PdfReader(io.BytesIO(zh.content)).pages[0].extract_text()
    en = api.client.get(sheet, headers={"Accept-Language": "en"})
    assert "Page 1 of 2" in PdfReader(io.BytesIO(en.content)).pages[0].extract_text()
    part = api.client.get(sheet, params={"offset": 24, "limit": 6})
    assert len(PdfReader(io.BytesIO(part.content)).pages) == 1
    svg = api.client.get(f"/app/batches/{batch['id']}/codes/{serials[0]}/label.svg")
    assert svg.headers["content-type"] == "image/svg+xml"
    assert api.client.get(f"/app/batches/{batch['id']}/codes/{serials[0]}/label.gif").status_code == 415
    assert api.client.get(f"/app/batches/{batch['id']}/codes/NOSUCHCODE/label.png").status_code == 404


def test_another_organisations_labels_are_not_found(api: Api, session_factory: sessionmaker[Session]) -> None:
    importer, token = api.org("进口商", "producer")
    _other, other_token = api.org("另一进口商", "producer")
    batch = register_beef(api, token)
    (serial,) = issue_codes(api, session_factory, importer["id"], batch, 1)
    sign_in(api, other_token)
    assert api.client.get(f"/app/batches/{batch['id']}/labels.pdf").status_code == 404
    assert api.client.get(f"/app/batches/{batch['id']}/codes/{serial}/label.png").status_code == 404
    assert api.client.get(f"/app/batches/{batch['id']}/labels", headers=HTML).status_code == 404


def test_the_sheets_page_lists_every_sheet_of_a_run(api: Api, session_factory: sessionmaker[Session]) -> None:
    importer, token = api.org("进口商", "producer")
    batch = register_beef(api, token)
    issue_codes(api, session_factory, importer["id"], batch, 10)
    sign_in(api, token)
    page = api.client.get(f"/app/batches/{batch['id']}/labels?lang=en", headers=HTML).text
    assert "10 codes in all" in page
    assert re.findall(r'href="(/app/batches/\d+/labels\.pdf\?[^"]+)"', page) == [
        f"/app/batches/{batch['id']}/labels.pdf?offset=0&amp;limit=10"
    ]
