"""``lotline up`` in a subprocess on its own data directory and on free, non-default ports, and the ``lotline``
command run against it the way an operator runs it: a separate process that finds the network by itself."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from chain.anvil import free_port

SECRET = "cli-test-secret-key-which-is-long-enough-0123456789"
START_TIMEOUT = 180.0  # a cold start imports web3, py-evm and Celery on a shared machine


def base_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment of an operator's shell: the data directory and secrets, never the ports."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOTLINE_")}
    env |= {"LOTLINE_DATA_DIR": str(data_dir), "LOTLINE_ENVIRONMENT": "test", "LOTLINE_SECRET_KEY": SECRET}
    if database_url:
        env["LOTLINE_DATABASE_URL"] = database_url
    if broker := os.environ.get("LOTLINE_TEST_BROKER_URL"):
        env["LOTLINE_BROKER_URL"] = broker
        env["LOTLINE_QUEUE"] = f"lotline-cli-{os.getpid()}-{data_dir.name}"
    return env


def lotline(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trace_api", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def one_line_failure(result: subprocess.CompletedProcess[str]) -> str:
    """The failure a command printed: exactly one line on stderr, no traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


@dataclass
class Up:
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    port: int
    chain_port: int

    @property
    def record(self) -> dict[str, Any]:
        record: dict[str, Any] = json.loads((self.data_dir / "runtime.json").read_text())
        return record

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def children(self) -> dict[str, int]:
        return {name: pid for name, pid in self.record["pids"].items() if pid}

    def lotline(self, *args: str) -> subprocess.CompletedProcess[str]:
        return lotline(self.env, *args)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        for pid in self.children().values():
            kill_group(pid)


def start_up(data_dir: Path, env: dict[str, str], *extra: str) -> Up:
    """``lotline up`` on two free ports, returning once its runtime record is written and its API answers."""
    port, chain_port = free_port(), free_port()
    assert not {port, chain_port} & {8000, 8545}  # the defaults: the commands must not find the network by luck
    log = (data_dir / "up.log").open("ab")
    command = [sys.executable, "-m", "trace_api", "up", "--port", str(port), "--chain-port", str(chain_port), *extra]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    up = Up(data_dir, env, process, port, chain_port)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"lotline up exited: {(data_dir / 'up.log').read_text()}")
        if (data_dir / "runtime.json").exists() and _answers(up.url):
            return up
        time.sleep(0.3)
    up.stop()
    raise AssertionError(f"lotline up did not come up: {(data_dir / 'up.log').read_text()}")


def wait_for_worker(up: Up) -> None:
    """Until the worker's beat has sent its first task (its start takes a while on a busy machine)."""
    deadline = time.monotonic() + START_TIMEOUT
    while "Sending due task" not in (up.data_dir / "worker.log").read_text(errors="replace"):
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.3)


def group_alive(pid: int) -> bool:
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def process_gone(pid: int) -> bool:
    """Exited (a zombie not yet reaped by its parent counts as exited)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


def wait_until(what: str, probe: Any, timeout: float = 60) -> float:
    """Seconds until ``probe()`` is true; ``timeout`` only bounds a hung test, it is not what is checked."""
    started = time.monotonic()
    while not probe():
        assert time.monotonic() - started < timeout, f"{what}: still not the case after {timeout:.0f} s"
        time.sleep(0.05)
    return time.monotonic() - started


def kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url + "/", timeout=3).status_code == 200
    except httpx.HTTPError:
        return False
