"""What the app builds at start: it serves a ledger at the current schema, and refuses an older one rather than
migrating it behind the operator's back."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from ledger.migrate import SchemaOutOfDate
from ledger.settings import Environment, Settings
from tests.trace_api.client import SECRET
from trace_api.app import create_app


def test_an_api_started_on_an_unmigrated_database_refuses_and_names_the_upgrade_command(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite"
    settings = Settings(
        environment=Environment.TEST, data_dir=tmp_path, database_url=f"sqlite:///{empty}", secret_key=SECRET
    )
    refusal = r"is at schema none, this code needs .*: run `lotline db upgrade` first"
    with pytest.raises(SchemaOutOfDate, match=refusal), TestClient(create_app(settings)):
        pass
