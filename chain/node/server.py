"""HTTP transport for the node: a bare ASGI app under uvicorn (httptools parser, uvloop when present).

A framework adds nothing to one POST route, and every microsecond here is paid once per transaction by
clients that send one transaction per request. Handlers run on the event-loop thread: submissions and reads
never wait for the sealer (see ``node.py``), so there is nothing to gain from a thread pool.

The server binds 127.0.0.1 by default. Anyone who can reach it can change the account allowlist with
``perm_*`` (as on Besu with the PERM API enabled), so expose it only behind something that authenticates.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import uvicorn

from chain.node.node import EmbeddedNode
from chain.node.rpc import handle_payload

MAX_BODY_BYTES = 16 * 1024 * 1024
SWITCH_INTERVAL = 0.0005
"""Seconds a thread may hold the GIL while another waits (CPython's default is 0.005).

The sealer thread is CPU-bound; with the default interval each request the event loop wants to answer
can wait 5 ms for the GIL after every system call, which caps one-request-at-a-time clients near 100 tx/s.
"""

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_JSON_HEADERS = [(b"content-type", b"application/json")]


def make_app(node: EmbeddedNode) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] != "POST":
            await _respond(send, 405, b'{"error": "JSON-RPC expects POST"}')
            return
        body = bytearray()
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > MAX_BODY_BYTES:
                await _respond(send, 413, b'{"error": "request body too large"}')
                return
            if not message.get("more_body"):
                break
        answer = handle_payload(node, bytes(body))
        await _respond(send, 200 if answer is not None else 204, answer or b"")

    return app


async def _respond(send: Send, status: int, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": _JSON_HEADERS})
    await send({"type": "http.response.body", "body": body})


def _server(node: EmbeddedNode) -> uvicorn.Server:
    sys.setswitchinterval(SWITCH_INTERVAL)
    config = uvicorn.Config(
        make_app(node),
        http="httptools",
        lifespan="off",
        log_level="warning",
        access_log=False,
        server_header=False,
        timeout_keep_alive=75,  # web3 and ethers keep one connection open between bursts of requests
    )
    return uvicorn.Server(config)


def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def serve(node: EmbeddedNode, host: str = "127.0.0.1", port: int = 8545) -> None:
    """Serve JSON-RPC for ``node`` until interrupted (SIGINT/SIGTERM); blocks."""
    _server(node).run(sockets=[_bind(host, port)])


@dataclass
class RunningServer:
    """A server answering on a background thread, for tests, benchmarks and embedding."""

    url: str
    _server: uvicorn.Server
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join()


def serve_in_thread(node: EmbeddedNode, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Start serving on a background thread (``port=0`` picks a free port) and return once it accepts."""
    sock = _bind(host, port)
    server = _server(node)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="lotline-rpc", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the JSON-RPC server stopped during startup")
        time.sleep(0.01)
    bound_host, bound_port = sock.getsockname()[:2]
    return RunningServer(f"http://{bound_host}:{bound_port}", server, thread)
