"""Scans per second over HTTP, the anchoring lag they cause, and consumer lookups per second, on the real stack.

    .venv/bin/python bench/bench_api.py [--scans N] [--list-requests N] [--list-size N] [--lookups N]
        [--concurrency N] [--batches N] [--retailers N] [--codes N] [--client raw|httpx]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/x] [--broker-url redis://127.0.0.1:6379/0]

Starts ``python -m trace_api up`` (chain node, Celery worker with its anchoring beat, uvicorn with one worker
process) on a fresh data directory: SQLite by default; with ``--database-url`` a scratch database
``lotline_bench_<random>`` is created on that PostgreSQL server (the URL's database name is not used) and dropped
at the end. Seeds an importer, a wholesaler and ``--retailers`` retailers, one product, ``--batches`` batches
stocked at every tier, and ``--codes`` item codes shipped through two tiers for the lookups. Then measures:

(a) single scans: one ``sell`` (a retailer, 1 unit of a batch) or ``ship`` (the wholesaler to a retailer,
    1 unit) per request, alternating, each with its own Idempotency-Key; batches drawn at random so row locks
    spread; ``--concurrency`` keep-alive connections in flight;
(b) scan lists: ``--list-size`` such scans per request, all-or-nothing;
(c) anchoring lag: sampled during (a) and (b) from the ledger (:func:`chain.anchoring.anchoring_lag`) and the
    node (``eth_blockNumber``); per event, blocks and seconds from its commit to its confirmed anchor; after
    the load, blocks and seconds until nothing is left to anchor;
(d) consumer lookups: ``GET /01/{gtin}/10/{lot}/21/{serial}`` with ``Accept: application/json``.

The load generator shares the 2 cores with the server, so each phase also prints where the CPU went (API
process, worker, chain node, PostgreSQL, this client, everything else on the machine). The default client
writes HTTP/1.1 by hand on asyncio streams because it costs a fraction of httpx's CPU per request; ``--client
httpx`` runs the same load through ``httpx.AsyncClient``. Prints figures; asserts nothing. DESIGN.md §10
targets: ≥2,000 scans/s with anchoring lag ≤2 blocks; lookups ≥1,500 req/s with p99 ≤25 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chain.anchoring import anchoring_lag
from chain.anvil import free_port
from ledger.identifiers import make_uscc
from ledger.models import Anchor, ChainJob, ChainJobStatus, OutboxEntry

SECRET = "bench-api-secret-key-which-is-long-enough-0123456789"
COLD = {"customs_declaration_no": "310120261000777777", "origin_country": "NZ", "quarantine_cert_no": "NZ-Q-1",
        "nucleic_acid_test_no": "NAT-1", "nucleic_acid_result": "negative", "disinfection_cert_no": "DIS-1",
        "production_date": "2026-01-01", "expiry_date": "2036-01-01"}  # fmt: skip
STOCK = 1_000_000
"""Units per batch: the importer keeps half, the wholesaler the rest minus what it hands each retailer."""
PER_RETAILER = 50_000
Request = tuple[str, str, dict[str, str], bytes | None]
"""method, path, headers, body: built before the clock starts so the client does no JSON work while timed."""


# ---- where the CPU goes -------------------------------------------------------------------------------------


TICK = os.sysconf("SC_CLK_TCK")


def cpu_by_process(groups: dict[str, int]) -> dict[int, tuple[str, float]]:
    """CPU seconds so far of each process in a named process group, or of PostgreSQL (any client's), by pid."""
    by_pgid = {pgid: name for name, pgid in groups.items()}
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        comm, rest = raw[raw.index("(") + 1 : raw.rindex(")")], raw[raw.rindex(")") + 2 :].split()
        name = by_pgid.get(int(rest[2])) or ("postgres" if comm.startswith("postgres") else None)
        if name is not None:
            out[int(entry.name)] = (name, (int(rest[11]) + int(rest[12])) / TICK)
    return out


def machine_busy() -> float:
    """CPU seconds the whole machine spent busy so far (all cores)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / TICK  # minus idle and iowait


@dataclass
class CpuMeter:
    groups: dict[str, int]
    start: dict[int, float] = field(default_factory=dict)
    used: dict[str, float] = field(default_factory=dict)

    def __enter__(self) -> CpuMeter:
        self.start = {pid: used for pid, (_, used) in cpu_by_process(self.groups).items()}
        self.start |= {-1: time.process_time(), -2: machine_busy()}
        return self

    def __exit__(self, *_: object) -> None:
        # Per process, so one that exits meanwhile (another client's PostgreSQL backend) drops out instead of
        # making the sum go backwards.
        self.used = dict.fromkeys([*self.groups, "postgres"], 0.0)
        for pid, (name, used) in cpu_by_process(self.groups).items():
            self.used[name] += used - self.start.get(pid, 0.0)
        self.used["bench"] = time.process_time() - self.start[-1]
        self.used["other"] = machine_busy() - self.start[-2] - sum(self.used.values())

    def share(self, seconds: float) -> str:
        """Cores used by each part over the phase (2.0 = both cores busy)."""
        return " ".join(f"{k}={v / seconds:.2f}" for k, v in self.used.items())


# ---- the stack ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def scratch_postgres(url: str) -> Iterator[str]:
    server = make_url(url)
    if server.host not in ("127.0.0.1", "localhost"):
        raise SystemExit("the benchmark only talks to 127.0.0.1")
    name = f"lotline_bench_{uuid.uuid4().hex[:8]}"
    admin = f"host=127.0.0.1 port={server.port or 5432} user={server.username or 'postgres'} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Stack:
    url: str
    rpc_url: str
    database_url: str
    token: str
    groups: dict[str, int]


@contextlib.contextmanager
def running_stack(data_dir: Path, database_url: str, broker_url: str | None) -> Iterator[Stack]:
    port, chain_port = free_port(), free_port()
    env = {
        **os.environ,
        "LOTLINE_DATA_DIR": str(data_dir),
        "LOTLINE_DATABASE_URL": database_url,
        "LOTLINE_ENVIRONMENT": "test",
        "LOTLINE_SECRET_KEY": SECRET,
        "LOTLINE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "LOTLINE_EMBEDDED_CHAIN_PORT": str(chain_port),
        "LOTLINE_QUEUE": f"lotline-bench-{uuid.uuid4().hex[:8]}",
    }
    if broker_url:
        env["LOTLINE_BROKER_URL"] = broker_url
    log_path = data_dir / "up.log"
    with log_path.open("wb") as log:
        # Its own session, so the API process is one process group whose CPU is counted apart.
        up = subprocess.Popen([sys.executable, "-m", "trace_api", "up", "--port", str(port)], env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        token = _wait_for_token(log_path, up)
        groups = {"api": up.pid} | {n: int((data_dir / f"{n}.pid").read_text()) for n in ("worker", "chain-node")}
        yield Stack(f"http://127.0.0.1:{port}", f"http://127.0.0.1:{chain_port}", database_url, token, groups)
    except BaseException:
        for name in ("up.log", "worker.log"):
            tail = (data_dir / name).read_text(errors="replace").splitlines()[-20:]
            print(f"---- last lines of {name}:", *tail, sep="\n", file=sys.stderr)
        raise
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=30)
        except subprocess.TimeoutExpired:
            up.kill()
        for name in ("worker", "chain-node"):
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                os.killpg(int((data_dir / f"{name}.pid").read_text()), signal.SIGKILL)


def _wait_for_token(log: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"lotline up exited:\n{log.read_text(errors='replace')}")
        for line in log.read_text(errors="replace").splitlines():
            if line.strip().startswith("token"):
                return line.split()[1]
        time.sleep(0.3)
    raise SystemExit(f"lotline up did not come up:\n{log.read_text(errors='replace')}")


# ---- seeding ------------------------------------------------------------------------------------------------


@dataclass
class Seed:
    gtin: str
    lots: list[str]
    retailers: list[tuple[str, str]]
    """(token, USCC) of each retailer."""
    wholesaler: str
    lookup_paths: list[str]


def seed(stack: Stack, batches: int, retailers: int, codes: int) -> Seed:
    http = httpx.Client(base_url=stack.url, timeout=300)

    def post(path: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
        reply = http.post(path, json=body, headers=headers)
        if reply.status_code not in (200, 201):
            raise SystemExit(f"seeding failed: POST {path} → {reply.status_code} {reply.text}")
        answer: dict[str, Any] = reply.json()
        return answer

    def org(n: int, role: str) -> tuple[str, str]:
        body = {"name": f"bench {role} {n}", "uscc": make_uscc(f"91330100MA9{n:06d}"), "roles": [role]}
        created = post("/api/v1/orgs", stack.token, body)
        return created["token"], created["org"]["uscc"]

    def move(sender: str, receiver: tuple[str, str], lines: list[dict[str, Any]], codes: Sequence[str] = ()) -> None:
        body = {"action": "ship", "to_org": receiver[1], "lines": lines, "codes": list(codes)}
        shipment = post("/api/v1/scans", sender, body)["results"][0]["shipment_id"]
        post("/api/v1/scans", receiver[0], {"action": "receive", "shipment_id": shipment})

    importer, wholesaler = org(1, "producer"), org(2, "distributor")
    shops = [org(10 + n, "retailer") for n in range(retailers)]
    product = post(
        "/api/v1/products", importer[0], {"name": "冷冻羊排", "category": "cold_chain", "storage_max_c": -18}
    )
    gtin, lots = product["gtin"], [f"NZ26-{n:04d}" for n in range(batches)]
    for lot in lots:
        post("/api/v1/batches", importer[0], {"gtin": gtin, "lot": lot, "quantity": STOCK, **COLD})
    move(importer[0], wholesaler, [{"gtin": gtin, "lot": lot, "quantity": STOCK // 2} for lot in lots])
    for shop in shops:
        move(wholesaler[0], shop, [{"gtin": gtin, "lot": lot, "quantity": PER_RETAILER} for lot in lots])

    # The looked-up codes travel importer → wholesaler → first retailer, so each journey has five steps.
    lookup = post("/api/v1/batches", importer[0], {"gtin": gtin, "lot": "NZ26-LOOKUP", "quantity": codes, **COLD})
    post(f"/api/v1/batches/{lookup['id']}/codes", importer[0], {"count": codes})
    links: list[str] = []
    while len(links) < codes:
        page = http.get(f"/api/v1/batches/{lookup['id']}/codes", params={"offset": len(links), "limit": 1000},
                        headers={"Authorization": f"Bearer {importer[0]}"}).json()  # fmt: skip
        links += [c["digital_link"] for c in page]
    for chunk in range(0, codes, 5_000):
        move(importer[0], wholesaler, [], links[chunk : chunk + 5_000])
        move(wholesaler[0], shops[0], [], links[chunk : chunk + 5_000])
    http.close()
    return Seed(gtin, lots, shops, wholesaler[0], [link.removeprefix(stack.url) for link in links])


def scan_requests(seed: Seed, count: int, per_request: int, rng: random.Random, sort: bool = True) -> list[Request]:
    """``count`` POST /scans: even ones a retailer's sells, odd ones the wholesaler's ships to a retailer.

    The scans of a list are in lot order unless ``sort`` is false: lists whose scans lock batches in different
    orders deadlock each other on PostgreSQL (``--unsorted-lists`` shows it)."""
    out: list[Request] = []
    for i in range(count):
        token, uscc = seed.retailers[(i // 2) % len(seed.retailers)]
        shipping = i % 2 == 1
        lots = [rng.choice(seed.lots) for _ in range(per_request)]
        scans = [
            {"action": "ship", "to_org": uscc, "lines": [line]} if shipping else {"action": "sell", "lines": [line]}
            for line in ({"gtin": seed.gtin, "lot": lot, "quantity": 1} for lot in (sorted(lots) if sort else lots))
        ]
        body = {"scans": scans} if per_request > 1 else scans[0]
        headers = {"Authorization": f"Bearer {seed.wholesaler if shipping else token}",
                   "Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/json"}  # fmt: skip
        out.append(("POST", "/api/v1/scans", headers, json.dumps(body).encode()))
    return out


# ---- the load generator -------------------------------------------------------------------------------------


class RawConnection:
    """One keep-alive HTTP/1.1 connection; understands the Content-Length answers uvicorn sends for JSON."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Accept: application/json"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b""))
        head = await reader.readuntil(b"\r\n\r\n")
        status, length = int(head[9:12]), 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
            elif name.lower() == b"transfer-encoding":
                raise RuntimeError("chunked answers are not expected from these endpoints")
        return status, await reader.readexactly(length)

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float]
    failures: dict[int, int]
    sample_error: str = ""

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


async def _load(base: str, requests: Sequence[Request], concurrency: int, client: str) -> LoadResult:
    parsed = httpx.URL(base)
    queue = iter(requests)
    result = LoadResult(len(requests), 0.0, [], {})
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=120) as pool:

        async def via_httpx(method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, bytes]:
            reply = await pool.request(method, path, headers={"Accept": "application/json", **headers}, content=body)
            return reply.status_code, reply.content

        async def worker() -> None:
            raw = RawConnection(parsed.host, parsed.port or 80)
            send = raw.request if client == "raw" else via_httpx
            for method, path, headers, body in queue:
                started = time.perf_counter()
                try:
                    status, answer = await send(method, path, headers, body)
                except (ConnectionError, asyncio.IncompleteReadError) as error:
                    # Counted as a failure (status 0) and the connection opened anew, so one drop is a figure.
                    status, answer = 0, repr(error).encode()
                    raw.close()
                    raw.streams = None
                result.latencies.append(time.perf_counter() - started)
                if status >= 300:
                    result.failures[status] = result.failures.get(status, 0) + 1
                    result.sample_error = result.sample_error or answer[:300].decode(errors="replace")
            raw.close()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    return result


def run_load(base: str, requests: Sequence[Request], concurrency: int, client: str) -> LoadResult:
    return asyncio.run(_load(base, requests, concurrency, client))


# ---- anchoring lag ------------------------------------------------------------------------------------------


def block_number(rpc_url: str) -> int:
    call = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []}).encode()
    request = urllib.request.Request(rpc_url, call, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return int(json.loads(reply.read())["result"], 16)


class LagSampler(threading.Thread):
    """Samples (wall time, events not yet anchored, chain head) every ``interval`` seconds until stopped.

    Its own plain engine: ``ledger.db.make_engine`` begins every SQLite transaction IMMEDIATE, and a sampler
    holding the write lock would slow down the very writes it watches."""

    def __init__(self, stack: Stack, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.engine = create_engine(stack.database_url)
        self.rpc_url, self.interval = stack.rpc_url, interval
        self.samples: list[tuple[float, int, int]] = []
        self.halt = threading.Event()

    def sample(self) -> tuple[float, int, int]:
        with Session(self.engine) as session:
            lag = anchoring_lag(session)
        point = (time.time(), lag, block_number(self.rpc_url))
        self.samples.append(point)
        return point

    def run(self) -> None:
        while not self.halt.wait(self.interval):
            self.sample()

    def drain(self, timeout: float) -> tuple[float, int, int]:
        """Blocks sealed, and seconds, from now until nothing is left to anchor (lag 0)."""
        start = self.sample()
        while (now := self.sample())[1] > 0 and now[0] - start[0] < timeout:
            time.sleep(self.interval)
        return now[0] - start[0], now[2] - start[2], now[1]

    def chain_jobs_done(self, timeout: float) -> None:
        """Wait for the seed's other chain work (batch registrations, role grants): each is a block of its own,
        which would otherwise be counted as anchoring lag."""
        deadline = time.monotonic() + timeout
        pending = select(func.count()).select_from(ChainJob).where(ChainJob.status == ChainJobStatus.PENDING)
        while time.monotonic() < deadline:
            with Session(self.engine) as session:
                if not session.scalar(pending):
                    return
            time.sleep(self.interval)

    def per_event(self, since: float) -> tuple[list[int], list[float]]:
        """For events committed since ``since``: blocks between the head at commit and their anchor's block, and
        seconds from commit to the anchor's confirmation. The head at commit is the last sample before it, so
        the block figure errs high by at most one sampling interval."""
        times, heads = [s[0] for s in self.samples], [s[2] for s in self.samples]
        query = (
            select(OutboxEntry.created_at, Anchor.block_number, Anchor.confirmed_at)
            .join(Anchor, Anchor.id == OutboxEntry.anchor_id)
            .where(OutboxEntry.created_at >= datetime.fromtimestamp(since, UTC))
        )
        blocks, seconds = [], []
        with Session(self.engine) as session:
            for created, block, confirmed in session.execute(query):
                if block is None or confirmed is None:
                    continue  # not confirmed yet: the drain gave up, and says so
                head = heads[max(0, bisect_right(times, created.timestamp()) - 1)]
                blocks.append(block - head)
                seconds.append((confirmed - created).total_seconds())
        return blocks, seconds


# ---- the run ------------------------------------------------------------------------------------------------


def quantiles(values: Sequence[float]) -> str:
    if not values:
        return "-"
    ordered = sorted(values)
    at = [ordered[min(len(ordered) - 1, int(q * len(ordered)))] for q in (0.5, 0.95)]
    return f"p50 {at[0]:.1f}  p95 {at[1]:.1f}  max {ordered[-1]:.1f}"


@dataclass
class Phase:
    name: str
    result: LoadResult
    scans: int
    """Scans recorded: those of the requests that succeeded."""
    cores: str
    api_cpu: float
    """CPU seconds of the API process over the phase: per request, the cost no other load on the machine skews."""


def measure(
    name: str,
    stack: Stack,
    warm: list[Request],
    requests: list[Request],
    scans_per_request: int,
    args: argparse.Namespace,
) -> Phase:
    """Warm up, then run the load while counting CPU per process and, with --profile, sampling the API."""
    run_load(stack.url, warm, args.concurrency, args.client)
    with CpuMeter(stack.groups) as cpu, profiled(args.profile, name, stack.groups["api"]):
        result = run_load(stack.url, requests, args.concurrency, args.client)
    scans_done = scans_per_request * (result.requests - sum(result.failures.values()))
    return Phase(name, result, scans_done, cpu.share(result.seconds), cpu.used["api"])


@contextlib.contextmanager
def profiled(out_dir: Path | None, name: str, pid: int) -> Iterator[None]:
    """py-spy (``uv pip install py-spy``) samples the API process while it holds the GIL, i.e. where its Python
    CPU goes (waits on locks and the pool are left out); collapsed stacks, one file per phase."""
    if out_dir is None:
        yield
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{name.replace(' ', '-')}.txt"
    spy = subprocess.Popen(
        [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid), "--format", "raw", "--gil",
         "--output", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )  # fmt: skip
    try:
        yield
    finally:
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)
        print(f"  profile of the API during {name}: {out}", flush=True)


def server_errors(log: Path) -> Counter[str]:
    """The exceptions behind 5xx answers: the last line of each traceback uvicorn logged."""
    lines = log.read_text(errors="replace").splitlines()
    ends = [b for a, b in itertools.pairwise(lines) if a.startswith(" ") and b and not b.startswith((" ", "Traceback"))]
    return Counter(line[:160] for line in ends)


def print_table(rows: Sequence[Phase]) -> None:
    heads = ("phase", "requests", "scans", "s", "req/s", "scans/s", "p50 ms", "p95 ms", "p99 ms", "API CPU ms")
    widths = (17, 9, 8, 7, 8, 9, 8, 8, 8, 11)
    print("".join(f"{h:<{w}}" if i == 0 else f"{h:>{w}}" for i, (h, w) in enumerate(zip(heads, widths, strict=True))))
    for row in rows:
        r, units = row.result, row.scans or row.result.requests
        cells = [row.name, f"{r.requests:,}", f"{row.scans:,}" if row.scans else "-", f"{r.seconds:.1f}"]
        cells += [f"{r.requests / r.seconds:,.0f}", f"{row.scans / r.seconds:,.0f}" if row.scans else "-"]
        cells += [f"{r.pct(p):.1f}" for p in (50, 95, 99)] + [f"{row.api_cpu / units * 1000:.2f}"]
        line = "".join(
            f"{c:<{w}}" if i == 0 else f"{c:>{w}}" for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        print(f"{line}  {'failures ' + str(r.failures) if r.failures else ''}")
        if r.sample_error:
            print(f"{'':<17}first failure: {r.sample_error}")
    print("API CPU ms: CPU time of the API process per scan (per request for lookups), whatever else runs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scans", type=int, default=2_000, help="single-scan requests")
    parser.add_argument("--list-requests", type=int, default=20, help="requests carrying --list-size scans each")
    parser.add_argument("--list-size", type=int, default=100)
    parser.add_argument("--lookups", type=int, default=5_000, help="consumer lookup requests")
    parser.add_argument("--codes", type=int, default=2_000, help="item codes issued for the lookups")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight (keep-alive connections)")
    parser.add_argument("--batches", type=int, default=64, help="batches the scans spread over")
    parser.add_argument("--retailers", type=int, default=4)
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw")
    parser.add_argument("--database-url", help="a PostgreSQL server (scratch database); default SQLite")
    parser.add_argument("--broker-url", help="e.g. redis://127.0.0.1:6379/0; default the embedded broker")
    parser.add_argument("--unsorted-lists", action="store_true", help="scans of a list in random batch order")
    parser.add_argument("--profile", type=Path, help="directory for py-spy profiles of the API, one per phase")
    args = parser.parse_args()
    command = shlex.join([".venv/bin/python", "bench/bench_api.py", *sys.argv[1:]])
    load = os.getloadavg()

    with contextlib.ExitStack() as stack_of:
        data_dir = Path(stack_of.enter_context(tempfile.TemporaryDirectory(prefix="lotline-bench-api-")))
        url = f"sqlite:///{data_dir / 'ledger.sqlite'}"
        if args.database_url:
            url = stack_of.enter_context(scratch_postgres(args.database_url))
        started = time.monotonic()
        stack = stack_of.enter_context(running_stack(data_dir, url, args.broker_url))
        print(f"stack up in {time.monotonic() - started:.1f}s; seeding …", flush=True)
        started = time.monotonic()
        world = seed(stack, args.batches, args.retailers, args.codes)
        sampler = LagSampler(stack)
        sampler.chain_jobs_done(timeout=300)
        seed_drain = sampler.drain(timeout=180)
        print(f"seeded and anchored in {time.monotonic() - started:.1f}s", flush=True)

        rng, rows = random.Random(7), []
        plan = [("single scans", args.scans, 1), ("scan lists", args.list_requests, args.list_size)]
        load_start = time.time()
        sampler.start()
        for name, count, per_request in plan:
            # Warm-up: every connection opened and every code path run once before the clock starts.
            warm = scan_requests(world, max(2, args.concurrency // per_request), per_request, rng)
            requests = scan_requests(world, count, per_request, rng, sort=not args.unsorted_lists)
            rows.append(measure(name, stack, warm, requests, per_request, args))
            print(f"{name}: {rows[-1].scans / rows[-1].result.seconds:,.0f} scans/s", flush=True)
        sampler.halt.set()
        sampler.join()
        peak_lag = max((s[1] for s in sampler.samples), default=0)
        drain_seconds, drain_blocks, left = sampler.drain(timeout=300)
        blocks, lag_seconds = sampler.per_event(load_start)

        paths = world.lookup_paths
        lookups: list[Request] = [("GET", paths[i % len(paths)], {}, None) for i in range(args.lookups)]
        rows.append(measure("consumer lookups", stack, lookups[: args.concurrency * 4], lookups, 0, args))
        crashes = server_errors(data_dir / "up.log")

    print(
        f"\nlotline HTTP API on {'PostgreSQL' if args.database_url else 'SQLite'}, broker "
        f"{args.broker_url or 'embedded'}, client {args.client}, {args.concurrency} in flight, "
        f"{os.cpu_count()} cores, load average at start {load[0]:.1f}"
    )
    print_table(rows)
    for error, count in crashes.most_common(5):
        print(f"  API log: {count} × {error}")
    print("\ncores used per phase (2.0 = the whole machine):")
    for row in rows:
        print(f"  {row.name:<17}{row.cores}")
    print("\nanchoring lag (scan phases):")
    print(f"  events not yet anchored, peak sampled during load: {peak_lag:,}")
    print(f"  per event, blocks from commit to its anchor:  {quantiles(blocks)}  ({len(blocks):,} events)")
    print(f"  per event, seconds from commit to confirmed:  {quantiles(lag_seconds)}")
    end = "nothing was left to anchor" if left == 0 else f"{left:,} events were still waiting (gave up)"
    print(f"  after the load stopped: {drain_blocks} blocks and {drain_seconds:.1f}s until {end}")
    print(f"  (seeding's events were anchored first: {seed_drain[1]} blocks, {seed_drain[0]:.1f}s)")
    print(f"\ncommand: {command}")


if __name__ == "__main__":
    main()
