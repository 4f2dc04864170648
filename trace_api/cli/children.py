"""The processes ``lotline up`` owns: started so they cannot outlive it, watched, and stopped within seconds.

Each child runs in a session of its own (its pid is its process group, so a stop reaches its whole tree: the
worker's pool and beat too) and asks the kernel, before it runs anything, for SIGTERM when ``up`` dies
(``prctl(PR_SET_PDEATHSIG)``): a ``kill -9`` of ``up`` still stops the chain node and the worker. The signal comes
when the *thread* that started the child ends, so children are started from ``up``'s main thread only. A pid file
names each child while it runs and is removed when it exits (docs/cli.md).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
STOP_TIMEOUT_SECONDS = 8.0  # after SIGTERM, this long before the group is killed
WATCH_EVERY_SECONDS = 0.25


def die_with_parent() -> Callable[[], None]:
    """A ``preexec_fn`` that makes the child get SIGTERM when this process dies (Linux). libc is loaded here,
    before the fork, so the child only makes two system calls."""
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def in_child() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the prctl: nobody would send the signal now
            os._exit(1)

    return in_child


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    pid_file: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def forget_pid_file(self) -> None:
        """Remove the pid file if it still names this child (an operator may have started a replacement)."""
        with contextlib.suppress(FileNotFoundError, ValueError):
            if int(self.pid_file.read_text().strip()) == self.pid:
                self.pid_file.unlink()

    def group_alive(self) -> bool:
        try:
            os.killpg(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def signal_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)


class Children:
    """Starts, watches and stops ``up``'s children. ``on_exit(child, returncode)`` is called (from the watching
    thread) once for each child that exits while the network runs."""

    def __init__(self, on_exit: Callable[[Child, int], None]) -> None:
        self._children: list[Child] = []
        self._on_exit = on_exit
        self._stopping = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def started(self) -> bool:
        return bool(self._children)

    def start(
        self, name: str, command: Sequence[str], *, env: Mapping[str, str], log_path: Path, pid_file: Path
    ) -> Child:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        with log_path.open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
                list(command),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env),
                start_new_session=True,
                preexec_fn=die_with_parent(),
            )
        child = Child(name, process, pid_file)
        pid_file.write_text(f"{process.pid}\n")
        self._children.append(child)
        return child

    def watch(self) -> None:
        """Watch the children on a thread: each one that exits is reaped, its pid file removed, ``on_exit`` told."""
        self._watcher = threading.Thread(target=self._watch, name="lotline-children", daemon=True)
        self._watcher.start()

    def _watch(self) -> None:
        reported: set[int] = set()
        while not self._stopping.wait(WATCH_EVERY_SECONDS):
            for child in list(self._children):
                code = child.process.poll()
                if code is not None and child.pid not in reported:
                    reported.add(child.pid)
                    child.forget_pid_file()
                    self._on_exit(child, code)

    def stop(self, timeout: float = STOP_TIMEOUT_SECONDS) -> float:
        """SIGTERM each child, wait until every process of their groups is gone, SIGKILL what is left after
        ``timeout``; returns the seconds it took. Each child handles SIGTERM itself: the worker's cold shutdown
        stops its pool and beat, the node closes its database."""
        self._stopping.set()
        started = time.monotonic()
        for child in self._children:
            if child.running():
                with contextlib.suppress(ProcessLookupError):
                    child.process.send_signal(signal.SIGTERM)
        deadline = started + timeout
        for child in self._children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=max(deadline - time.monotonic(), 0.01))
        while any(c.group_alive() for c in self._children) and time.monotonic() < deadline:
            time.sleep(0.05)
        for child in self._children:
            if child.group_alive():
                child.signal_group(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=2)
            child.forget_pid_file()
        if self._watcher is not None:
            self._watcher.join(timeout=1)
        return time.monotonic() - started
