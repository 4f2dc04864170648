"""Setting recall webhooks over HTTP: a secret shown once, and no webhook at an address the deployment keeps
private (server-side request forgery through the worker)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.identifiers import make_uscc
from ledger.models import Organisation
from tests.trace_api.client import Api


def register(api: Api, uscc: str, webhook_url: str) -> tuple[int, dict[str, object]]:
    body = {"name": "杭州农贸市场", "uscc": uscc, "roles": ["retailer"], "webhook_url": webhook_url}
    reply = api.client.post("/api/v1/orgs", json=body, headers=api.auth(api.regulator_token))
    return reply.status_code, reply.json()


def test_an_organisation_registered_with_a_webhook_gets_its_secret_once(api: Api, db: Session) -> None:
    uscc = make_uscc("91330100MA2000201")

    status, answer = register(api, uscc, "https://erp.example.cn/hooks/lotline")

    assert status == 201
    assert str(answer["webhook_secret"]).startswith("whsec_")
    org = db.scalar(select(Organisation).where(Organisation.uscc == uscc))
    assert org is not None
    assert org.webhook_url == "https://erp.example.cn/hooks/lotline"
    assert org.webhook_secret_encrypted is not None


def test_a_webhook_at_a_private_address_is_refused_and_nothing_is_written(api: Api, db: Session) -> None:
    uscc = make_uscc("91330100MA2000202")

    status, answer = register(api, uscc, "http://10.0.0.5:8080/hooks")

    assert status == 422
    assert "may not point at 10.0.0.5: it is not a public address" in str(answer["detail"])
    assert "LOTLINE_WEBHOOK_ALLOWED_NETWORKS" in str(answer["detail"])
    assert db.scalar(select(Organisation.id).where(Organisation.uscc == uscc)) is None
    db.commit()  # the test's session lets go of SQLite's lock before the API writes

    _org, token = api.org("杭州冷库", "distributor")
    set_url = {"url": "https://erp.example.cn/hooks"}
    first = api.client.put("/api/v1/orgs/me/webhook", json=set_url, headers=api.auth(token))
    assert first.status_code == 200, first.text
    for url in ("http://169.254.169.254/latest/meta-data/", "http://localhost:6379/", "http://[::1]/"):
        refused = api.client.put("/api/v1/orgs/me/webhook", json={"url": url}, headers=api.auth(token))
        assert refused.status_code == 422, refused.text
        assert "is not a public address" in refused.json()["detail"]
    me = db.scalar(select(Organisation).where(Organisation.name == "杭州冷库"))
    assert me is not None
    assert me.webhook_url == "https://erp.example.cn/hooks"
