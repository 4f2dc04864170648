"""Issuing item codes over HTTP: small runs at once, large runs by the worker's resumable run; every code is
signed by its issuer and the signature checks out offline."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.code_signing import split_signed, verify_code
from ledger.codes import continue_run
from ledger.keys import KeyVault
from ledger.models import Code
from ledger.recorder import Signer
from ledger.signing import SigningDomain
from tests.trace_api.client import SECRET, Api
from tests.trace_api.network import setup_chain


def test_a_small_run_is_issued_at_once_and_each_code_is_signed_by_the_issuer(api: Api) -> None:
    net = setup_chain(api)
    batch_id = net["batch"]["id"]  # type: ignore[index]
    run = api.client.post(f"/api/v1/batches/{batch_id}/codes", json={"count": 40}, headers=api.auth(str(net["imp"])))
    assert run.status_code == 201, run.text
    assert (run.json()["status"], run.json()["issued"]) == ("done", 40)
    codes = api.client.get(f"/api/v1/batches/{batch_id}/codes?limit=100", headers=api.auth(str(net["imp"]))).json()
    assert len(codes) == 40
    assert len({c["serial"] for c in codes}) == 40
    issuer = net["importer"]["chain_address"]  # type: ignore[index]
    for code in codes:
        link, signature = split_signed(code["signed_link"])
        assert signature is not None
        assert verify_code(link, signature, {issuer}).valid
    # A serial changed by one character no longer matches its signature.
    link, signature = split_signed(codes[0]["signed_link"])
    forged = link.__class__(gtin=link.gtin, lot=link.lot, serial=codes[1]["serial"])
    assert signature is not None
    assert not verify_code(forged, signature, {issuer}).valid


def test_more_codes_than_units_are_refused(api: Api) -> None:
    net = setup_chain(api)
    batch_id = net["batch"]["id"]  # type: ignore[index]
    reply = api.client.post(f"/api/v1/batches/{batch_id}/codes", json={"count": 101}, headers=api.auth(str(net["imp"])))
    assert (reply.status_code, reply.json()["error"]) == (409, "QuantityExceeded")


def test_only_the_registrant_issues_codes(api: Api) -> None:
    net = setup_chain(api)
    batch_id = net["batch"]["id"]  # type: ignore[index]
    reply = api.client.post(f"/api/v1/batches/{batch_id}/codes", json={"count": 1}, headers=api.auth(str(net["mkt"])))
    assert reply.status_code == 404  # the market never held it: it cannot even see the batch


def test_a_large_run_is_queued_and_a_resumed_run_issues_each_code_once(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    importer, token = api.org("大进口商", "producer")
    gtin = api.client.post(
        "/api/v1/products", headers=api.auth(token), json={"name": "冻虾", "category": "cold_chain"}
    ).json()["gtin"]
    batch = api.client.post(
        "/api/v1/batches",
        headers=api.auth(token),
        json={
            "gtin": gtin,
            "lot": "EC-2026-9",
            "quantity": 30_000,
            "customs_declaration_no": "3101",
            "origin_country": "EC",
            "quarantine_cert_no": "Q",
            "nucleic_acid_test_no": "N",
            "disinfection_cert_no": "D",
        },
    ).json()
    run = api.client.post(f"/api/v1/batches/{batch['id']}/codes", json={"count": 25_000}, headers=api.auth(token))
    assert run.status_code == 202, run.text
    assert run.json()["status"] == "queued"
    signer = Signer(vault=KeyVault(SECRET), domain=SigningDomain(chain_id=20260))
    done = continue_run(session_factory, signer, run.json()["id"])
    again = continue_run(session_factory, signer, run.json()["id"])
    assert done is not None
    assert again is not None
    assert (done.status, done.issued, again.issued) == ("done", 25_000, 25_000)
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Code).where(Code.batch_id == batch["id"])) == 25_000
    progress = api.client.get(f"/api/v1/code-runs/{run.json()['id']}", headers=api.auth(token)).json()
    assert progress["issued"] == 25_000
    assert importer["roles"] == ["producer"]


def test_labels_decode_to_the_signed_link_and_sheets_are_pdf(api: Api) -> None:
    import io

    import zxingcpp
    from PIL import Image

    net = setup_chain(api)
    batch_id = net["batch"]["id"]  # type: ignore[index]
    token = str(net["imp"])
    api.client.post(f"/api/v1/batches/{batch_id}/codes", json={"count": 30}, headers=api.auth(token))
    codes = api.client.get(f"/api/v1/batches/{batch_id}/codes", headers=api.auth(token)).json()
    png = api.client.get(f"/api/v1/batches/{batch_id}/codes/{codes[0]['serial']}/label.png", headers=api.auth(token))
    assert png.headers["content-type"] == "image/png"
    decoded = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.content)))
    assert [d.text for d in decoded] == [codes[0]["signed_link"]]
    svg = api.client.get(
        f"/api/v1/batches/{batch_id}/codes/{codes[1]['serial']}/label.svg?lang=en", headers=api.auth(token)
    )
    assert svg.text.lstrip().startswith("<")
    assert codes[1]["serial"] in svg.text
    sheet = api.client.get(f"/api/v1/batches/{batch_id}/labels.pdf", headers=api.auth(token))
    assert sheet.content.startswith(b"%PDF-")
    assert api.client.get(f"/api/v1/batches/{batch_id}/labels.pdf?lang=fr", headers=api.auth(token)).status_code == 422
    missing = api.client.get(f"/api/v1/batches/{batch_id}/codes/NOSUCHCODE123/label.png", headers=api.auth(token))
    assert missing.status_code == 404
