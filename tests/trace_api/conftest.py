"""An API client over the real app on the test database (SQLite or PostgreSQL), with a bootstrap regulator."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from ledger.identifiers import make_uscc
from ledger.keys import KeyVault
from ledger.models import Role
from ledger.registry import create_organisation
from ledger.settings import Environment, Settings
from trace_api.app import create_app

SECRET = "test-secret-key-that-is-long-enough-0123456789"


@dataclass
class Api:
    client: TestClient
    regulator_token: str
    counter: int = 100

    def auth(self, token: str, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token}"}
        headers["Idempotency-Key"] = key or uuid.uuid4().hex
        return headers

    def org(self, name: str, *roles: str) -> tuple[dict[str, object], str]:
        self.counter += 1
        body = {"name": name, "uscc": make_uscc(f"91330100MA2{self.counter:06d}"), "roles": list(roles)}
        reply = self.client.post("/api/v1/orgs", json=body, headers=self.auth(self.regulator_token))
        assert reply.status_code == 201, reply.text
        return reply.json()["org"], reply.json()["token"]


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment=Environment.TEST,
        data_dir=tmp_path,
        database_url=database_url,
        secret_key=SECRET,
        public_url="https://trace.example.cn",
    )


@pytest.fixture
def api(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[Api]:
    with session_factory() as session:
        _org, token = create_organisation(
            session,
            KeyVault(SECRET),
            name="市场监督管理局",
            uscc=make_uscc("11330100MB0000001"),
            roles=[Role.REGULATOR],
        )
        session.commit()
    with TestClient(create_app(settings)) as client:
        yield Api(client, token)
