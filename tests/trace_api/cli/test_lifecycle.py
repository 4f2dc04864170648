"""``lotline up`` owns its children (issue #12): SIGTERM stops them all, a ``kill -9`` of ``up`` takes them
with it (they asked the kernel for SIGTERM when it dies), pid files and the runtime record stay true, and the
worker on the embedded SQLite broker exits promptly on SIGTERM. The waits below only bound a hung test; the
timings are measured separately (docs/cli.md)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

from tests.trace_api.cli.network import (
    base_env,
    group_alive,
    kill_group,
    lotline,
    one_line_failure,
    process_gone,
    start_up,
    wait_for_worker,
    wait_until,
)


def _api_workers(up_pid: int) -> list[int]:
    """uvicorn's worker processes: the children of ``up`` that multiprocessing spawned."""
    children = [int(pid) for pid in Path(f"/proc/{up_pid}/task/{up_pid}/children").read_text().split()]
    return [pid for pid in children if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def test_sigterm_to_up_stops_every_child_and_marks_the_record_stopped(tmp_path: Path) -> None:
    up = start_up(tmp_path, base_env(tmp_path))
    try:
        wait_for_worker(up)
        children = up.children()
        assert set(children) == {"chain-node", "worker"}
        up.process.send_signal(signal.SIGTERM)
        assert up.process.wait(timeout=60) == 0
        assert not any(group_alive(pid) for pid in children.values())
    finally:
        up.stop()
    record = json.loads((tmp_path / "runtime.json").read_text())
    assert (record["status"], set(record["pids"].values())) == ("stopped", {None})
    assert not list(tmp_path.glob("*.pid"))
    # The lock went with it: the next up starts on the same directory.
    assert lotline(base_env(tmp_path), "status").returncode == 3


def test_children_exit_when_up_is_killed_and_so_do_its_api_workers(tmp_path: Path) -> None:
    up = start_up(tmp_path, base_env(tmp_path), "--workers", "2")
    try:
        wait_for_worker(up)
        children = up.children()
        api_workers = _api_workers(up.process.pid)
        assert len(api_workers) == 2
        up.process.kill()
        up.process.wait(timeout=10)
        wait_until("the chain node and the worker exit", lambda: not any(map(group_alive, children.values())))
        wait_until("the API workers exit", lambda: all(map(process_gone, api_workers)))
        status = lotline(base_env(tmp_path), "status")
        assert status.returncode == 3
    finally:
        for pid in up.children().values():
            kill_group(pid)


def test_a_child_that_exits_loses_its_pid_file_and_its_pid_in_the_record(tmp_path: Path) -> None:
    up = start_up(tmp_path, base_env(tmp_path))
    try:
        node = up.children()["chain-node"]
        subprocess.run(["kill", "-KILL", str(node)], check=True)
        wait_until("the pid file is removed", lambda: not (tmp_path / "chain-node.pid").exists())
        wait_until("the record forgets the pid", lambda: up.record["pids"]["chain-node"] is None)
        assert up.record["pids"]["worker"] is not None
    finally:
        up.stop()


def test_up_refuses_a_port_in_use_in_one_line_and_starts_nothing(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = lotline(base_env(tmp_path), "up", "--port", str(port), "--chain-port", str(port))
    assert result.returncode == 2
    assert f"port {port}" in one_line_failure(result)
    assert not list(tmp_path.glob("*.pid"))


def test_the_worker_on_the_sqlite_broker_exits_promptly_on_sigterm(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    log = (tmp_path / "worker.log").open("ab")
    worker = subprocess.Popen(  # no REMAP_SIGTERM given: the module sets it up itself
        [sys.executable, "-m", "trace_api.worker", "--concurrency=2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(
            "the worker starts",
            lambda: "Sending due task" in (tmp_path / "worker.log").read_text(errors="replace"),
            timeout=180,
        )
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
        wait_until("its pool and beat exit too", lambda: not group_alive(worker.pid), timeout=30)
    finally:
        kill_group(worker.pid)
    text = (tmp_path / "worker.log").read_text(errors="replace")
    assert "Cold shutdown" in text
