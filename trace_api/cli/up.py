"""``lotline up``: bring the embedded network up on one machine, with no external service.

Order matters: the ledger is migrated first (the regulator organisation lives there), then the chain node is
started as its own process (exactly one process owns the chain database; everything else uses JSON-RPC), then the
anchor contract is deployed once with the regulator as its admin. With ``LOTLINE_CHAIN_RPC_URL`` set, the node
step is skipped and the same deployment runs against that network.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from sqlalchemy import select

from chain.client import ChainClient
from chain.deploy import ensure_deployed
from chain.operator import operator_key, wait_for_rpc
from ledger.db import make_engine, make_session_factory, session_scope
from ledger.keys import KeyVault
from ledger.migrate import upgrade_to_head
from ledger.models import Organisation, Role
from ledger.registry import create_organisation, issue_token
from ledger.settings import Settings

FUNDING_WEI = 10**24


@dataclass
class Network:
    rpc_url: str
    contract_address: str
    regulator: str
    regulator_token: str
    node: subprocess.Popen[bytes] | None
    worker: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        for process in (self.worker, self.node):
            if process is not None and process.poll() is None:
                process.terminate()
        for process in (self.worker, self.node):
            if process is not None:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()


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


def start_embedded_node(chain_dir: Path, port: int, accounts: list[str], log_path: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "chain.node", "--data-dir", str(chain_dir), "--port", str(port)]
    for account in accounts:
        command += ["--account", f"{account}={FUNDING_WEI}"]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        # A session of its own: the pid is the process group, so the whole tree can be stopped (or killed) at once.
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # noqa: S603


def start_worker(settings: Settings, log_path: Path) -> subprocess.Popen[bytes]:
    """The Celery worker with its beat (anchoring every second) in one process tree."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "trace_api.worker:celery_app",
        "worker",
        "--beat",
        "--loglevel=INFO",
        "--concurrency=2",
    ]
    with log_path.open("ab") as log:
        return subprocess.Popen(  # noqa: S603 - our own interpreter
            command, stdout=log, stderr=subprocess.STDOUT, env=child_env(settings), start_new_session=True
        )


def child_env(settings: Settings) -> dict[str, str]:
    """Children see the same settings as this process, including values given on the command line."""
    env = dict(os.environ)
    env["LOTLINE_DATA_DIR"] = str(settings.data_dir.resolve())
    env["LOTLINE_EMBEDDED_CHAIN_PORT"] = str(settings.embedded_chain_port)
    return env


def bring_up(settings: Settings) -> Network:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade_to_head(settings.resolved_database_url)
    vault = KeyVault(settings.secret_key)
    operator = operator_key(settings.keys_dir, vault)
    operator_address = Account.from_key(operator).address
    regulator, token = bootstrap_regulator(settings, vault)

    node = None
    rpc_url = settings.chain_rpc_url
    if rpc_url is None:
        rpc_url = settings.resolved_chain_rpc_url
        node = start_embedded_node(
            settings.chain_data_dir,
            settings.embedded_chain_port,
            [operator_address, regulator],
            settings.data_dir / "chain-node.log",
        )
    try:
        wait_for_rpc(rpc_url)
        client = ChainClient(rpc_url)
        address = ensure_deployed(client, operator, regulator, operator_address, settings.data_dir / "deployment.json")
    except BaseException:
        if node is not None:
            node.terminate()
        raise
    network = Network(rpc_url, address, regulator, token, node)
    network.worker = start_worker(settings, settings.data_dir / "worker.log")
    # Operators (and the outage tests) find the children here.
    for name, process in (("chain-node", node), ("worker", network.worker)):
        if process is not None:
            (settings.data_dir / f"{name}.pid").write_text(f"{process.pid}\n")
    return network
