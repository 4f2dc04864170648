"""The task port over Celery: a task sent by name lands on the network's queue with its arguments, and the
worker's app has every task the port can name."""

from __future__ import annotations

from pathlib import Path

from ledger.settings import Environment, Settings
from tests.trace_api.client import SECRET
from trace_api.tasks import TaskName
from trace_api.worker.queue import CeleryQueue, create_celery, create_worker


def settings_in(data_dir: Path) -> Settings:
    return Settings(environment=Environment.TEST, data_dir=data_dir, secret_key=SECRET, queue="lotline-port-test")


def test_a_sent_task_is_on_the_embedded_broker_by_name_with_its_arguments(tmp_path: Path) -> None:
    settings = settings_in(tmp_path)
    app = create_celery(settings)
    CeleryQueue(app).send(TaskName.ISSUE_CODES, 42)
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue(settings.queue)
        message = queue.get(timeout=10)
        message.ack()
        queue.close()
    assert (tmp_path / "broker.sqlite").exists()
    assert message.headers["task"] == "lotline.issue_codes"
    args, kwargs, _embed = message.decode()
    assert (args, kwargs) == ([42], {})


def test_the_worker_app_registers_every_task_the_port_can_send(tmp_path: Path) -> None:
    app = create_worker(settings_in(tmp_path))
    assert {name.value for name in TaskName} <= set(app.tasks)
    assert {entry["task"] for entry in app.conf.beat_schedule.values()} <= {name.value for name in TaskName}
