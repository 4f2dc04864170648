"""The Celery worker: anchoring the outbox, running chain jobs, issuing large code runs.

Every task takes ids (or nothing), opens its own session, reloads what it needs and is safe to run twice:
anchoring and chain jobs are idempotent against the chain, code runs resume from what committed. Tasks are
acknowledged late and rejected when a worker dies, so a ``kill -9`` mid-task means the task runs again, not that
it is lost. Beat runs anchoring every second and sweeps up work whose message was lost (broker down at dispatch).

Broker: embedded (SQLite file in the data directory, no server) by default; Redis with
``LOTLINE_BROKER_URL=redis://…``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx
from celery import Celery
from kombu.transport import sqlalchemy as kombu_sqlalchemy
from sqlalchemy import select

from chain.anchoring import anchor_pending
from chain.client import ChainClient, ChainUnavailable
from chain.deploy import read_deployment
from chain.jobs import run_chain_jobs
from chain.operator import operator_key
from ledger.codes import continue_run
from ledger.models import CodeRun
from ledger.settings import Settings, get_settings
from recall.endpoints import AddressPolicy
from recall.notify import deliver_pending
from trace_api.app import build_state
from trace_api.deps import AppState

logger = logging.getLogger(__name__)

ANCHOR_EVERY_SECONDS = 1.0
SWEEP_EVERY_SECONDS = 10.0
WEBHOOK_EVERY_SECONDS = 2.0


def broker_url(settings: Settings) -> str:
    if settings.broker_url:
        return settings.broker_url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqla+sqlite:///{(settings.data_dir / 'broker.sqlite').resolve()}"


def make_celery(settings: Settings) -> Celery:
    app = Celery("lotline", broker=broker_url(settings))
    app.conf.update(
        task_default_queue=settings.queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        beat_schedule_filename=str((settings.data_dir / "celerybeat-schedule").resolve()),
        beat_schedule={
            "anchor": {"task": "lotline.anchor", "schedule": ANCHOR_EVERY_SECONDS},
            "chain-jobs": {"task": "lotline.chain_jobs", "schedule": ANCHOR_EVERY_SECONDS * 2},
            "sweep-code-runs": {"task": "lotline.sweep_code_runs", "schedule": SWEEP_EVERY_SECONDS},
            "webhooks": {"task": "lotline.deliver_webhooks", "schedule": WEBHOOK_EVERY_SECONDS},
        },
    )
    # The SQLite broker polls; its default 1 s poll would add a second to every task. (STACK.md: setting this
    # through broker_transport_options crashes the worker, it must be set on the transport class.)
    kombu_sqlalchemy.Transport.polling_interval = 0.1
    return app


celery_app = make_celery(get_settings())


@dataclass
class WorkerContext:
    state: AppState
    client: ChainClient
    operator_key: bytes


@cache
def context() -> WorkerContext:
    """Per-process resources, built on first use (a forked worker builds its own engine and HTTP session)."""
    settings = get_settings()
    state = build_state(settings)
    deployment = read_deployment(settings.data_dir / "deployment.json")
    client = ChainClient(settings.resolved_chain_rpc_url, contract_address=deployment["address"])
    return WorkerContext(state, client, operator_key(settings.keys_dir, state.signer.vault))


@celery_app.task(name="lotline.anchor", bind=True, max_retries=None)
def anchor(self: Any) -> int:
    """Anchor what the outbox holds, a Merkle root at a time, until it is empty."""
    ctx = context()
    total = 0
    try:
        while (result := anchor_pending(ctx.state.sessions, ctx.client, ctx.operator_key)) is not None:
            total += result.events
    except ChainUnavailable as error:
        logger.warning("chain unavailable, anchoring resumes on the next beat: %s", error.detail)
    return total


@celery_app.task(name="lotline.chain_jobs")
def chain_jobs() -> int:
    ctx = context()
    try:
        result = run_chain_jobs(ctx.state.sessions, ctx.client, vault=ctx.state.signer.vault)
    except ChainUnavailable as error:
        logger.warning("chain unavailable, chain jobs resume on the next beat: %s", error.detail)
        return 0
    return result.done


@celery_app.task(name="lotline.issue_codes")
def issue_codes(run_id: int) -> int | None:
    run = continue_run(context().state.sessions, context().state.signer, run_id)
    return run.issued if run is not None else None


@celery_app.task(name="lotline.sweep_code_runs")
def sweep_code_runs() -> int:
    """Re-dispatch code runs whose message never arrived (or whose worker died before acking)."""
    with context().state.sessions() as session:
        run_ids = list(session.scalars(select(CodeRun.id).where(CodeRun.status.in_(("queued", "running")))))
    for run_id in run_ids:
        issue_codes.delay(run_id)
    return len(run_ids)


@celery_app.task(name="lotline.deliver_webhooks")
def deliver_webhooks() -> int:
    """Send due recall notifications; failed ones come due again on their backoff schedule."""
    # No proxy from the environment: a proxy would connect by the pinned address and present it as the TLS name,
    # failing every https delivery (recall/endpoints.py pins each request to the address it checked).
    with httpx.Client(timeout=10, follow_redirects=False, trust_env=False) as transport:
        state = context().state
        policy = AddressPolicy.from_settings(state.settings)
        counts = deliver_pending(state.sessions, transport=transport, vault=state.signer.vault, policy=policy)
    return counts.delivered


def dispatch_code_run(run_id: int) -> None:
    issue_codes.delay(run_id)
