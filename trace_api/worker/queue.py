"""The Celery side of the task port: the broker, the queue the API sends to, and the worker app that runs the jobs.

Broker: embedded (SQLite file in the data directory, no server) by default; Redis with
``LOTLINE_BROKER_URL=redis://…``. Tasks are acknowledged late and rejected when a worker dies, so a ``kill -9``
mid-task means the task runs again, not that it is lost. Beat runs anchoring every second, sweeps up work whose
message was lost (broker down at dispatch), and looks for temperature loggers gone silent every minute.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from celery import Celery
from kombu.transport import sqlalchemy as kombu_sqlalchemy

from ledger.settings import Settings
from trace_api.tasks import TaskName
from trace_api.worker import jobs

ANCHOR_EVERY_SECONDS = 1.0
SWEEP_EVERY_SECONDS = 10.0
WEBHOOK_EVERY_SECONDS = 2.0
LOGGERS_EVERY_SECONDS = 60.0


def broker_url(settings: Settings) -> str:
    if settings.broker_url:
        return settings.broker_url
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqla+sqlite:///{(settings.data_dir / 'broker.sqlite').resolve()}"


def create_celery(settings: Settings) -> Celery:
    """A Celery app configured for this network's broker and queue, with no tasks: enough to send them."""
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
            "anchor": {"task": TaskName.ANCHOR.value, "schedule": ANCHOR_EVERY_SECONDS},
            "chain-jobs": {"task": TaskName.CHAIN_JOBS.value, "schedule": ANCHOR_EVERY_SECONDS * 2},
            "sweep-code-runs": {"task": TaskName.SWEEP_CODE_RUNS.value, "schedule": SWEEP_EVERY_SECONDS},
            "webhooks": {"task": TaskName.DELIVER_WEBHOOKS.value, "schedule": WEBHOOK_EVERY_SECONDS},
            "silent-loggers": {"task": TaskName.CHECK_LOGGERS.value, "schedule": LOGGERS_EVERY_SECONDS},
        },
    )
    # The SQLite broker polls; its default 1 s poll would add a second to every task. It is set on the transport
    # class because kombu hands broker_transport_options straight to create_engine, where a polling_interval
    # makes the worker crash on start.
    kombu_sqlalchemy.Transport.polling_interval = 0.1
    return app


class CeleryQueue:
    """The task port over Celery: a task is sent by name, so the sender needs none of the worker's code."""

    def __init__(self, app: Celery) -> None:
        self._app = app

    def send(self, task: TaskName, *args: int) -> None:
        self._app.send_task(task.value, args=args)


def create_worker(settings: Settings) -> Celery:
    """The worker's app: the configuration and the jobs. Their context is built on first use in each worker
    process, so a forked child builds its own engine and HTTP session."""
    app = create_celery(settings)
    context = cache(lambda: jobs.build_context(settings, CeleryQueue(app)))

    def anchor() -> int:
        return jobs.anchor(context())

    def chain_jobs() -> int:
        return jobs.chain_jobs(context())

    def issue_codes(run_id: int) -> int | None:
        return jobs.issue_codes(context(), run_id)

    def sweep_code_runs() -> int:
        return jobs.sweep_code_runs(context())

    def deliver_webhooks() -> int:
        return jobs.deliver_webhooks(context())

    def check_loggers() -> int:
        return jobs.check_loggers(context())

    def count_lookup(code_id: int, at_ms: int) -> bool:
        return jobs.count_lookup(context(), code_id, at_ms)

    bodies: dict[TaskName, Any] = {
        TaskName.ANCHOR: anchor,
        TaskName.CHAIN_JOBS: chain_jobs,
        TaskName.ISSUE_CODES: issue_codes,
        TaskName.SWEEP_CODE_RUNS: sweep_code_runs,
        TaskName.DELIVER_WEBHOOKS: deliver_webhooks,
        TaskName.CHECK_LOGGERS: check_loggers,
        TaskName.COUNT_LOOKUP: count_lookup,
    }
    for name, body in bodies.items():
        app.task(name=name.value)(body)
    return app
