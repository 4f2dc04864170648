"""The worker's jobs. Every job takes ids (or nothing), opens its own session, reloads what it needs and is safe
to run twice: anchoring and chain jobs are idempotent against the chain, code runs resume from what committed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
from sqlalchemy import select

from chain.anchoring import anchor_pending
from chain.client import ChainClient, ChainUnavailable
from chain.deploy import read_deployment
from chain.jobs import run_chain_jobs
from chain.operator import operator_key
from ledger.alert_signals import count_lookup as count_lookup_of
from ledger.alerts import raise_alert
from ledger.codes import continue_run
from ledger.coldchain.silence import check_silent_loggers
from ledger.models import CodeRun, utcnow
from ledger.settings import Settings
from recall.endpoints import AddressPolicy
from recall.notify import deliver_pending
from trace_api.state import AppState, build_state
from trace_api.tasks import TaskName, TaskQueue

logger = logging.getLogger(__name__)


@dataclass
class WorkerContext:
    state: AppState
    client: ChainClient
    operator_key: bytes


def build_context(settings: Settings, tasks: TaskQueue) -> WorkerContext:
    state = build_state(settings, tasks)
    deployment = read_deployment(settings.data_dir / "deployment.json")
    client = ChainClient(settings.resolved_chain_rpc_url, contract_address=deployment["address"])
    return WorkerContext(state, client, operator_key(settings.keys_dir, state.signer.vault))


def anchor(ctx: WorkerContext) -> int:
    """Anchor what the outbox holds, a Merkle root at a time, until it is empty."""
    total = 0
    try:
        domain = ctx.state.signer.domain
        while (result := anchor_pending(ctx.state.sessions, ctx.client, ctx.operator_key, domain=domain)) is not None:
            total += result.events
    except ChainUnavailable as error:
        logger.warning("chain unavailable, anchoring resumes on the next beat: %s", error.detail)
    return total


def chain_jobs(ctx: WorkerContext) -> int:
    try:
        result = run_chain_jobs(ctx.state.sessions, ctx.client, vault=ctx.state.signer.vault)
    except ChainUnavailable as error:
        logger.warning("chain unavailable, chain jobs resume on the next beat: %s", error.detail)
        return 0
    return result.done


def issue_codes(ctx: WorkerContext, run_id: int) -> int | None:
    run = continue_run(ctx.state.sessions, ctx.state.signer, run_id)
    return run.issued if run is not None else None


def sweep_code_runs(ctx: WorkerContext) -> int:
    """Re-send code runs whose message never arrived (or whose worker died before acking)."""
    with ctx.state.sessions() as session:
        run_ids = list(session.scalars(select(CodeRun.id).where(CodeRun.status.in_(("queued", "running")))))
    for run_id in run_ids:
        ctx.state.tasks.send(TaskName.ISSUE_CODES, run_id)
    return len(run_ids)


def deliver_webhooks(ctx: WorkerContext) -> int:
    """Send due recall notifications; failed ones come due again on their backoff schedule."""
    # No proxy from the environment: a proxy would connect by the pinned address and present it as the TLS name,
    # failing every https delivery (recall/endpoints.py pins each request to the address it checked).
    with httpx.Client(timeout=10, follow_redirects=False, trust_env=False) as transport:
        state = ctx.state
        policy = AddressPolicy.from_settings(state.settings)
        counts = deliver_pending(state.sessions, transport=transport, vault=state.signer.vault, policy=policy)
    return counts.delivered


def count_lookup(ctx: WorkerContext, code_id: int, at_ms: int) -> bool:
    """Count a consumer's lookup of a sold code (sent by the consumer page); True when it raised an alert."""
    with ctx.state.sessions() as session:
        signal = count_lookup_of(session, code_id, datetime.fromtimestamp(at_ms / 1000, UTC))
        if signal is not None:
            raise_alert(session, ctx.state.signer, signal)
        session.commit()
    return signal is not None


def check_loggers(ctx: WorkerContext) -> int:
    """Gateway loggers silent for longer than a gap while their goods need watching: an ongoing data gap each."""
    with ctx.state.sessions() as session:
        found = check_silent_loggers(session, utcnow())
        session.commit()
    return len(found)
