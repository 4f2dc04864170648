"""The README's walkthrough works as written: its shell block is run verbatim against the stack `lotline up`
starts, with only the two exported values (URL and regulator token) filled in."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.e2e import test_network as network
from tests.e2e.test_network import Stack

stack = network.stack  # `lotline up` in a subprocess on a fresh data directory, once for this module
README = Path(__file__).resolve().parents[2] / "README.md"


def walkthrough(heading: str = "## Walkthrough") -> str:
    section = README.read_text(encoding="utf-8").split(heading, 1)[1]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match is not None, f"{heading} has no sh block"
    return match.group(1)


def run_block(stack: Stack, script: str) -> subprocess.CompletedProcess[str]:
    """A README block as a reader runs it, with the stack's URL and regulator token for the placeholders."""
    assert script.startswith("export LOTLINE=http://127.0.0.1:8000 REG=ll_…")
    script = script.replace("http://127.0.0.1:8000", stack.url, 1).replace("REG=ll_…", f"REG={stack.token}", 1)
    return subprocess.run(
        ["/bin/bash", "-euo", "pipefail", "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=stack.data_dir,
    )


def test_the_readme_walkthrough_runs_as_written(stack: Stack) -> None:
    run = run_block(stack, walkthrough())
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith("ni:///sha-256;"), run.stdout  # the sale's event id
    assert "retail_selling" in lines[1]
    assert "联华超市" in lines[2]  # the forward trace lists the supermarket as a holder
    assert "RecalledGoods" in lines
    assert lines[-5:] == ["closed", "closed", "missing", "AlreadyConsumed", "settled_twice"], run.stdout
    assert (stack.data_dir / "labels.pdf").read_bytes().startswith(b"%PDF-")


def test_the_readme_cold_chain_block_runs_as_written(stack: Stack) -> None:
    run = run_block(stack, walkthrough("## Cold chain"))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines() == ["['above_range', 'above_range_total']", "HeldGoods", "released", "administer"]
