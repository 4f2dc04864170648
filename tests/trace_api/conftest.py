"""An API client over the real app on the test database (SQLite or PostgreSQL), with a bootstrap regulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from ledger.identifiers import make_uscc
from ledger.keys import KeyVault
from ledger.models import Role
from ledger.registry import create_organisation
from ledger.settings import Environment, Settings
from tests.trace_api.client import SECRET, Api
from tests.trace_api.network import build_traced_network
from trace_api.app import create_app


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


@pytest.fixture
def net(api: Api) -> dict[str, Any]:
    """importer → market → shop → market (a return), and a transformation at the market: see build_traced_network."""
    return build_traced_network(api)
