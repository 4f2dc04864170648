"""``lotline status``: what runs on a data directory, read from the runtime record and checked live: each part's
pid and whether it is alive, the ports, the chain's head block, and how many events wait to be anchored."""

from __future__ import annotations

import json
from typing import Annotated, Any

import httpx
import typer

from ledger.settings import Settings
from trace_api.cli.failures import NotRunning
from trace_api.cli.locate import DataDir, alive, settings_for
from trace_api.cli.runtime import RuntimeRecord, is_held, read_record, without_secrets


def status(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False, data_dir: DataDir = None
) -> None:
    """Whether the network on the data directory runs, part by part. Exit code 3 when it does not."""
    settings = settings_for(data_dir)
    record = read_record(settings.data_dir)
    if record is None:
        raise NotRunning(
            f"no lotline network runs on {settings.data_dir} (no runtime record): "
            f"start it with `lotline up --data-dir {settings.data_dir}`"
        )
    report = _report(settings, record)
    if as_json:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print(report)
    raise typer.Exit(0 if report["running"] else 3)


def _report(settings: Settings, record: RuntimeRecord) -> dict[str, Any]:
    running = record.status == "up" and is_held(settings.data_dir) and alive(record.up_pid)
    api = _api_answers(record.api_url) if running else False
    parts: list[dict[str, Any]] = [
        {"name": "up", "pid": record.up_pid, "alive": alive(record.up_pid) and running},
        {"name": "api", "pid": record.up_pid, "url": record.api_url, "port": record.api_port, "alive": api},
    ]
    for name, pid in record.pids.items():
        part: dict[str, Any] = {"name": name, "pid": pid, "alive": running and alive(pid)}
        if name == "chain-node":
            part["port"] = record.chain_port
        parts.append(part)
    return {
        "data_dir": record.data_dir,
        "running": running,
        "status": record.status if running or record.status == "stopped" else "gone (up died without stopping)",
        "started_at": record.started_at,
        "stopped_at": record.stopped_at,
        "parts": parts,
        "chain": {
            "rpc_url": record.chain_rpc_url,
            "chain_id": record.chain_id,
            "contract": record.contract_address,
            "head_block": _head_block(record.chain_rpc_url) if running else None,
        },
        "database_url": record.database_url,
        "broker_url": record.broker_url,
        "queue": record.queue,
        "events_waiting_for_anchoring": _waiting(settings, record) if running else None,
    }


def _api_answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/", timeout=3).status_code < 500
    except httpx.HTTPError:
        return False


def _head_block(rpc_url: str) -> int | None:
    try:
        reply = httpx.post(
            rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}, timeout=3
        )
        return int(reply.json()["result"], 16)
    except (httpx.HTTPError, KeyError, ValueError, TypeError):
        return None


def _waiting(settings: Settings, record: RuntimeRecord) -> int | None:
    """Events in the outbox not yet in an anchor: the worker's lag (only when this command sees the same ledger)."""
    if without_secrets(settings.resolved_database_url) != record.database_url:
        return None
    from sqlalchemy import func, select

    from ledger.db import make_engine
    from ledger.models import OutboxEntry

    engine = make_engine(settings.resolved_database_url, for_writing=False)
    try:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(OutboxEntry).where(OutboxEntry.anchor_id.is_(None)))
    finally:
        engine.dispose()


def _print(report: dict[str, Any]) -> None:
    typer.echo(f"lotline on {report['data_dir']}: {'running' if report['running'] else report['status']}")
    for part in report["parts"]:
        where = f"  {part['url']}" if part.get("url") else (f"  port {part['port']}" if part.get("port") else "")
        state = "alive" if part["alive"] else "not running"
        typer.echo(f"  {part['name']:<11} pid {part['pid'] or '-':<8} {state}{where}")
    chain = report["chain"]
    head = chain["head_block"]
    typer.echo(
        f"  chain       {chain['rpc_url']}  id {chain['chain_id']}  head block {head if head is not None else '-'}"
    )
    typer.echo(f"  ledger      {report['database_url']}")
    typer.echo(f"  broker      {report['broker_url']}  queue {report['queue']}")
    waiting = report["events_waiting_for_anchoring"]
    if waiting is not None:
        typer.echo(f"  anchoring   {waiting} events waiting")
