"""Running ``lotline up`` to its end: the runtime record kept true, the web API served, and on Ctrl-C or SIGTERM
every child stopped before ``up`` exits (trace_api/cli/children.py; docs/cli.md)."""

from __future__ import annotations

import ctypes
import os
import signal
import threading
from datetime import UTC, datetime
from types import FrameType

import typer
from fastapi import FastAPI

from ledger.settings import Settings, get_settings
from trace_api.cli.children import PR_SET_PDEATHSIG, Child, Children
from trace_api.cli.runtime import RuntimeRecord, UpLock, write_record
from trace_api.cli.up import bring_up, refuse_taken_port

GRACEFUL_SECONDS = 3  # open HTTP connections get this long to finish when the API stops


def run_up(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """Lock the data directory, bring the network up, serve the API until interrupted, then stop everything."""
    lock = UpLock(settings.data_dir)
    lock.acquire()
    record: RuntimeRecord | None = None
    writing = threading.Lock()

    def exited(child: Child, code: int) -> None:
        typer.echo(f"lotline: {child.name} (pid {child.pid}) exited with code {code}; see its log", err=True)
        with writing:
            if record is not None and record.status == "up":
                record.pids[child.name] = None
                write_record(settings.data_dir, record)

    children = Children(on_exit=exited)
    # SIGTERM stops up as Ctrl-C does. uvicorn re-raises the signal once it has shut down; this handler turns it
    # into KeyboardInterrupt, so the children are stopped below instead of the process dying with them running.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        refuse_taken_port(host, port, "web API, --port")
        if settings.chain_rpc_url is None:
            refuse_taken_port("127.0.0.1", settings.embedded_chain_port, "chain node, --chain-port")
        network = bring_up(settings, children)
        record = network.record(settings, host=host, port=port, api_workers=workers)
        write_record(settings.data_dir, record)
        children.watch()
        _announce(settings, record, network.regulator, network.regulator_token)
        _serve(settings, host, port, workers)
    except KeyboardInterrupt:
        pass
    finally:
        seconds = children.stop()
        with writing:
            if record is not None:
                record.status, record.stopped_at = "stopped", datetime.now(UTC).isoformat()
                record.pids = dict.fromkeys(record.pids)
                write_record(settings.data_dir, record)
        lock.release()
        if children.started:
            typer.echo(f"lotline stopped: every part exited {seconds:.1f} s after the stop began", err=True)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _announce(settings: Settings, record: RuntimeRecord, regulator: str, token: str) -> None:
    typer.echo(f"lotline is up at {record.api_url}   (consumer pages, /docs for the API)")
    typer.echo(f"  ledger     {record.database_url}")
    typer.echo(f"  chain      {record.chain_rpc_url}   anchor contract {record.contract_address}")
    typer.echo(f"  regulator  {regulator}")
    typer.echo(f"  token      {token}   (regulator bearer token; a new one each start)")
    typer.echo(f"  logs       {settings.data_dir}/chain-node.log, {settings.data_dir}/worker.log")
    typer.echo(f"  runtime    {settings.data_dir}/runtime.json   (lotline status)")
    typer.echo("  stop with Ctrl-C")


def _serve(settings: Settings, host: str, port: int, workers: int) -> None:
    import uvicorn

    if workers == 1:
        from trace_api.app import create_app

        app = create_app(settings)
        uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=GRACEFUL_SECONDS)
        return
    # Each API worker process builds its app from the environment, so it carries what the command line set.
    os.environ["LOTLINE_DATA_DIR"] = str(settings.data_dir.resolve())
    os.environ["LOTLINE_EMBEDDED_CHAIN_PORT"] = str(settings.embedded_chain_port)
    uvicorn.run(
        "trace_api.cli.serve:api_worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )


def api_worker_app() -> FastAPI:
    """One of ``--workers N`` API processes: it exits when ``up`` dies, like the other children."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() == 1:  # up died before the prctl
        os._exit(1)
    from trace_api.app import create_app

    return create_app(get_settings())
