"""The Celery worker: anchoring the outbox, running chain jobs, issuing large code runs, delivering webhooks.

``celery -A trace_api.worker:celery_app worker --beat`` runs it. The Celery app is built from the settings the
first time ``celery_app`` is asked for, not when this package is imported, so importing it reads no settings and
opens no broker.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from celery import Celery

from ledger.settings import get_settings
from trace_api.worker.queue import create_worker


@cache
def _celery_app() -> Celery:
    return create_worker(get_settings())


def __getattr__(name: str) -> Any:
    if name == "celery_app":
        return _celery_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
