"""The network operator's chain account: it deploys the anchor contract and sends the anchoring transactions.

Its key is sealed with the same vault as organisation keys (``LOTLINE_SECRET_KEY``) and kept in the data
directory's ``keys/`` folder, so copying the data directory without the secret does not hand out the key.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx

from ledger.errors import LotlineError
from ledger.keys import KeyVault, generate_private_key

OPERATOR_FILE = "operator.key"
OPERATOR_REF = "lotline-operator"


def operator_key(keys_dir: Path, vault: KeyVault) -> bytes:
    """The operator's private key, created and sealed on first use."""
    path = keys_dir / OPERATOR_FILE
    if path.exists():
        return vault.decrypt(bytes.fromhex(path.read_text().strip()), org_ref=OPERATOR_REF)
    keys_dir.mkdir(parents=True, exist_ok=True)
    key = generate_private_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(vault.encrypt(key, org_ref=OPERATOR_REF).hex() + "\n")
    return key


def wait_for_rpc(url: str, *, timeout: float = 90.0) -> int:
    """Block until a JSON-RPC node answers ``eth_chainId``; returns the chain id."""
    deadline = time.monotonic() + timeout
    last_error = "no answer"
    while time.monotonic() < deadline:
        try:
            reply = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=2)
            return int(reply.json()["result"], 16)
        except (httpx.HTTPError, KeyError, ValueError) as error:
            last_error = str(error) or type(error).__name__
            time.sleep(0.2)
    raise LotlineError(f"chain node at {url} did not answer within {timeout:.0f} s: {last_error}", url=url)
