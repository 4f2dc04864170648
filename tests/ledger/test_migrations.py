"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL; they run once
however many start at the same time, and a server refuses a database whose schema is not the code's."""

from __future__ import annotations

import multiprocessing
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from ledger.db import make_engine
from ledger.migrate import (
    SchemaOutOfDate,
    alembic_config,
    current_revision,
    head_revision,
    require_current,
    upgrade_to_head,
)
from ledger.models import Base


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_every_model_table_exists_after_upgrade(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert "alembic_version" in tables


def _upgrade_when_all_are_ready(url: str, ready: Barrier, outcomes: Queue[str]) -> None:
    """One deploy job: wait until every other one is about to migrate too, then migrate."""
    ready.wait(timeout=120)
    try:
        upgrade_to_head(url)
    except Exception as error:  # the test reports whatever went wrong in the child
        outcomes.put(f"{type(error).__name__}: {error}")
    else:
        outcomes.put("ok")


def test_concurrent_upgrades_of_a_fresh_database_all_succeed_and_leave_one_schema_at_head(
    fresh_database_url: str,
) -> None:
    """Four processes (four deploy jobs, or ``lotline up`` twice) migrate one empty database at once: they queue
    on the migration lock, one builds the schema and the others find it at head."""
    context = multiprocessing.get_context("spawn")
    jobs = 4
    ready, outcomes = context.Barrier(jobs), context.Queue()
    workers = [
        context.Process(target=_upgrade_when_all_are_ready, args=(fresh_database_url, ready, outcomes))
        for _ in range(jobs)
    ]
    for worker in workers:
        worker.start()
    results = [outcomes.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    assert results == ["ok"] * jobs
    assert current_revision(fresh_database_url) == head_revision()
    engine = make_engine(fresh_database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head_revision()]
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        engine.dispose()


def test_require_current_refuses_an_unmigrated_database(fresh_database_url: str) -> None:
    with pytest.raises(SchemaOutOfDate, match="lotline db upgrade") as refused:
        require_current(fresh_database_url)
    assert refused.value.context == {"found": None, "wanted": head_revision()}


def test_require_current_refuses_a_database_behind_head_and_passes_at_head(fresh_database_url: str) -> None:
    config = alembic_config(fresh_database_url)
    previous = ScriptDirectory.from_config(config).get_revision(head_revision()).down_revision
    assert isinstance(previous, str)
    command.upgrade(config, previous)
    with pytest.raises(SchemaOutOfDate) as refused:
        require_current(fresh_database_url)
    assert refused.value.context == {"found": previous, "wanted": head_revision()}
    upgrade_to_head(fresh_database_url)
    require_current(fresh_database_url)
