"""Documents attached to a batch: type checked by content, size limited, hash anchored through the event chain."""

from __future__ import annotations

import hashlib

from tests.trace_api.client import Api
from tests.trace_api.network import setup_chain

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload(api: Api, token: str, batch_id: int, name: str, content: bytes, content_type: str, kind: str):  # type: ignore[no-untyped-def]
    return api.client.post(
        f"/api/v1/batches/{batch_id}/documents",
        headers={"Authorization": f"Bearer {token}"},
        files={"file": (name, content, content_type)},
        data={"kind": kind},
    )


def test_a_certificate_is_stored_with_its_sha256_and_joins_the_batch_chain(api: Api) -> None:
    net = setup_chain(api)
    batch = net["batch"]
    reply = upload(api, str(net["imp"]), batch["id"], "检疫证明.pdf", PDF, "application/pdf", "quarantine_certificate")  # type: ignore[index]
    assert reply.status_code == 201, reply.text
    assert reply.json()["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert reply.json()["event_id"].startswith("ni:///sha-256;")
    after = api.client.get(f"/api/v1/batches/{batch['id']}", headers=api.auth(str(net["imp"]))).json()  # type: ignore[index]
    assert after["event_count"] == batch["event_count"] + 1  # type: ignore[index]


def test_bad_uploads_are_refused_with_a_reason(api: Api) -> None:
    net = setup_chain(api)
    batch_id = net["batch"]["id"]  # type: ignore[index]
    token = str(net["imp"])
    cases = [
        (("x.exe", b"MZ\x90\x00", "application/x-msdownload", "other"), 415, "UnsupportedMediaType"),
        (("fake.pdf", b"MZ\x90\x00", "application/pdf", "other"), 415, "UnsupportedMediaType"),
        (("x.pdf", PDF, "application/pdf", "love_letter"), 422, "InvalidInput"),
        (("big.pdf", PDF + b"0" * (21 * 1024 * 1024), "application/pdf", "other"), 413, "PayloadTooLarge"),
    ]
    for args, status, reason in cases:
        reply = upload(api, token, batch_id, *args)
        assert (reply.status_code, reply.json()["error"]) == (status, reason), reply.text
    stranger = upload(api, str(net["mkt"]), batch_id, "x.pdf", PDF, "application/pdf", "other")
    assert stranger.status_code == 404
