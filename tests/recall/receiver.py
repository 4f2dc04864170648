"""A real webhook receiver for the tests: a stdlib HTTP server on 127.0.0.1 in a thread, told to fail at first."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Message:
    headers: dict[str, str]  # lower-case names
    body: bytes
    answered: int

    @property
    def json(self) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(self.body)
        return decoded


@dataclass
class Receiver:
    """Answers 503 to the first ``fail_first`` requests, then 204; records every request with its answer."""

    url: str
    fail_first: int = 0
    received: list[Message] = field(default_factory=list)
    on_request: Callable[[], None] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, headers: dict[str, str], body: bytes) -> int:
        if self.on_request is not None:
            self.on_request()
        with self._lock:
            status = 503 if len(self.received) < self.fail_first else 204
            self.received.append(Message(headers, body, status))
        return status

    def delivered(self) -> list[Message]:
        with self._lock:
            return [m for m in self.received if m.answered == 204]


@contextmanager
def running_receiver(*, fail_first: int = 0) -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    state = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/lotline", fail_first=fail_first)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(state.handle({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
