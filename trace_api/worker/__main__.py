"""``python -m trace_api.worker [--concurrency N]``: the worker with its beat, as ``lotline up`` starts it.

SIGTERM means stop now, within seconds: with ``REMAP_SIGTERM=SIGQUIT`` Celery treats it as a cold shutdown, after
a soft shutdown of at most ``SOFT_SHUTDOWN_SECONDS`` in which running tasks may finish. Celery's own SIGTERM is a
warm shutdown that waits for every running task, which on the embedded SQLite broker kept the worker alive for
over a minute. Nothing is lost by stopping a task: tasks are acknowledged late, so an interrupted one runs again
(docs/architecture.md, "Processes"). Billiard reads ``REMAP_SIGTERM`` when it is imported, which this package has
done already, so without it in the environment the module runs itself again with it.

The beat runs as a thread of the worker's main process, not as Celery's default child process: that child
ignores SIGTERM once it is remapped (billiard's ``TERMSIGS_IGNORE``) and Celery stops it with SIGTERM, so it kept
the worker from exiting until it was killed. The thread stops within a second of the shutdown.
"""

from __future__ import annotations

import argparse
import os
import sys

SOFT_SHUTDOWN_SECONDS = 2.0


def main() -> None:
    if os.environ.get("REMAP_SIGTERM") != "SIGQUIT":
        env = {**os.environ, "REMAP_SIGTERM": "SIGQUIT"}
        os.execve(sys.executable, [sys.executable, "-m", "trace_api.worker", *sys.argv[1:]], env)  # noqa: S606
    parser = argparse.ArgumentParser(prog="python -m trace_api.worker", description="lotline worker and beat")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--loglevel", default="INFO")
    args = parser.parse_args()

    from celery import beat

    from trace_api.worker import celery_app

    beat._Process = None  # EmbeddedService then runs the beat as a thread
    celery_app.conf.worker_soft_shutdown_timeout = SOFT_SHUTDOWN_SECONDS
    celery_app.worker_main(["worker", "--beat", f"--loglevel={args.loglevel}", f"--concurrency={args.concurrency}"])


if __name__ == "__main__":
    main()
