"""End to end over HTTP against the running stack that `lotline up` starts: real embedded chain node, real
Celery worker (embedded broker, or Redis with LOTLINE_TEST_BROKER_URL), the test database (SQLite or PostgreSQL).

Register organisations, a product and a batch with a document; issue 1,000 codes; ship and receive through three
tiers; sell; then the consumer page shows the journey and every event's proof verifies on chain. Then the chain
and the worker are killed, scans are still taken, and they are anchored once both return. Last, rows are edited
behind the ledger's back (events, batches, holdings, codes) and `lotline verify` names exactly those rows.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, delete, text

from chain.anvil import free_port
from ledger.identifiers import make_uscc
from ledger.models import Base

SECRET = "e2e-secret-key-which-is-long-enough-0123456789"
COLD = {
    "customs_declaration_no": "310120261000999999",
    "origin_country": "AR",
    "quarantine_cert_no": "AR-Q-77",
    "nucleic_acid_test_no": "NAT-77",
    "nucleic_acid_result": "negative",
    "disinfection_cert_no": "DIS-77",
    "production_date": "2026-10-01",
    "expiry_date": "2028-10-01",
}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Stack:
    url: str
    env: dict[str, str]
    data_dir: Path
    token: str
    process: subprocess.Popen[bytes]
    http: httpx.Client

    def post(self, path: str, token: str, body: dict[str, Any]) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
        return self.http.post(self.url + path, json=body, headers=headers)

    def get(self, path: str, token: str | None = None, **headers: str) -> httpx.Response:
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.get(self.url + path, headers=headers)

    def lotline(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "trace_api", *args], env=self.env, capture_output=True, text=True, timeout=120
        )


@pytest.fixture(scope="module")
def stack(database_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("network")
    port, chain_port = free_port(), free_port()
    env = {
        **os.environ,
        "LOTLINE_DATA_DIR": str(data_dir),
        "LOTLINE_DATABASE_URL": database_url,
        "LOTLINE_ENVIRONMENT": "test",
        "LOTLINE_SECRET_KEY": SECRET,
        "LOTLINE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "LOTLINE_EMBEDDED_CHAIN_PORT": str(chain_port),
        "LOTLINE_QUEUE": f"lotline-e2e-{uuid.uuid4().hex[:8]}",
        "LOTLINE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",  # the tests' webhook receiver
    }
    if broker := os.environ.get("LOTLINE_TEST_BROKER_URL"):
        env["LOTLINE_BROKER_URL"] = broker
    log = (data_dir / "up.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "trace_api", "up", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    token = _wait_for_token(data_dir / "up.log", process)
    http = httpx.Client(timeout=60)
    _wait_for_api(http, f"http://127.0.0.1:{port}", token, process)
    try:
        yield Stack(f"http://127.0.0.1:{port}", env, data_dir, token, process, http)
    finally:
        http.close()
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        for name in ("worker", "chain-node"):
            _kill_group(data_dir / f"{name}.pid", signal.SIGKILL)
        with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(delete(table))


def _wait_for_token(log: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"lotline up exited: {log.read_text()}")
        for line in log.read_text(errors="replace").splitlines():
            if line.strip().startswith("token"):
                return line.split()[1]
        time.sleep(0.3)
    raise AssertionError(f"lotline up did not come up: {log.read_text()}")


def _wait_for_api(http: httpx.Client, url: str, token: str, process: subprocess.Popen[bytes]) -> None:
    """The token is printed before uvicorn binds its port: wait until the API answers."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "lotline up exited"
        try:
            if http.get(f"{url}/api/v1/orgs/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("the API did not answer within 120 s")


def _kill_group(pid_file: Path, sig: signal.Signals) -> None:
    if pid_file.exists():
        with contextlib.suppress(ProcessLookupError):
            os.killpg(int(pid_file.read_text()), sig)


def _org(stack: Stack, n: int, name: str, role: str) -> tuple[dict[str, Any], str]:
    reply = stack.post(
        "/api/v1/orgs", stack.token, {"name": name, "uscc": make_uscc(f"91330100MA8{n:06d}"), "roles": [role]}
    )
    assert reply.status_code == 201, reply.text
    return reply.json()["org"], reply.json()["token"]


def _scan(stack: Stack, token: str, body: dict[str, Any]) -> dict[str, Any]:
    reply = stack.post("/api/v1/scans", token, body)
    assert reply.status_code == 201, reply.text
    result: dict[str, Any] = reply.json()["results"][0]
    return result


def _wait_verified(stack: Stack, event_ids: list[str], timeout: float = 300) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    proofs: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        proofs = [stack.get(f"/api/v1/verify/events/{e}").json() for e in event_ids]
        if all(p["status"] == "verified" for p in proofs):
            return proofs
        time.sleep(1)
    raise AssertionError(f"not all events verified on chain: {[p['status'] for p in proofs]}")


@dataclass
class Trade:
    gtin: str
    lot: str
    batch_id: int
    sold_link: str
    tokens: dict[str, str]
    orgs: dict[str, dict[str, Any]]
    event_ids: list[str]


@pytest.fixture(scope="module")
def trade(stack: Stack) -> Trade:
    orgs, tokens = {}, {}
    for n, (key, name, role) in enumerate(
        [
            ("importer", "浙江冷链进口有限公司", "producer"),
            ("wholesale1", "一级批发市场", "distributor"),
            ("wholesale2", "二级批发市场", "distributor"),
            ("market", "联华超市", "retailer"),
        ],
        start=1,
    ):
        orgs[key], tokens[key] = _org(stack, n, name, role)
    product = stack.post(
        "/api/v1/products",
        tokens["importer"],
        {"name": "冷冻牛腱", "name_en": "Frozen beef shank", "category": "cold_chain", "storage_max_c": -18},
    )
    assert product.status_code == 201, product.text
    gtin, lot = product.json()["gtin"], "AR2026-11"
    batch = stack.post("/api/v1/batches", tokens["importer"], {"gtin": gtin, "lot": lot, "quantity": 1000, **COLD})
    assert batch.status_code == 201, batch.text
    batch_id = batch.json()["id"]
    document = stack.http.post(
        f"{stack.url}/api/v1/batches/{batch_id}/documents",
        headers={"Authorization": f"Bearer {tokens['importer']}"},
        files={"file": ("quarantine.pdf", PDF, "application/pdf")},
        data={"kind": "quarantine_certificate"},
    )
    assert document.status_code == 201, document.text
    run = stack.post(f"/api/v1/batches/{batch_id}/codes", tokens["importer"], {"count": 1000})
    assert (run.status_code, run.json()["issued"]) == (201, 1000), run.text
    codes = stack.get(f"/api/v1/batches/{batch_id}/codes?limit=1000", tokens["importer"]).json()
    assert len(codes) == 1000
    links = [c["digital_link"] for c in codes]

    event_ids = [document.json()["event_id"]]
    tiers = [
        ("importer", "wholesale1", links[:100]),
        ("wholesale1", "wholesale2", links[:50]),
        ("wholesale2", "market", links[:10]),
    ]
    for sender, receiver, moved in tiers:
        shipped = _scan(stack, tokens[sender], {"action": "ship", "to_org": orgs[receiver]["uscc"], "codes": moved})
        received = _scan(stack, tokens[receiver], {"action": "receive", "shipment_id": shipped["shipment_id"]})
        event_ids += [shipped["event_id"], received["event_id"]]
    sold = _scan(stack, tokens["market"], {"action": "sell", "codes": [codes[0]["signed_link"]]})
    event_ids.append(sold["event_id"])
    return Trade(gtin, lot, batch_id, codes[0]["signed_link"], tokens, orgs, event_ids)


def test_the_consumer_page_shows_the_journey_with_a_verified_proof_for_each_event(stack: Stack, trade: Trade) -> None:
    _wait_verified(stack, trade.event_ids)
    path = trade.sold_link.removeprefix(stack.url)
    view = stack.get(path, Accept="application/json").json()
    steps = [s["step"] for s in view["journey"]]
    assert steps[-7:] == ["shipping", "receiving", "shipping", "receiving", "shipping", "receiving", "retail_selling"]
    assert steps[0] == "commissioning"
    assert view["status"]["item_status"] == "sold"
    for step in view["journey"]:
        assert step["anchored"], step
        proof = stack.get(f"/api/v1/verify/events/{step['event_id']}").json()
        assert proof["status"] == "verified", proof
        assert proof["on_chain"]["verified"] is True
    html = stack.get(path, Accept="text/html")
    assert html.status_code == 200
    assert "冷冻牛腱" in html.text


def test_scans_are_taken_while_chain_and_worker_are_down_and_anchored_when_they_return(
    stack: Stack, trade: Trade
) -> None:
    for name in ("worker", "chain-node"):
        _kill_group(stack.data_dir / f"{name}.pid", signal.SIGKILL)
    time.sleep(1)
    line = {"gtin": trade.gtin, "lot": trade.lot, "quantity": 5}
    offline = [_scan(stack, trade.tokens["importer"], {"action": "destroy", "lines": [line]}) for _ in range(3)]
    assert {r["anchoring"] for r in offline} == {"pending"}
    assert {stack.get(f"/api/v1/verify/events/{r['event_id']}").json()["status"] for r in offline} == {"pending"}

    chain_port = stack.env["LOTLINE_EMBEDDED_CHAIN_PORT"]
    logs = (stack.data_dir / "restart.log").open("ab")
    node = subprocess.Popen(
        [sys.executable, "-m", "chain.node", "--data-dir", str(stack.data_dir / "chain"), "--port", chain_port],
        stdout=logs,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "trace_api.worker:celery_app", "worker", "--beat", "--concurrency=1"],
        env=stack.env,
        stdout=logs,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    (stack.data_dir / "chain-node.pid").write_text(str(node.pid))
    (stack.data_dir / "worker.pid").write_text(str(worker.pid))
    _wait_verified(stack, [r["event_id"] for r in offline])


def test_lotline_verify_reports_exactly_the_rows_edited_behind_its_back(
    stack: Stack, trade: Trade, engine: Engine
) -> None:
    _wait_verified(stack, trade.event_ids)
    clean = stack.lotline("verify", "--json")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    edited_event = trade.event_ids[2]
    with engine.begin() as conn:
        row = conn.execute(text("SELECT document FROM events WHERE event_id = :e"), {"e": edited_event}).one()
        document = row[0] if isinstance(row[0], dict) else json.loads(row[0])
        document["eventTime"] = "2026-01-01T00:00:00.000Z"
        conn.execute(
            text("UPDATE events SET document = :d WHERE event_id = :e"), {"d": json.dumps(document), "e": edited_event}
        )
        conn.execute(
            text("UPDATE batches SET registration_hash = :h WHERE id = :b"),
            {"h": "0x" + "ab" * 32, "b": trade.batch_id},
        )
        # Derived rows too: the market's holding, and the code it sold put back on the shelf.
        market = conn.execute(
            text("SELECT org_id FROM holdings WHERE batch_id = :b AND consumed > 0"), {"b": trade.batch_id}
        ).scalar_one()
        conn.execute(
            text("UPDATE holdings SET on_hand = on_hand + 100 WHERE org_id = :o AND batch_id = :b"),
            {"o": market, "b": trade.batch_id},
        )
        sold = conn.execute(text("SELECT id FROM codes WHERE status = 'sold'")).scalar_one()
        conn.execute(text("UPDATE codes SET status = 'active', consumed_at = NULL WHERE id = :c"), {"c": sold})
    report = stack.lotline("verify", "--json")
    assert report.returncode == 1, report.stdout + report.stderr
    findings = json.loads(report.stdout)["findings"]
    assert {f.get("event_id") for f in findings if f.get("event_id")} == {edited_event}
    assert {f.get("batch_id") for f in findings if f.get("batch_id")} == {trade.batch_id}
    assert {(f["kind"], f["table"], f["row"]) for f in findings if f.get("table")} == {
        ("registration_edited", "batches", f"id={trade.batch_id}"),
        ("holding_mismatch", "holdings", f"org_id={market},batch_id={trade.batch_id}"),
        ("code_mismatch", "codes", f"id={sold}"),
    }
    proof = stack.get(f"/api/v1/verify/events/{edited_event}").json()
    assert proof["hash_matches"] is False
