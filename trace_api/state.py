"""What a process builds once at start and shares: settings, database engines, the signer, the task queue.

``build_state`` serves an existing ledger; it never migrates. A schema older (or newer) than the code is refused
with ``SchemaOutOfDate``, naming ``lotline db upgrade``: migrating is one step of its own, run once, under a lock
(``lotline up`` runs it before it starts the worker and the API).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from chain.client import ChainClient
from chain.deploy import read_deployment
from ledger.db import make_engine, make_session_factory
from ledger.keys import KeyVault
from ledger.migrate import require_current
from ledger.recorder import Signer
from ledger.settings import Settings
from ledger.signing import SigningDomain
from trace_api.tasks import TaskQueue


@dataclass
class AppState:
    """What the app builds once at start and every request shares."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    readers: sessionmaker[Session]
    signer: Signer
    tasks: TaskQueue
    _client: ChainClient | None = None

    def chain_client(self) -> ChainClient | None:
        """The anchor contract's client, once the contract is deployed (``lotline up`` records it)."""
        if self._client is None:
            record = self.settings.data_dir / "deployment.json"
            if not record.exists():
                return None
            address = read_deployment(record)["address"]
            self._client = ChainClient(self.settings.resolved_chain_rpc_url, contract_address=address, retries=1)
        return self._client

    def close(self) -> None:
        self.engine.dispose()
        self.readers.kw["bind"].dispose()


def make_signer(settings: Settings) -> Signer:
    # Events are signed for this network (its chain id); the domain does not name the contract, so signatures
    # made before the first deployment stay valid after it.
    return Signer(
        vault=KeyVault(settings.secret_key),
        domain=SigningDomain(chain_id=settings.chain_id),
        ttl_seconds=settings.signature_ttl_seconds,
    )


def build_state(settings: Settings, tasks: TaskQueue) -> AppState:
    require_current(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    readers = make_session_factory(make_engine(settings.resolved_database_url, for_writing=False))
    return AppState(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        readers=readers,
        signer=make_signer(settings),
        tasks=tasks,
    )
