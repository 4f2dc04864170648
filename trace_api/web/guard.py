"""ASGI middleware in front of every route: the request body's size counted while it streams, and request targets
(path and query) without control characters.

The body limit cannot trust ``Content-Length``: a chunked request has none, so the bytes are counted as the app
reads them and the read stops with a 413 once they pass the limit, before the rest is buffered. Routes keep their
own, exact limits on the documents they take (``Settings.max_upload_bytes``); this one is that limit plus room for
a multipart envelope. A NUL or another control character in a path or query parameter is refused with a 422 here,
once, as the ``Request`` base refuses it in bodies (``trace_api.web.schemas``): PostgreSQL cannot store one, and no
identifier contains one.
"""

from __future__ import annotations

import json
from typing import Final
from urllib.parse import unquote_to_bytes

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trace_api.web.schemas import CONTROL_CHARACTERS

# A multipart form around a document of the largest size a route takes: headers, boundaries, the other fields.
ENVELOPE_BYTES: Final = 64 * 1024


class BodyTooLarge(HTTPException):
    """Raised from inside ``receive``: FastAPI lets an HTTPException through its body parsing unchanged."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than the limit of {limit} bytes")
        self.limit = limit


def _refusal(status: int, error: str, detail: str, context: dict[str, object]) -> tuple[Message, Message]:
    body = json.dumps({"error": error, "detail": detail, "context": context}).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
    }
    return start, {"type": "http.response.body", "body": body}


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, limit)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            # Raised where no exception handler answers (a streaming read outside FastAPI's body parsing).
            if started:
                raise
            await self._refuse(send, limit)

    @staticmethod
    async def _refuse(send: Send, limit: int) -> None:
        detail = f"the request body is larger than the limit of {limit} bytes"
        for message in _refusal(413, "PayloadTooLarge", detail, {"limit": limit}):
            await send(message)


class PrintableTarget:
    """Refuses a request whose path or query string, decoded, holds a control character."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            # The server has percent-decoded the path already; the query string comes as sent.
            query = unquote_to_bytes(scope.get("query_string", b"").replace(b"+", b" ")).decode("utf-8", "replace")
            for part, decoded in (("path", scope["path"]), ("query", query)):
                if CONTROL_CHARACTERS.search(decoded):
                    detail = f"{part}: control characters (such as NUL) are not allowed"
                    for message in _refusal(422, "InvalidRequest", detail, {"field": part}):
                        await send(message)
                    return
        await self.app(scope, receive, send)
