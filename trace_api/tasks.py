"""The task port: how the API asks for background work without knowing who does it.

Routes call ``state.tasks.send(TaskName.ISSUE_CODES, run_id)``; the worker (``trace_api.worker``) provides the
Celery implementation, and nothing below the process level imports Celery. Tasks take ids only, so a message
stays small and a task reloads what it needs.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class TaskName(StrEnum):
    """The worker's tasks, by the name they are registered and sent under."""

    ANCHOR = "lotline.anchor"
    CHAIN_JOBS = "lotline.chain_jobs"
    ISSUE_CODES = "lotline.issue_codes"
    SWEEP_CODE_RUNS = "lotline.sweep_code_runs"
    DELIVER_WEBHOOKS = "lotline.deliver_webhooks"
    CHECK_LOGGERS = "lotline.check_loggers"
    COUNT_LOOKUP = "lotline.count_lookup"


class TaskQueue(Protocol):
    def send(self, task: TaskName, *args: int) -> None:
        """Queue ``task`` with its arguments; it runs in a worker, at least once."""
