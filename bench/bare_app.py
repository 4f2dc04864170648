"""The bare baseline of ``bench_api.py``: a FastAPI app doing only the irreducible work of each request lotline serves.

    BARE_DATABASE_URL=sqlite:///… .venv/bin/uvicorn --app-dir bench --factory bare_app:create_app [--workers N]

(``bench_api.py`` starts it so, after :func:`prepare` made its tables.)

Served by the same uvicorn, with sync routes in the same thread pool, on the same database, and driven by the same
load generator as the real stack, so the ratio of the two is the figure a busy machine barely moves:

- ``POST /api/v1/scans`` (the path lotline's scans take): the request body parsed by pydantic, one SHA-256 over it,
  one secp256k1 signature of the digest (coincurve, as ``ledger.signing``), one insert and commit;
- ``GET /01/{gtin}/10/{lot}/21/{serial}`` (the consumer's resolver path): one keyed select, answered as JSON.

Its tables (``bare_scans``, ``bare_codes``) live beside the ledger's in the benchmark's scratch database, one
``bare_codes`` row per looked-up path.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from coincurve import PrivateKey
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy import text

from ledger.db import make_engine


class Line(BaseModel):
    gtin: str
    lot: str
    quantity: int


class BareScan(BaseModel):
    """The shape of the scans the benchmark sends (one scan per request: the single-scan phase)."""

    action: str
    to_org: str | None = None
    lines: list[Line] = []
    codes: list[str] = []


def prepare(database_url: str, lookup_paths: list[str]) -> None:
    """The baseline's tables, made once before its worker processes start; one row per resolver path."""
    engine = make_engine(database_url)
    lookup_paths = [path.partition("?")[0] for path in lookup_paths]
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bare_scans"))
        conn.execute(text("DROP TABLE IF EXISTS bare_codes"))
        conn.execute(text("CREATE TABLE bare_scans (digest VARCHAR(66), signature TEXT, body TEXT)"))
        conn.execute(text("CREATE TABLE bare_codes (path VARCHAR(200) PRIMARY KEY, view TEXT)"))
        rows = [{"path": p, "view": json.dumps({"path": p, "status": "active", "steps": 5})} for p in lookup_paths]
        if rows:
            conn.execute(text("INSERT INTO bare_codes (path, view) VALUES (:path, :view)"), rows)
    engine.dispose()


def create_app() -> FastAPI:
    engine = make_engine(os.environ["BARE_DATABASE_URL"])
    key = PrivateKey(hashlib.sha256(b"bare baseline key").digest())
    app = FastAPI()
    insert = text("INSERT INTO bare_scans (digest, signature, body) VALUES (:digest, :signature, :body)")
    lookup = text("SELECT view FROM bare_codes WHERE path = :path")

    @app.post("/api/v1/scans", status_code=201)
    def scan(body: BareScan) -> dict[str, Any]:
        raw = body.model_dump_json()
        digest = hashlib.sha256(raw.encode()).digest()
        signature = key.sign_recoverable(digest, hasher=None)
        with engine.begin() as conn:
            conn.execute(insert, {"digest": "0x" + digest.hex(), "signature": signature.hex(), "body": raw})
        return {"results": [{"action": body.action, "event_id": "0x" + digest.hex(), "anchoring": "pending"}]}

    @app.get("/01/{gtin}/10/{lot}/21/{serial}")
    def item(gtin: str, lot: str, serial: str) -> dict[str, Any]:
        with engine.connect() as conn:
            view = conn.execute(lookup, {"path": f"/01/{gtin}/10/{lot}/21/{serial}"}).scalar()
            conn.rollback()
        if view is None:
            raise HTTPException(404, "never issued")
        answer: dict[str, Any] = json.loads(view)
        return answer

    return app
