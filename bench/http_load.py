"""The HTTP load generator of ``bench_api.py``: requests built before the clock starts, ``concurrency`` in flight.

The default client writes HTTP/1.1 by hand on asyncio streams because it costs a fraction of httpx's CPU per
request, and the load generator shares the machine with the server it measures; ``client="httpx"`` runs the
same load through ``httpx.AsyncClient``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

Request = tuple[str, str, dict[str, str], bytes | None]
"""method, path, headers, body: built before the clock starts so the client does no JSON work while timed."""


class RawConnection:
    """One keep-alive HTTP/1.1 connection; understands the Content-Length answers uvicorn sends for JSON."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(self, method: str, path: str, headers: dict[str, str], body: bytes | None) -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in {"Accept": "application/json", **headers}.items()]
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
