"""The regulator token ``lotline up`` issues at each start, kept for the commands that act through the API
(``lotline recall …``, ``lotline status``).

It is stored in ``<data_dir>/keys/regulator.token``, readable by its owner only (mode 0600), beside the sealed
operator key and the chain node's authority key: whoever can read the data directory runs this network anyway.
A new ``up`` replaces it, so a token is never older than the network it opens.
"""

from __future__ import annotations

import os
from pathlib import Path

from ledger.settings import Settings
from trace_api.cli.failures import NotRunning

TOKEN_FILE = "regulator.token"  # noqa: S105 - a file name, not a secret


def token_path(data_dir: Path) -> Path:
    return data_dir / "keys" / TOKEN_FILE


def store_regulator_token(settings: Settings, token: str) -> None:
    path = token_path(settings.data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    os.replace(temporary, path)


def regulator_token(data_dir: Path) -> str:
    try:
        return token_path(data_dir).read_text().strip()
    except FileNotFoundError:
        raise NotRunning(f"no regulator token in {data_dir}/keys: start the network with `lotline up`") from None
