"""Shared fixtures: a migrated ledger database on SQLite (default) or PostgreSQL.

Set ``LOTLINE_TEST_DATABASE_URL`` to a PostgreSQL server URL to run every database test there: each test process
creates a database of its own on that server (so parallel workers never share rows) and drops it at the end.
Tests that use the database are marked ``db`` automatically; ``make test`` runs them on both backends.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Engine, delete, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import make_engine, make_session_factory
from ledger.migrate import upgrade_to_head
from ledger.models import Base

# Tests never assert on wall-clock time, and hypothesis's per-example deadline is exactly that: a loaded CI
# machine would fail correct code.
settings.register_profile("lotline", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("lotline")

DB_FIXTURES = {"database_url", "fresh_database_url", "engine", "session_factory", "db"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if DB_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "db: uses the ledger database (run on SQLite and PostgreSQL)")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _scratch_database(lambda: tmp_path_factory.mktemp("ledger") / "ledger.sqlite") as url:
        yield url


@pytest.fixture
def fresh_database_url(tmp_path: Path) -> Iterator[str]:
    """A database of its own, not migrated, for the tests of migrating itself."""
    with _scratch_database(lambda: tmp_path / "fresh.sqlite") as url:
        yield url


@contextmanager
def _scratch_database(sqlite_path: Callable[[], Path]) -> Iterator[str]:
    server = os.environ.get("LOTLINE_TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{sqlite_path()}"
        return
    name = f"lotline_test_{uuid.uuid4().hex[:12]}"
    admin = make_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    upgrade_to_head(database_url)
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    yield make_session_factory(engine)
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))


@pytest.fixture
def db(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    session = session_factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
