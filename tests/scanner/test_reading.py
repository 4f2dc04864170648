"""Scanned inputs read by the Python scanner, checked against the table the browser station is tested on too."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ledger.errors import InvalidDigitalLink
from scanner.reading import read_scan, verdict
from scanner.verify import OfflineVerifier

TABLE = json.loads((Path(__file__).parents[1] / "data/station/code-vectors.json").read_text("utf-8"))
VECTORS: list[dict[str, Any]] = TABLE["vectors"]
VERIFIER = OfflineVerifier.from_json(json.dumps(TABLE["key_set"]))


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_a_scan_reads_as_the_shared_table_says(vector: dict[str, Any]) -> None:
    if vector["reads"] is None:
        with pytest.raises(InvalidDigitalLink):
            read_scan(vector["input"])
        return
    reading = read_scan(vector["input"])
    link = reading.link
    got = {
        "kind": str(link.kind),
        "gtin": link.gtin,
        "lot": link.lot,
        "serial": link.serial,
        "sscc": link.sscc,
        "path": link.path,
        "signature": reading.signature,
    }
    assert got == vector["reads"]


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_a_scan_gets_the_offline_verdict_the_shared_table_says(vector: dict[str, Any]) -> None:
    assert verdict(VERIFIER, vector["input"]).reason == vector["verdict"]


def test_the_table_covers_every_verdict_and_both_signed_and_unsigned_forms() -> None:
    verdicts = {v["verdict"] for v in VECTORS}
    assert verdicts == {
        "genuine",
        "unknown_issuer",
        "revoked_issuer",
        "malformed_signature",
        "missing_signature",
        "not_a_code",
    }
    assert any("\x1d" in v["input"] for v in VECTORS), "GS-separated element strings are in the table"
    assert {v["input"][:3] for v in VECTORS} >= {"]d2", "]Q3", "]C1"}


def test_the_scanner_line_ending_is_not_part_of_the_code() -> None:
    reading = read_scan("(01)09506000134352(10)L2026A\r\n")
    assert reading.text == "(01)09506000134352(10)L2026A"
