"""The runtime record: where the parts of a running network listen, kept by ``lotline up`` in its data directory.

``<data_dir>/runtime.json`` is written atomically (a temporary file renamed over it) when the network is up and
again when it stops (``status`` ``stopped``). ``<data_dir>/up.lock`` is held with an exclusive ``fcntl`` lock for as
long as ``lotline up`` lives, so a second ``up`` on the same directory refuses (the kernel drops the lock when the
process dies, however it dies). The format is in docs/cli.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from trace_api.cli.failures import CommandFailed, DataDirInUse

RECORD = "runtime.json"
LOCK = "up.lock"


@dataclass
class RuntimeRecord:
    api_url: str
    api_port: int
    public_url: str  # where the network's Digital Links and pages point (LOTLINE_PUBLIC_URL, else api_url)
    chain_rpc_url: str
    chain_port: int | None  # None: an external node (LOTLINE_CHAIN_RPC_URL)
    chain_id: int
    contract_address: str | None
    broker_url: str
    database_url: str  # without its password
    queue: str
    data_dir: str
    up_pid: int
    pids: dict[str, int | None] = field(default_factory=dict)  # each child by name; None once it has exited
    api_workers: int = 1
    status: str = "up"  # up, or stopped after a clean shutdown
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    stopped_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def without_secrets(url: str) -> str:
    """A database or broker URL with its password hidden (``***``), fit to print and to store."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # a URL SQLAlchemy cannot parse is kept without its user information
        scheme, sep, rest = url.partition("://")
        return f"{scheme}{sep}{rest.rpartition('@')[2]}" if sep else url


def write_record(data_dir: Path, record: RuntimeRecord) -> None:
    """Replace the record in one rename, so a reader sees the old one or the new one, never half of either."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".runtime-", suffix=".json", dir=data_dir)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(record.as_dict(), handle, ensure_ascii=False, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, data_dir / RECORD)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def read_record(data_dir: Path) -> RuntimeRecord | None:
    """The record, or None when no ``up`` ever wrote one here; a damaged one is refused in one line."""
    path = data_dir / RECORD
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return RuntimeRecord(**json.loads(text))
    except (ValueError, TypeError) as error:
        raise CommandFailed(f"{path} is not a runtime record lotline can read ({error}); remove it") from error


class UpLock:
    """The exclusive lock ``lotline up`` holds on its data directory for its whole life."""

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / LOCK
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock, or refuse in one line naming the pid of the ``up`` holding it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise DataDirInUse(
                f"{self.path.parent} is in use by another lotline up (pid {holder}); stop it first, "
                "or give this one its own --data-dir"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def is_held(data_dir: Path) -> bool:
    """Whether a live ``lotline up`` holds the data directory (whatever its runtime record says)."""
    path = data_dir / LOCK
    if not path.exists():
        return False
    with path.open("r", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
