"""How every command finds the running network: the runtime record in the data directory (``--data-dir``, else
``LOTLINE_DATA_DIR``, else ``./data``), checked against the living processes. When nothing runs there, one line
says what to start (docs/cli.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer

from ledger.settings import Settings, get_settings
from trace_api.cli.api import Api
from trace_api.cli.failures import CommandFailed, NotRunning
from trace_api.cli.runtime import RuntimeRecord, is_held, read_record, without_secrets
from trace_api.cli.tokens import regulator_token

DataDir = Annotated[
    Path | None,
    typer.Option("--data-dir", help="the network's data directory (default: LOTLINE_DATA_DIR, else ./data)"),
]


def settings_for(data_dir: Path | None, **overrides: object) -> Settings:
    """The settings, with the data directory (and other command-line values) given on the command line."""
    update: dict[str, object] = {k: v for k, v in overrides.items() if v is not None}
    if data_dir is not None:
        update["data_dir"] = data_dir
    settings = get_settings()
    return settings.model_copy(update=update) if update else settings


@dataclass
class Running:
    """A network found running: its record, and its API as the regulator ``up`` made."""

    data_dir: Path
    record: RuntimeRecord

    def api(self, token: str | None = None) -> Api:
        return Api(self.record.api_url, token or regulator_token(self.data_dir))


def locate(settings: Settings, *, same_ledger: bool = False) -> Running:
    """The network running on ``settings.data_dir``, or one line saying what to start. ``same_ledger``: the
    command also writes or reads the ledger itself, so its database must be the network's."""
    data_dir = settings.data_dir
    hint = f"start it with `lotline up --data-dir {data_dir}`"
    record = read_record(data_dir)
    if record is None:
        raise NotRunning(f"no lotline network runs on {data_dir} (no runtime record): {hint}")
    if record.status != "up" or not is_held(data_dir) or not alive(record.up_pid):
        raise NotRunning(f"the lotline network on {data_dir} is not running: {hint}")
    if not _answers(record.api_url):
        raise NotRunning(
            f"lotline up (pid {record.up_pid}) on {data_dir} does not answer at {record.api_url}: "
            "wait for it to finish starting, or see its output"
        )
    if same_ledger and without_secrets(settings.resolved_database_url) != record.database_url:
        raise CommandFailed(
            f"the network on {data_dir} keeps its ledger in {record.database_url}, but this command would use "
            f"{without_secrets(settings.resolved_database_url)}: set LOTLINE_DATABASE_URL as for its lotline up"
        )
    return Running(data_dir, record)


def alive(pid: int | None) -> bool:
    """Whether a process with this pid exists."""
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/", timeout=5).status_code < 500
    except httpx.HTTPError:
        return False
