"""The resolver's case path, /00/{sscc}: the lots a case holds now and those it held (an unpacked case still names
what it carried), as a page for phones and JSON for API clients; a case never issued is the counterfeit page."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from ledger import packing, trade
from ledger.identifiers import DigitalLink
from ledger.models import Organisation
from tests.trace_api.client import Api
from tests.trace_api.pages import HTML, issue_codes, register_beef

SSCC = "069700010000000016"


def test_an_unpacked_case_still_names_the_lot_it_carried(api: Api, session_factory: sessionmaker[Session]) -> None:
    importer, token = api.org("浙江冷链进口有限公司", "producer")
    batch = register_beef(api, token)
    serials = issue_codes(api, session_factory, importer["id"], batch, 3)
    app: FastAPI = api.client.app  # type: ignore[assignment]
    signer = app.state.lotline.signer
    items = [DigitalLink(gtin=str(batch["gtin"]), lot=str(batch["lot"]), serial=s) for s in serials[:2]]
    with session_factory() as session:
        org = session.get(Organisation, importer["id"])
        assert org is not None
        packing.pack(session, signer, trade.ScanContext(org), items, sscc=SSCC)
        session.commit()

    packed = api.client.get(f"/00/{SSCC}", headers={"Accept": "application/json"})
    assert packed.status_code == 200, packed.text
    [lot] = packed.json()["lots"]
    assert (lot["lot"], lot["inside_now"], lot["ever_inside"]) == (batch["lot"], 2, 2)
    assert lot["url"].endswith(f"/01/{batch['gtin']}/10/{batch['lot']}")
    assert packed.json()["element_string"] == f"(00){SSCC}"

    with session_factory() as session:
        org = session.get(Organisation, importer["id"])
        assert org is not None
        packing.unpack(session, signer, trade.ScanContext(org), sscc=SSCC)
        session.commit()
    [lot] = api.client.get(f"/00/{SSCC}", headers={"Accept": "application/json"}).json()["lots"]
    assert (lot["inside_now"], lot["ever_inside"]) == (0, 2)

    page = api.client.get(f"/00/{SSCC}", headers=HTML)
    assert page.status_code == 200
    assert "此箱已拆开" in page.text
    assert f'href="https://trace.example.cn/01/{batch["gtin"]}/10/{batch["lot"]}"' in page.text
    assert "现装 0 件，曾装 2 件" in page.text
    english = api.client.get(f"/00/{SSCC}", headers={**HTML, "Accept-Language": "en"})
    assert "0 packs inside now, 2 ever" in english.text


def test_a_case_code_never_issued_is_the_counterfeit_page(api: Api) -> None:
    page = api.client.get("/00/069700010000000023", headers=HTML)
    assert page.status_code == 404
    assert "此码未在本网络签发" in page.text
    assert api.client.get("/00/069700010000000023", headers={"Accept": "application/json"}).status_code == 404
    assert api.client.get("/00/069700010000000017", headers=HTML).status_code == 404  # wrong check digit
