"""The stack a benchmark drives, started as an operator would (``python -m trace_api up``), and where its CPU goes.

``running_stack`` starts the chain node, the Celery worker and the API on a fresh data directory, each in a
process group of its own, so ``CpuMeter`` can count the CPU of each part over a phase apart from PostgreSQL's,
the benchmark's own and everything else on the (shared) machine. Used by ``bench_api.py``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from chain.anvil import free_port

SECRET = "bench-api-secret-key-which-is-long-enough-0123456789"

# ---- where the CPU goes -------------------------------------------------------------------------------------


TICK = os.sysconf("SC_CLK_TCK")


def cpu_by_process(groups: dict[str, int]) -> dict[int, tuple[str, float]]:
    """CPU seconds so far of each process in a named process group, or of PostgreSQL (any client's), by pid."""
    by_pgid = {pgid: name for name, pgid in groups.items()}
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        comm, rest = raw[raw.index("(") + 1 : raw.rindex(")")], raw[raw.rindex(")") + 2 :].split()
        name = by_pgid.get(int(rest[2])) or ("postgres" if comm.startswith("postgres") else None)
        if name is not None:
            out[int(entry.name)] = (name, (int(rest[11]) + int(rest[12])) / TICK)
    return out


def machine_busy() -> float:
    """CPU seconds the whole machine spent busy so far (all cores)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / TICK  # minus idle and iowait


@dataclass
class CpuMeter:
    groups: dict[str, int]
    start: dict[int, float] = field(default_factory=dict)
    used: dict[str, float] = field(default_factory=dict)

    def __enter__(self) -> CpuMeter:
        self.start = {pid: used for pid, (_, used) in cpu_by_process(self.groups).items()}
        self.start |= {-1: time.process_time(), -2: machine_busy()}
        return self

    def __exit__(self, *_: object) -> None:
        # Per process, so one that exits meanwhile (another client's PostgreSQL backend) drops out instead of
        # making the sum go backwards.
        self.used = dict.fromkeys([*self.groups, "postgres"], 0.0)
        for pid, (name, used) in cpu_by_process(self.groups).items():
            self.used[name] += used - self.start.get(pid, 0.0)
        self.used["bench"] = time.process_time() - self.start[-1]
        self.used["other"] = machine_busy() - self.start[-2] - sum(self.used.values())

    def share(self, seconds: float) -> str:
        """Cores used by each part over the phase (2.0 = both cores busy)."""
        return " ".join(f"{k}={v / seconds:.2f}" for k, v in self.used.items())


# ---- the stack ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def scratch_postgres(url: str) -> Iterator[str]:
    server = make_url(url)
    if server.host not in ("127.0.0.1", "localhost"):
        raise SystemExit("the benchmark only talks to 127.0.0.1")
    name = f"lotline_bench_{uuid.uuid4().hex[:8]}"
    admin = f"host=127.0.0.1 port={server.port or 5432} user={server.username or 'postgres'} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Stack:
    url: str
    rpc_url: str
    database_url: str
    token: str
    groups: dict[str, int]
    env: dict[str, str]
    """The environment ``lotline up`` ran with: what another API process of the same network needs."""


@contextlib.contextmanager
def running_stack(data_dir: Path, database_url: str, broker_url: str | None) -> Iterator[Stack]:
    port, chain_port = free_port(), free_port()
    env = {
        **os.environ,
        "LOTLINE_DATA_DIR": str(data_dir),
        "LOTLINE_DATABASE_URL": database_url,
        "LOTLINE_ENVIRONMENT": "test",
        "LOTLINE_SECRET_KEY": SECRET,
        "LOTLINE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "LOTLINE_EMBEDDED_CHAIN_PORT": str(chain_port),
        "LOTLINE_QUEUE": f"lotline-bench-{uuid.uuid4().hex[:8]}",
    }
    if broker_url:
        env["LOTLINE_BROKER_URL"] = broker_url
    log_path = data_dir / "up.log"
    with log_path.open("wb") as log:
        # Its own session, so the API process is one process group whose CPU is counted apart.
        up = subprocess.Popen([sys.executable, "-m", "trace_api", "up", "--port", str(port)], env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        token = _wait_for_token(log_path, up)
        groups = {"api": up.pid} | {n: int((data_dir / f"{n}.pid").read_text()) for n in ("worker", "chain-node")}
        yield Stack(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{chain_port}", database_url, token, groups, env)
    except BaseException:
        for name in ("up.log", "worker.log"):
            tail = (data_dir / name).read_text(errors="replace").splitlines()[-20:]
            print(f"---- last lines of {name}:", *tail, sep="\n", file=sys.stderr)
        raise
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=30)
        except subprocess.TimeoutExpired:
            up.kill()
        for name in ("worker", "chain-node"):
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                os.killpg(int((data_dir / f"{name}.pid").read_text()), signal.SIGKILL)


@contextlib.contextmanager
def uvicorn_server(app: list[str], env: dict[str, str], workers: int, log_path: Path) -> Iterator[tuple[str, int]]:
    """``uvicorn <app> --workers N``, the production command, in a process group of its own: its URL and group.

    ``app`` is uvicorn's arguments naming the app (``["--factory", "trace_api.app:create_app"]``)."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "uvicorn"), *app, "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers), "--log-level", "warning"]  # fmt: skip
    with log_path.open("wb") as log:
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_port(port, server, log_path)
        yield url, server.pid
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGINT)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)


def _wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"uvicorn exited:\n{log.read_text(errors='replace')}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            time.sleep(0.5)  # the other workers of a --workers N server bind a moment later
            return
        time.sleep(0.3)
    raise SystemExit(f"uvicorn did not come up:\n{log.read_text(errors='replace')}")


def _wait_for_token(log: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"lotline up exited:\n{log.read_text(errors='replace')}")
        for line in log.read_text(errors="replace").splitlines():
            if line.strip().startswith("token"):
                return line.split()[1]
        time.sleep(0.3)
    raise SystemExit(f"lotline up did not come up:\n{log.read_text(errors='replace')}")
