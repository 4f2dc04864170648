"""Start and stop local chain nodes as subprocesses, for tests and benchmarks: anvil and the embedded node.

anvil (Foundry) is a second, independent EVM implementation: running the client's suite against it as well as
against the embedded node shows that the client speaks plain JSON-RPC and relies on nothing the embedded node
happens to do. The binary comes from the npm package ``@foundry-rs/anvil``; it is started directly and
stopped by its PID, because killing an ``npx`` wrapper would leave anvil running.

The embedded node runs as ``python -m chain.node`` in its own process, as in production, so that its sealer
and the client under test do not share one interpreter lock.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import httpx

from ledger.errors import InvalidInput, LotlineError

ANVIL_CHAIN_ID: Final = 20260
_REPO_ROOT = Path(__file__).resolve().parent.parent
_NPM_BINARY = _REPO_ROOT / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil"
_START_TIMEOUT = 90.0  # seconds; a loaded 2-core machine is slow to import py-evm


def anvil_binary() -> Path:
    """``$LOTLINE_ANVIL`` if set, else the binary npm installed in the checkout."""
    path = Path(os.environ.get("LOTLINE_ANVIL", _NPM_BINARY))
    if not path.is_file():
        raise InvalidInput(f"anvil not found at {path}: run `npm ci` or set LOTLINE_ANVIL", path=str(path))
    return path


def free_port() -> int:
    """A port nobody listens on right now (the OS picks it; anvil binds it a moment later)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _rpc(url: str, method: str, params: list[object]) -> object:
    response = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=5)
    response.raise_for_status()
    body = response.json()
    if "error" in body:
        raise LotlineError(f"anvil refused {method}: {body['error']}", method=method)
    return body.get("result")


def _wait_until_answering(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LotlineError(f"{what} exited with code {process.returncode} before answering", url=url)
        try:
            _rpc(url, "eth_chainId", [])
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise LotlineError(f"{what} did not answer on {url} within {_START_TIMEOUT:.0f} s", url=url)


def _stop(process: subprocess.Popen[bytes]) -> None:
    # SIGTERM, not SIGKILL: anvil dumps --state and the embedded node finishes its block on the way out.
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_anvil(
    port: int | None = None,
    state_file: Path | None = None,
    *,
    gas_limit: int | None = None,
    balances: Mapping[str, int] | None = None,
    extra_args: Sequence[str] = (),
) -> Iterator[str]:
    """Run anvil on 127.0.0.1 for the duration of the block and yield its JSON-RPC URL.

    ``state_file`` persists the chain across runs (``--state``, dumped every 2 s and at exit). ``balances``
    sets the given accounts' wei balances once the node answers, the way the embedded node's genesis funds
    its allowlisted accounts, so tests can use their own keys instead of anvil's dev accounts.
    """
    port = port or free_port()
    args = [str(anvil_binary()), "--host", "127.0.0.1", "--port", str(port)]
    args += ["--chain-id", str(ANVIL_CHAIN_ID), "--silent"]
    if state_file is not None:
        args += ["--state", str(state_file), "--state-interval", "2"]
    if gas_limit is not None:
        args += ["--gas-limit", str(gas_limit)]
    args += list(extra_args)
    url = f"http://127.0.0.1:{port}"
    # The binary is ours (npm) or the operator's (LOTLINE_ANVIL); the arguments are built above.
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)  # noqa: S603
    try:
        _wait_until_answering(url, process, "anvil")
        for address, wei in (balances or {}).items():
            _rpc(url, "anvil_setBalance", [address, hex(wei)])
        yield url
    finally:
        _stop(process)


@contextmanager
def running_embedded_node(
    data_dir: Path,
    port: int | None = None,
    *,
    block_interval: float = 0.05,
    balances: Mapping[str, int] | None = None,
) -> Iterator[str]:
    """Run the embedded node (``python -m chain.node``) on ``data_dir`` and yield its JSON-RPC URL.

    ``balances`` are allowlisted and funded in the genesis of a new ``data_dir`` (allowlisted only on an
    existing one: its genesis is already fixed).
    """
    port = port or free_port()
    args = [sys.executable, "-m", "chain.node", "--data-dir", str(data_dir), "--host", "127.0.0.1"]
    args += ["--port", str(port), "--block-interval", str(block_interval)]
    for address, wei in (balances or {}).items():
        args += ["--account", f"{address}={wei}"]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(_REPO_ROOT), os.environ.get("PYTHONPATH")])),
    }
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(args, stdin=subprocess.DEVNULL, env=env)  # noqa: S603  # our own interpreter
    try:
        _wait_until_answering(url, process, "the embedded node")
        yield url
    finally:
        _stop(process)
