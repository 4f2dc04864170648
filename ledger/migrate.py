"""Bring a database to the newest schema, once, whoever asks first.

``lotline db upgrade`` (and ``lotline up``, before it starts anything) runs :func:`upgrade_to_head`; the API and the
worker only check with :func:`require_current` and refuse to start on an old schema. Two upgrades started at once
(two deploy jobs, two ``up`` commands) queue on a lock instead of racing each other's ``CREATE TABLE``: a PostgreSQL
advisory lock held on the migrating connection, or an exclusive file lock beside a SQLite database.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from ledger.db import make_engine
from ledger.errors import LotlineError

# pg_advisory_lock takes a 64-bit key: this one is "lotline migrate" as ASCII, so no other application's lock is it.
ADVISORY_LOCK_KEY: Final = 0x6C6F746C696E65


class SchemaOutOfDate(LotlineError):
    """The database's schema is not the one this code was written for: ``lotline db upgrade`` first."""


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("ledger") / "migrations"))
    # ConfigParser treats % as interpolation; URLs may carry percent-encoded passwords.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def current_revision(url: str) -> str | None:
    engine = make_engine(url, for_writing=False)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def require_current(url: str) -> None:
    """Refuse to serve a database whose schema is missing or older (or newer) than this code's."""
    found, wanted = current_revision(url), head_revision()
    if found != wanted:
        where = make_url(url).render_as_string(hide_password=True)
        raise SchemaOutOfDate(
            f"the ledger at {where} is at schema {found or 'none'}, this code needs {wanted}: "
            "run `lotline db upgrade` first",
            found=found,
            wanted=wanted,
        )


def upgrade_to_head(url: str) -> None:
    """Migrate to the newest schema under the database's migration lock; a no-op when it is already there."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection, _migration_lock(connection, url):
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
    finally:
        engine.dispose()


@contextmanager
def _migration_lock(connection: Connection, url: str) -> Iterator[None]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        connection.commit()
        try:
            yield
        finally:
            connection.rollback()
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            connection.commit()
        return
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        lock_path = Path(f"{parsed.database}.migrate.lock")
        with lock_path.open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    yield
