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
(d) consumer lookups: ``GET /01/{gtin}/10/{lot}/21/{serial}`` with ``Accept: application/json``, each code's
    first lookup, then ``--lookups`` more over the same codes, then as the HTML page;
(e) the bare baseline (``bare_app.py``), served the same way on the same database: single scans and lookups,
    and the ratio of each lotline figure to it.

The load generator shares the 2 cores with the server, so each phase also prints where the CPU went (API
process, worker, chain node, PostgreSQL, this client, everything else on the machine; ``api_stack.py``). The
default client writes HTTP/1.1 by hand on asyncio streams because it costs a fraction of httpx's CPU per request;
``--client httpx`` runs the same load through ``httpx.AsyncClient`` (``http_load.py``). Prints figures; asserts
nothing. Targets (docs/performance.md): ≥2,000 scans/s with anchoring lag ≤2 blocks; lookups ≥1,500 req/s with
p99 ≤25 ms.
"""

from __future__ import annotations

import argparse
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
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from anchoring_lag import LagSampler
from api_stack import CpuMeter, Stack, running_stack, scratch_postgres, uvicorn_server
from bare_app import prepare
from http_load import LoadResult, Request, run_load

from ledger.identifiers import make_uscc

COLD = {"customs_declaration_no": "310120261000777777", "origin_country": "NZ", "quarantine_cert_no": "NZ-Q-1",
        "nucleic_acid_test_no": "NAT-1", "nucleic_acid_result": "negative", "disinfection_cert_no": "DIS-1",
        "production_date": "2026-01-01", "expiry_date": "2036-01-01"}  # fmt: skip
STOCK = 1_000_000
"""Units per batch: the importer keeps half, the wholesaler the rest minus what it hands each retailer."""
PER_RETAILER = 50_000


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
        links += [c["signed_link"] for c in page]
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
    widths = (19, 9, 8, 7, 8, 9, 8, 8, 8, 11)
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
            print(f"{'':<19}first failure: {r.sample_error}")
    print("API CPU ms: CPU time of the API process per scan (per request for lookups), whatever else runs")


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scans", type=int, default=2_000, help="single-scan requests")
    parser.add_argument("--list-requests", type=int, default=20, help="requests carrying --list-size scans each")
    parser.add_argument("--list-size", type=int, default=100)
    parser.add_argument("--lookups", type=int, default=5_000, help="consumer lookup requests")
    parser.add_argument("--codes", type=int, default=2_000, help="item codes issued for the lookups")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight (keep-alive connections)")
    parser.add_argument("--batches", type=int, default=64, help="batches the scans spread over")
    parser.add_argument("--retailers", type=int, default=4)
    parser.add_argument("--api-workers", type=int, default=1, help="API processes (uvicorn --workers N)")
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw")
    parser.add_argument("--database-url", help="a PostgreSQL server (scratch database); default SQLite")
    parser.add_argument("--broker-url", help="e.g. redis://127.0.0.1:6379/0; default the embedded broker")
    parser.add_argument("--unsorted-lists", action="store_true", help="scans of a list in random batch order")
    parser.add_argument("--profile", type=Path, help="directory for py-spy profiles of the API, one per phase")
    return parser.parse_args()


@dataclass
class Outcome:
    rows: list[Phase]
    crashes: Counter[str]
    peak_lag: int
    blocks: list[int]
    lag_seconds: list[float]
    drain: tuple[float, int, int]
    """seconds and blocks until nothing was left to anchor after the load, and events still waiting"""
    seed_drain: tuple[float, int, int]


def run(args: argparse.Namespace) -> Outcome:
    """Start the stack and seed it; then, on ``--api-workers`` API processes (uvicorn, the production command), the
    scan phases with their anchoring lag and the lookups; then the same single scans and lookups on the bare
    baseline served the same way."""
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

        # The measured API: N uvicorn worker processes of the same network; `lotline up`'s own API stays idle.
        api_url, api_group = stack_of.enter_context(
            uvicorn_server(["--factory", "trace_api.app:create_app"], stack.env, args.api_workers, data_dir / "api.log")
        )
        api = replace(stack, url=api_url, groups={**stack.groups, "api": api_group})
        rng, rows = random.Random(7), []
        plan = [("single scans", args.scans, 1), ("scan lists", args.list_requests, args.list_size)]
        load_start = time.time()
        sampler.start()
        for name, count, per_request in plan:
            # Warm-up: every connection opened and every code path run once before the clock starts.
            warm = scan_requests(world, max(2, args.concurrency // per_request), per_request, rng)
            requests = scan_requests(world, count, per_request, rng, sort=not args.unsorted_lists)
            rows.append(measure(name, api, warm, requests, per_request, args))
            print(f"{name}: {rows[-1].scans / rows[-1].result.seconds:,.0f} scans/s", flush=True)
        sampler.halt.set()
        sampler.join()
        peak_lag = max((s[1] for s in sampler.samples), default=0)
        drain = sampler.drain(timeout=300)
        blocks, lag_seconds = sampler.per_event(load_start)

        rows += lookup_phases(api, world.lookup_paths, args, html=True)
        rows += bare_phases(stack, data_dir, world, rng, args)
        crashes = server_errors(data_dir / "up.log") + server_errors(data_dir / "api.log")
    return Outcome(rows, crashes, peak_lag, blocks, lag_seconds, drain, seed_drain)


def lookup_phases(stack: Stack, paths: list[str], args: argparse.Namespace, *, html: bool) -> list[Phase]:
    """Consumer lookups as JSON (an API client), then, with ``html``, as the page a phone's browser gets.

    lotline keeps each code's view until something it shows changes, so its JSON lookups are measured twice:
    each code's first lookup (the view built), then ``--lookups`` more over the same codes (answered again)."""
    json_lookups: list[Request] = [("GET", paths[i % len(paths)], {}, None) for i in range(args.lookups)]
    rows = []
    if html:
        first = [("GET", path, {}, None) for path in paths]
        rows.append(measure("lookups json first", stack, first[-args.concurrency * 4 :], first, 0, args))
    warm = json_lookups[: args.concurrency * 4]
    rows.append(measure(f"{'bare ' if not html else ''}lookups json", stack, warm, json_lookups, 0, args))
    if html:
        pages: list[Request] = [(m, p, {"Accept": "text/html"}, b) for m, p, _, b in json_lookups]
        rows.append(measure("lookups html", stack, pages[: args.concurrency * 4], pages, 0, args))
    return rows


def bare_phases(stack: Stack, data_dir: Path, world: Seed, rng: random.Random, args: argparse.Namespace) -> list[Phase]:
    """The bare baseline (``bare_app.py``) on the same database, served the same way, under the same load."""
    prepare(stack.database_url, world.lookup_paths)
    env = {**stack.env, "BARE_DATABASE_URL": stack.database_url}
    app = ["--app-dir", str(Path(__file__).parent), "--factory", "bare_app:create_app"]
    with uvicorn_server(app, env, args.api_workers, data_dir / "bare.log") as (url, group):
        bare = replace(stack, url=url, groups={**stack.groups, "api": group})
        warm = scan_requests(world, args.concurrency, 1, rng)
        rows = [measure("bare single scans", bare, warm, scan_requests(world, args.scans, 1, rng), 1, args)]
        rows += lookup_phases(bare, world.lookup_paths, args, html=False)
    return rows


def print_ratios(rows: Sequence[Phase]) -> None:
    """lotline beside the bare baseline of the same run: requests per second and the API's CPU per request."""
    by_name = {row.name: row for row in rows}
    pairs = [
        ("single scans", "bare single scans"),
        ("lookups json first", "bare lookups json"),
        ("lookups json", "bare lookups json"),
        ("lookups html", "lookups json"),
    ]
    print("\nside by side (same run, same load generator, same uvicorn):")
    for name, baseline in pairs:
        if name not in by_name or baseline not in by_name:
            continue
        ours, base = by_name[name], by_name[baseline]
        rate = ours.result.requests / ours.result.seconds
        base_rate = base.result.requests / base.result.seconds
        cpu = ours.api_cpu / ours.result.requests * 1000
        base_cpu = base.api_cpu / base.result.requests * 1000
        print(f"  {name} {rate:,.0f} req/s vs {baseline} {base_rate:,.0f} req/s: ratio {rate / base_rate:.2f};"
              f" API CPU {cpu:.2f} vs {base_cpu:.2f} ms per request")  # fmt: skip


def print_outcome(args: argparse.Namespace, outcome: Outcome, load: tuple[float, float, float]) -> None:
    print(
        f"\nlotline HTTP API on {'PostgreSQL' if args.database_url else 'SQLite'}, broker "
        f"{args.broker_url or 'embedded'}, client {args.client}, {args.concurrency} in flight, "
        f"{args.api_workers} API process(es), {os.cpu_count()} cores, load average at start {load[0]:.1f}, "
        f"at the end {os.getloadavg()[0]:.1f}"
    )
    print_table(outcome.rows)
    for error, count in outcome.crashes.most_common(5):
        print(f"  API log: {count} × {error}")
    print("\ncores used per phase (2.0 = the whole machine):")
    for row in outcome.rows:
        print(f"  {row.name:<19}{row.cores}")
    print_ratios(outcome.rows)
    drain_seconds, drain_blocks, left = outcome.drain
    print("\nanchoring lag (scan phases):")
    print(f"  events not yet anchored, peak sampled during load: {outcome.peak_lag:,}")
    print(
        f"  per event, blocks from commit to its anchor:  {quantiles(outcome.blocks)}  ({len(outcome.blocks):,} events)"
    )
    print(f"  per event, seconds from commit to confirmed:  {quantiles(outcome.lag_seconds)}")
    end = "nothing was left to anchor" if left == 0 else f"{left:,} events were still waiting (gave up)"
    print(f"  after the load stopped: {drain_blocks} blocks and {drain_seconds:.1f}s until {end}")
    print(f"  (seeding's events were anchored first: {outcome.seed_drain[1]} blocks, {outcome.seed_drain[0]:.1f}s)")


def main() -> None:
    args = arguments()
    command = shlex.join([".venv/bin/python", "bench/bench_api.py", *sys.argv[1:]])
    load = os.getloadavg()
    print_outcome(args, run(args), load)
    print(f"\ncommand: {command}")


if __name__ == "__main__":
    main()
