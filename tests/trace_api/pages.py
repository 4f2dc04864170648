"""Helpers for the page tests: an HTML client's headers, a registered batch, signing in, a form's secrets,
opening a recall through its form."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.codes import issue_item_codes
from ledger.models import Code, Organisation, Recall
from tests.trace_api.client import Api

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


COLD = {
    "customs_declaration_no": "310120261000123456",
    "origin_country": "BR",
    "quarantine_cert_no": "BR-Q-1",
    "nucleic_acid_test_no": "NAT-1",
    "nucleic_acid_result": "negative",
    "disinfection_cert_no": "DIS-1",
    "expiry_date": "2030-01-01",
}


def register_beef(
    api: Api, importer_token: str, *, name: str = "冷冻牛肉", lot: str = "BR2026A", expiry_date: str = "2030-01-01"
) -> dict[str, object]:
    product = api.client.post(
        "/api/v1/products",
        headers=api.auth(importer_token),
        json={"name": name, "name_en": "Frozen beef", "category": "cold_chain", "storage_max_c": -18},
    )
    assert product.status_code == 201, product.text
    batch = api.client.post(
        "/api/v1/batches",
        headers=api.auth(importer_token),
        json={"gtin": product.json()["gtin"], "lot": lot, "quantity": 100, **COLD, "expiry_date": expiry_date},
    )
    assert batch.status_code == 201, batch.text
    body: dict[str, object] = batch.json()
    return body


def batch_path(batch: dict[str, object]) -> str:
    return f"/01/{batch['gtin']}/10/{batch['lot']}"


def item_path(session_factory: sessionmaker[Session], batch: dict[str, object], serial: str) -> str:
    """An item's resolver path with the signature its label carries (``?s=``), as a phone opens it."""
    with session_factory() as session:
        signature = session.scalar(
            select(Code.signature).where(Code.batch_id == int(str(batch["id"])), Code.serial == serial)
        )
    return f"{batch_path(batch)}/21/{serial}?s={signature}"


def issue_codes(
    api: Api, session_factory: sessionmaker[Session], org_id: object, batch: dict[str, object], count: int
) -> list[str]:
    """Item codes issued by the batch's registrant with the app's own signer (code runs have no page)."""
    app: FastAPI = api.client.app  # type: ignore[assignment]
    with session_factory() as session:
        org = session.get(Organisation, org_id)
        assert org is not None
        serials = issue_item_codes(session, app.state.lotline.signer, org, int(str(batch["id"])), count)
        session.commit()
    return serials


def sign_in(api: Api, token: str) -> None:
    reply = api.client.post("/login", data={"token": token}, follow_redirects=False)
    assert reply.status_code == 303, reply.text


def form_secrets(html: str) -> dict[str, str]:
    return dict(re.findall(r'name="(csrf|form_key)" value="([^"]+)"', html))


def recall_count(session_factory: sessionmaker[Session]) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(Recall)) or 0


def open_through_form(api: Api, goods: str, *, reason: str = "核酸检测阳性", level: str = "1") -> Any:
    form = api.client.get("/app/recalls/new", headers=HTML)
    assert form.status_code == 200, form.text
    body = {**form_secrets(form.text), "goods": goods, "recall_class": level, "reason": reason}
    return api.client.post("/app/recalls", data=body, headers=HTML, follow_redirects=False)


def refusal(html: str) -> str:
    found = re.search(r'data-field="refusal">([^<]*)<', html)
    assert found, "the page shows no refusal"
    return found[1]
