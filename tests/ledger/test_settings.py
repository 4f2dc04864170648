"""Settings come from LOTLINE_* variables, and a deployment cannot run with the placeholder secret."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from ledger.settings import PLACEHOLDER_SECRET, Environment, Settings


def test_outside_development_the_placeholder_secret_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTLINE_ENVIRONMENT", "production")
    monkeypatch.delenv("LOTLINE_SECRET_KEY", raising=False)
    with pytest.raises(ValidationError, match="LOTLINE_SECRET_KEY must be set"):
        Settings()


def test_production_needs_a_long_secret() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(environment=Environment.PRODUCTION, secret_key="short-but-not-placeholder")


def test_embedded_defaults_live_under_the_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LOTLINE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("LOTLINE_DATABASE_URL", raising=False)
    monkeypatch.delenv("LOTLINE_CHAIN_RPC_URL", raising=False)
    monkeypatch.delenv("LOTLINE_SECRET_KEY", raising=False)
    monkeypatch.delenv("LOTLINE_ENVIRONMENT", raising=False)
    monkeypatch.delenv("LOTLINE_EMBEDDED_CHAIN_PORT", raising=False)
    settings = Settings()
    assert settings.secret_key == PLACEHOLDER_SECRET  # development may run on the placeholder
    assert settings.resolved_database_url == f"sqlite:///{(tmp_path / 'ledger.sqlite').resolve()}"
    assert settings.chain_data_dir == tmp_path / "chain"
    assert settings.resolved_chain_rpc_url == "http://127.0.0.1:8545"


def test_a_database_url_overrides_the_embedded_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTLINE_DATABASE_URL", "postgresql://lotline@db:5432/lotline")
    assert Settings().resolved_database_url == "postgresql://lotline@db:5432/lotline"
