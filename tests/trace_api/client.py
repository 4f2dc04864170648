"""The API client the trace_api tests drive: bearer tokens, idempotency keys, and organisations registered by the
bootstrap regulator."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fastapi.testclient import TestClient

from ledger.identifiers import make_uscc

SECRET = "test-secret-key-that-is-long-enough-0123456789"


@dataclass
class Api:
    client: TestClient
    regulator_token: str
    counter: int = 100

    def auth(self, token: str, key: str | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {token}"}
        headers["Idempotency-Key"] = key or uuid.uuid4().hex
        return headers

    def org(self, name: str, *roles: str) -> tuple[dict[str, object], str]:
        self.counter += 1
        body = {"name": name, "uscc": make_uscc(f"91330100MA2{self.counter:06d}"), "roles": list(roles)}
        reply = self.client.post("/api/v1/orgs", json=body, headers=self.auth(self.regulator_token))
        assert reply.status_code == 201, reply.text
        return reply.json()["org"], reply.json()["token"]
