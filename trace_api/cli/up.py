"""``lotline up``: bring the embedded network up on one machine, with no external service.

Order matters: the data directory is locked first (one ``up`` per directory), the ports are checked free, the
ledger is migrated (the regulator organisation lives there), then the chain node is started as its own process
(exactly one process owns the chain database; everything else uses JSON-RPC), then the anchor contract is
deployed once with the regulator as its admin, then the worker. With ``LOTLINE_CHAIN_RPC_URL`` set, the node step
is skipped and the same deployment runs against that network. The runtime record says where it all listens
(trace_api/cli/runtime.py, docs/cli.md).
"""

from __future__ import annotations

import errno
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from sqlalchemy import select

from chain.client import ChainClient
from chain.deploy import ensure_deployed
from chain.operator import operator_key, wait_for_rpc
from ledger.db import make_engine, make_session_factory, session_scope
from ledger.errors import LotlineError
from ledger.keys import KeyVault
from ledger.migrate import upgrade_to_head
from ledger.models import Organisation, Role
from ledger.registry import create_organisation, issue_token
from ledger.settings import Settings
from trace_api.cli.children import Child, Children
from trace_api.cli.failures import CommandFailed
from trace_api.cli.runtime import RuntimeRecord, without_secrets
from trace_api.cli.tokens import store_regulator_token
from trace_api.worker.queue import broker_url

FUNDING_WEI = 10**24


@dataclass
class Network:
    rpc_url: str
    chain_id: int
    contract_address: str
    regulator: str
    regulator_token: str
    node: Child | None
    worker: Child

    def record(self, settings: Settings, *, host: str, port: int, api_workers: int) -> RuntimeRecord:
        return RuntimeRecord(
            api_url=f"http://{host}:{port}",
            api_port=port,
            public_url=settings.public_url,
            chain_rpc_url=self.rpc_url,
            chain_port=settings.embedded_chain_port if self.node is not None else None,
            chain_id=self.chain_id,
            contract_address=self.contract_address,
            broker_url=without_secrets(broker_url(settings)),
            database_url=without_secrets(settings.resolved_database_url),
            queue=settings.queue,
            data_dir=str(settings.data_dir.resolve()),
            up_pid=os.getpid(),
            pids={"chain-node": self.node.pid if self.node else None, "worker": self.worker.pid},
            api_workers=api_workers,
        )


def refuse_taken_port(host: str, port: int, what: str) -> None:
    """One line naming the port, instead of a part that fails to bind (or a foreign node answering in its place)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno in (errno.EADDRINUSE, errno.EACCES):
                raise CommandFailed(
                    f"port {port} on {host} ({what}) is taken; choose another with its option"
                ) from None
            raise


def bootstrap_regulator(settings: Settings, vault: KeyVault) -> tuple[str, str]:
    """The first regulator organisation (created once) and a fresh token for it; returns (address, token)."""
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            regulators = [o for o in session.scalars(select(Organisation)) if o.has_role(Role.REGULATOR)]
            if regulators:
                org = regulators[0]
                token = issue_token(session, org, label="lotline up")
            else:
                org, token = create_organisation(
                    session,
                    vault,
                    name=settings.bootstrap_regulator_name,
                    uscc=settings.bootstrap_regulator_uscc,
                    roles=[Role.REGULATOR],
                )
            return org.chain_address, token
    finally:
        engine.dispose()


def child_env(settings: Settings) -> dict[str, str]:
    """Children see the same settings as this process, including values given on the command line."""
    env = dict(os.environ)
    env["LOTLINE_DATA_DIR"] = str(settings.data_dir.resolve())
    env["LOTLINE_EMBEDDED_CHAIN_PORT"] = str(settings.embedded_chain_port)
    env["REMAP_SIGTERM"] = "SIGQUIT"  # the worker's SIGTERM is a prompt cold shutdown (trace_api/worker/__main__.py)
    return env


def start_embedded_node(children: Children, settings: Settings, accounts: list[str]) -> Child:
    command = [sys.executable, "-m", "chain.node", "--data-dir", str(settings.chain_data_dir)]
    command += ["--port", str(settings.embedded_chain_port)]
    for account in accounts:
        command += ["--account", f"{account}={FUNDING_WEI}"]
    return _start(children, "chain-node", command, settings)


def start_worker(children: Children, settings: Settings) -> Child:
    """The Celery worker with its beat (anchoring every second) in one process tree."""
    command = [sys.executable, "-m", "trace_api.worker", "--concurrency=2"]
    return _start(children, "worker", command, settings)


def _start(children: Children, name: str, command: list[str], settings: Settings) -> Child:
    log = settings.data_dir / f"{name}.log"
    return children.start(name, command, env=child_env(settings), log_path=log, pid_file=pid_file(settings, name))


def pid_file(settings: Settings, name: str) -> Path:
    """Operators (and the outage tests) find each child here while it runs."""
    return settings.data_dir / f"{name}.pid"


def bring_up(settings: Settings, children: Children) -> Network:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(settings.resolved_database_url)
    vault = KeyVault(settings.secret_key)
    operator = operator_key(settings.keys_dir, vault)
    operator_address = Account.from_key(operator).address
    regulator, token = bootstrap_regulator(settings, vault)
    store_regulator_token(settings, token)

    node = None
    rpc_url = settings.chain_rpc_url
    if rpc_url is None:
        rpc_url = settings.resolved_chain_rpc_url
        node = start_embedded_node(children, settings, [operator_address, regulator])
    try:
        chain_id = wait_for_rpc(rpc_url)
    except LotlineError as error:
        raise CommandFailed(
            f"the chain node did not answer at {rpc_url}: see {settings.data_dir}/chain-node.log"
        ) from error
    if node is not None and not node.running():
        raise CommandFailed(f"the chain node exited at start: see {settings.data_dir}/chain-node.log")
    address = ensure_deployed(
        ChainClient(rpc_url), operator, regulator, operator_address, settings.data_dir / "deployment.json"
    )
    worker = start_worker(children, settings)
    return Network(rpc_url, chain_id, address, regulator, token, node, worker)
