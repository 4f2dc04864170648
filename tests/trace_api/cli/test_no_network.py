"""Commands on a data directory where no network runs: one line saying what to start (exit code 3), nothing
written, never a traceback; and ``lotline generate network``'s expected conflict in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.trace_api.cli.network import base_env, lotline, one_line_failure


@pytest.mark.parametrize(
    "command",
    [
        ("verify",),
        ("demo",),
        ("status",),
        ("recall", "list"),
        ("recall", "close", "1", "--reason", "x"),
        ("import", "epcis", __file__, "--org", "91330100MA2C00031X"),
    ],
    ids=lambda command: " ".join(command[:2]),
)
def test_a_command_without_a_running_network_says_what_to_start(tmp_path: Path, command: tuple[str, ...]) -> None:
    data_dir = tmp_path / "nothing-runs-here"
    result = lotline(base_env(data_dir), *command, timeout=120)
    assert result.returncode == 3, result.stdout + result.stderr
    line = one_line_failure(result)
    assert f"lotline up --data-dir {data_dir}" in line
    assert not data_dir.exists()  # demo no longer seeds a fresh ledger where nothing runs


def test_a_stopped_network_is_reported_as_stopped_not_running(tmp_path: Path) -> None:
    (tmp_path / "runtime.json").write_text(
        '{"api_url": "http://127.0.0.1:9", "api_port": 9, "public_url": "http://127.0.0.1:9",'
        ' "chain_rpc_url": "http://127.0.0.1:10", "chain_port": 10, "chain_id": 20260, "contract_address": null,'
        ' "broker_url": "x", "database_url": "y", "queue": "lotline", "data_dir": "d", "up_pid": 999999999,'
        ' "pids": {"chain-node": null, "worker": null}, "status": "stopped", "stopped_at": "2026-12-05T00:00:00"}'
    )
    status = lotline(base_env(tmp_path), "status", "--json")
    assert status.returncode == 3
    assert '"running": false' in status.stdout
    verify = lotline(base_env(tmp_path), "verify")
    assert verify.returncode == 3
    assert "is not running" in one_line_failure(verify)


def test_generate_network_into_a_ledger_that_has_it_already_is_one_line(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    first = lotline(env, "generate", "network", "--events", "30", "--seed", "3", timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    again = lotline(env, "generate", "network", "--events", "30", "--seed", "3", timeout=300)
    assert again.returncode == 2
    assert one_line_failure(again).startswith("lotline: refused: Conflict: ")
