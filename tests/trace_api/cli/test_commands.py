"""Each ``lotline`` command against a network ``lotline up`` started on non-default ports (API and chain): the
commands find it through the runtime record in the data directory, with nothing else told to them. Refusals are
one line on stderr with the documented exit code (docs/cli.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, delete

from ledger.identifiers import make_uscc
from ledger.models import Base
from tests.trace_api.cli.network import Up, base_env, one_line_failure, start_up

EPCIS = Path(__file__).parents[2] / "data" / "epcis" / "SensorDataExample1.jsonld"
SHEET = Path(__file__).parents[2] / "data" / "imports" / "cold_chain_customs_export_gbk.csv"
SHEET_GTIN = "06970002000015"


@pytest.fixture(scope="module")
def up(database_url: str, engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Up]:
    data_dir = tmp_path_factory.mktemp("network")
    running = start_up(data_dir, base_env(data_dir, database_url))
    try:
        yield running
    finally:
        running.stop()
        with engine.begin() as conn:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(delete(table))


@pytest.fixture(scope="module")
def demo(up: Up) -> dict[str, Any]:
    seeded = up.lotline("demo", "--json")
    assert seeded.returncode == 0, seeded.stderr
    answer: dict[str, Any] = json.loads(seeded.stdout)
    return answer


def as_json(result: Any) -> Any:
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def test_the_runtime_record_says_where_each_part_listens(up: Up) -> None:
    record = up.record
    assert (record["api_port"], record["chain_port"]) == (up.port, up.chain_port)
    assert record["chain_rpc_url"] == f"http://127.0.0.1:{up.chain_port}"
    assert record["status"] == "up"
    assert record["up_pid"] == up.process.pid
    assert set(record["pids"]) == {"chain-node", "worker"}
    assert record["contract_address"].startswith("0x")
    assert "***" in record["database_url"] or ":" not in record["database_url"].partition("://")[2].partition("@")[0]
    for name, pid in record["pids"].items():
        assert (up.data_dir / f"{name}.pid").read_text().strip() == str(pid)


def test_status_names_every_part_alive_with_its_port(up: Up) -> None:
    report = as_json(up.lotline("status", "--json"))
    assert report["running"] is True
    parts = {p["name"]: p for p in report["parts"]}
    assert all(p["alive"] for p in parts.values()), parts
    assert parts["api"]["port"] == up.port
    assert parts["chain-node"]["port"] == up.chain_port
    assert report["chain"]["head_block"] >= 0
    text = up.lotline("status")
    assert text.returncode == 0
    assert f"http://127.0.0.1:{up.port}" in text.stdout


def test_a_second_up_on_the_same_data_dir_refuses_naming_the_pid_holding_it(up: Up) -> None:
    second = up.lotline("up", "--port", "1", "--chain-port", "2")
    assert second.returncode == 4
    assert f"pid {up.process.pid}" in one_line_failure(second)
    assert up.record["up_pid"] == up.process.pid  # the record is the first one's still


def test_demo_seeds_the_running_network_and_links_to_its_port(up: Up, demo: dict[str, Any]) -> None:
    assert demo["seeded"] is True
    links = demo["links"]
    assert set(links) == {"beef_item", "beef_batch", "vaccine_dose"}
    for link in links.values():
        assert link.startswith(f"http://127.0.0.1:{up.port}/01/")
        assert httpx.get(link, headers={"Accept": "application/json"}, timeout=30).status_code == 200
    again = as_json(up.lotline("demo", "--json"))
    assert again == {"seeded": False, "tokens": {}, "links": {}}


def test_verify_audits_the_ledger_against_the_chain_up_started(up: Up, demo: dict[str, Any]) -> None:
    report = up.lotline("verify", "--json")
    assert report.returncode == 0, report.stdout + report.stderr
    assert json.loads(report.stdout)["counts"]["events"] > 0
    assert up.lotline("verify").stdout.strip().endswith("ledger and chain agree")


def test_the_recall_group_opens_lists_shows_acknowledges_and_closes_through_the_api(
    up: Up, demo: dict[str, Any]
) -> None:
    gtin = demo["links"]["beef_batch"].split("/01/")[1].split("/")[0]
    opened = as_json(
        up.lotline("recall", "open", "--batch", f"{gtin}:AR2026-1127", "--class", "1", "--reason", "阳性", "--json")
    )
    assert (opened["status"], opened["recall_class"]) == ("open", 1)
    recall_id = str(opened["id"])
    listed = as_json(up.lotline("recall", "list", "--json"))
    assert [r["number"] for r in listed] == [opened["number"]]
    assert opened["number"] in up.lotline("recall", "list").stdout
    shown = as_json(up.lotline("recall", "show", recall_id, "--json"))
    holders = {h["org_name"]: h for h in shown["holders"]}
    assert holders["知味观湖滨店"]["quantity_at_open"] == 10

    restaurant = demo["tokens"]["restaurant"]
    report = up.lotline(
        "recall", "acknowledge", recall_id, "--holding", f"{gtin}:AR2026-1127:10:0:0", "--token", restaurant, "--json"
    )
    acknowledged = as_json(report)
    [mine] = acknowledged["holders"]
    assert (mine["org_name"], mine["quarantined"], mine["settled"]) == ("知味观湖滨店", 10, True)
    too_many = up.lotline(
        "recall", "acknowledge", recall_id, "--holding", f"{gtin}:AR2026-1127:11:0:0", "--token", restaurant
    )
    assert too_many.returncode == 2
    assert "QuantityExceeded" in one_line_failure(too_many)

    closed = as_json(up.lotline("recall", "close", recall_id, "--reason", "现场核实完毕", "--json"))
    assert closed["status"] == "closed"
    twice = up.lotline("recall", "close", recall_id, "--reason", "again")
    assert twice.returncode == 2
    assert "InvalidTransition" in one_line_failure(twice)
    unknown = up.lotline("recall", "show", "987654")
    assert (unknown.returncode, "404" in one_line_failure(unknown)) == (2, True)


def test_recall_trace_reads_the_batch_through_the_api(up: Up, demo: dict[str, Any]) -> None:
    gtin = demo["links"]["beef_batch"].split("/01/")[1].split("/")[0]
    back = as_json(
        up.lotline("recall", "trace", "--gtin", gtin, "--lot", "AR2026-1127", "--direction", "back", "--json")
    )
    assert back["direction"] == "back"
    assert {h["org"]["name"] for h in back["holders"]} >= {"浙江海港冷链进口有限公司", "知味观湖滨店"}
    text = up.lotline("recall", "trace", "--gtin", gtin, "--lot", "AR2026-1127")
    assert text.stdout.startswith("forward trace: ")


def test_org_create_and_imports_print_json_summaries(up: Up) -> None:
    uscc = make_uscc("91330100MA2C00031")
    org = as_json(
        up.lotline("org", "create", "--name", "宁波报关进口公司", "--uscc", uscc, "--role", "producer", "--json")
    )
    assert (org["uscc"], org["roles"]) == (uscc, ["producer"])
    product = {"gtin": SHEET_GTIN, "name": "冷冻牛肉", "category": "cold_chain"}
    headers = {"Authorization": f"Bearer {org['token']}", "Idempotency-Key": "cli-test-product-1"}
    assert httpx.post(f"{up.url}/api/v1/products", json=product, headers=headers, timeout=30).status_code == 201

    imported = as_json(up.lotline("import", "batches", str(SHEET), "--org", uscc, "--json"))
    assert imported["flow"] == "cold_chain"
    assert [r["lot"] for r in imported["created"]][:2] == ["BR2026A01", "AR2026B07"]
    captured = as_json(up.lotline("import", "epcis", str(EPCIS), "--org", uscc, "--json"))
    assert len(captured) >= 1
    assert {c["outcome"] for c in captured} == {"recorded"}  # sensor observations: hashed, signed, nothing moved

    duplicate = up.lotline("org", "create", "--name", "again", "--uscc", uscc, "--role", "producer")
    assert duplicate.returncode == 2
    assert one_line_failure(duplicate).startswith("lotline: refused: ")
    missing = up.lotline("import", "epcis", str(EPCIS) + ".missing", "--org", uscc)
    assert missing.returncode == 2
    assert "no such file" in one_line_failure(missing)
