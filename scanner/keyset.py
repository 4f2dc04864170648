"""The issuers' key set, fetched from the network's server and kept for the days without signal.

``GET /api/v1/issuers`` answers with an ETag; the copy on disk is revalidated with ``If-None-Match`` whenever the
server can be reached (a 304 costs a few bytes) and used as it is when it cannot.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

import httpx

from ledger.errors import InvalidInput
from scanner.verify import OfflineVerifier

KEY_SET_PATH: Final = "/api/v1/issuers"


def load_key_set(client: httpx.Client, cache: Path) -> OfflineVerifier:
    """The newest key set the server gives, else the cached one; no server and no cache is an error."""
    cached = json.loads(cache.read_text("utf-8")) if cache.exists() else None
    headers = {"If-None-Match": cached["etag"]} if cached else {}
    try:
        reply = client.get(KEY_SET_PATH, headers=headers)
    except httpx.TransportError:
        if cached is None:
            raise InvalidInput("the issuers' key set is not cached and the server cannot be reached") from None
        return OfflineVerifier.from_json(cached["document"])
    if reply.status_code == 304 and cached is not None:
        return OfflineVerifier.from_json(cached["document"])
    reply.raise_for_status()
    verifier = OfflineVerifier.from_json(reply.text)  # refuses a damaged set before it replaces the cache
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"etag": reply.headers.get("ETag", ""), "document": reply.text}), "utf-8")
    return verifier
