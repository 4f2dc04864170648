"""The commands' side of the JSON API: a refusal (HTTP 4xx) becomes one line with the API's reason, a network
that stopped answering becomes "not running", never a traceback."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from trace_api.cli.failures import CommandFailed, NotRunning


class Api:
    def __init__(self, url: str, token: str, *, timeout: float = 120) -> None:
        self.url = url
        self._http = httpx.Client(base_url=url, timeout=timeout, headers={"Authorization": f"Bearer {token}"})

    def get(self, path: str, **params: Any) -> Any:
        return self._send("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, body: dict[str, Any]) -> Any:
        """A write, with a fresh idempotency key (a command is one attempt; the API refuses a replay with
        another body)."""
        return self._send("POST", path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})

    def _send(self, method: str, path: str, **request: Any) -> Any:
        try:
            reply = self._http.request(method, path, **request)
        except httpx.HTTPError as error:
            raise NotRunning(f"the API at {self.url} does not answer ({error or type(error).__name__})") from error
        if reply.status_code >= 400:
            raise CommandFailed(_refusal(reply))
        return reply.json()


def _refusal(reply: httpx.Response) -> str:
    try:
        body = reply.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    problems = body.get("context", {}).get("problems") if isinstance(body.get("context"), dict) else None
    detail = body.get("detail") or reply.reason_phrase
    if problems:
        detail = "; ".join(f"{p.get('field')}: {p.get('message')}" for p in problems)
    kind = "refused" if reply.status_code < 500 else "the API failed"
    return f"{kind} ({reply.status_code} {body.get('error', reply.reason_phrase)}): {detail}"
