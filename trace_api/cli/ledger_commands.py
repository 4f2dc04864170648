"""The commands that read or write the ledger themselves, next to a running network: ``verify``, ``demo`` and
``import``. Each finds the network first (trace_api/cli/locate.py): the chain ``up`` started, the address its
pages answer on, and a check that the ledger is the one the network uses (its worker anchors what they write)."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from trace_api.cli.failures import CommandFailed, NotRunning
from trace_api.cli.locate import DataDir, locate, settings_for

AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]


def verify(
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    since_checkpoint: Annotated[
        bool, typer.Option("--since-checkpoint", help="check only events after the last clean verification")
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Audit the whole ledger against the chain: every hash, signature, batch chain, proof and derived row.
    Exit code 1 when they disagree."""
    from chain.checkpoint import checkpoint_key, verify_ledger
    from chain.client import ChainClient
    from chain.deploy import read_deployment
    from chain.operator import wait_for_rpc
    from ledger.db import make_engine, make_session_factory
    from ledger.errors import LotlineError
    from ledger.signing import SigningDomain

    settings = settings_for(data_dir)
    if settings.chain_rpc_url is not None:  # an external chain: the deployment record says where the contract is
        rpc_url, contract = settings.chain_rpc_url, read_deployment(settings.data_dir / "deployment.json")["address"]
    else:
        running = locate(settings, same_ledger=True)
        rpc_url, contract = running.record.chain_rpc_url, running.record.contract_address
    try:
        wait_for_rpc(rpc_url, timeout=5)
    except LotlineError as error:
        raise NotRunning(
            f"the chain node at {rpc_url} does not answer: see chain-node.log in the data directory"
        ) from error
    engine = make_engine(settings.resolved_database_url)
    domain, key = SigningDomain(chain_id=settings.chain_id), checkpoint_key(settings.secret_key)
    try:
        with make_session_factory(engine)() as session:
            client = ChainClient(rpc_url, contract_address=contract)
            report = verify_ledger(session, client, domain, key, since_checkpoint=since_checkpoint)
            session.commit()  # a clean run records its checkpoint
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(json.dumps(dict(sorted(report.counts.items())), ensure_ascii=False))
        for finding in report.findings:
            typer.echo(f"  {finding.as_text()}")
        typer.echo("ledger and chain agree" if report.ok else "ledger and chain DISAGREE")
    raise typer.Exit(0 if report.ok else 1)


def demo(as_json: AsJson = False, data_dir: DataDir = None) -> None:
    """Seed a small realistic network (cold chain and vaccines) into the running network's ledger; its worker
    anchors it. Needs `lotline up` running on the data directory."""
    from ledger.db import make_engine, make_session_factory, session_scope
    from trace_api.cli.demo import seed
    from trace_api.state import make_signer

    settings = settings_for(data_dir)
    running = locate(settings, same_ledger=True)
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            result = seed(
                session,
                make_signer(settings),
                company_prefix=settings.gs1_company_prefix,
                public_url=running.record.public_url,
            )
    finally:
        engine.dispose()
    if as_json:
        out = {"seeded": not result.already, "tokens": result.tokens, "links": result.links}
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if result.already:
        typer.echo("the demo network is already in this ledger")
        return
    typer.echo("demo network seeded; organisation tokens (shown once):")
    for key, token in result.tokens.items():
        typer.echo(f"  {key:<13} {token}")
    typer.echo("open on a phone or in a browser:")
    for key, link in result.links.items():
        typer.echo(f"  {key:<13} {link}")


def import_batches(
    file: Annotated[Path, typer.Argument(help="CSV (UTF-8 or GBK) or XLSX sheet")],
    org: Annotated[str, typer.Option(help="USCC of the registering organisation")],
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="register the valid rows, list the rest")
    ] = False,
    flow: Annotated[
        str | None, typer.Option(help="cold_chain, farm_produce or vaccine (default: from headers)")
    ] = None,
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Register the batches of a sheet: every row checked first, all or nothing (unless --skip-invalid)."""
    from importers.bulk import run_import
    from ledger.errors import LotlineError

    readable(file)
    settings = settings_for(data_dir)
    locate(settings, same_ledger=True)
    try:
        report = run_import(settings.resolved_database_url, file, org, skip_invalid, flow=flow, settings=settings)
    except LotlineError as error:
        raise typer.Exit(2) from error  # the refusal, with every problem of every row, is printed already
    if as_json:
        out: dict[str, Any] = {
            "flow": report.flow.value,
            "format": report.format,
            "rows": report.rows,
            "created": [r.as_dict() for r in report.created],
            "unchanged": [r.as_dict() for r in report.unchanged],
            "skipped": [asdict(problem) for problem in report.skipped],
            "summary": report.summary,
        }
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))


def import_epcis(
    file: Annotated[Path, typer.Argument(help="an EPCIS 2.0 JSON-LD document")],
    org: Annotated[str, typer.Option(help="USCC of the capturing organisation")],
    as_json: AsJson = False,
    data_dir: DataDir = None,
) -> None:
    """Capture an EPCIS 2.0 document as an organisation, all-or-nothing, with each event's status and id."""
    from importers.epcis_capture import run_epcis_import

    readable(file)
    settings = settings_for(data_dir)
    locate(settings, same_ledger=True)
    statuses = run_epcis_import(settings.resolved_database_url, file, org)
    if as_json:
        out = [{**asdict(s), "outcome": str(s.outcome)} for s in statuses]
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    for status in statuses:
        typer.echo(f"{status.index:>4}  {status.outcome:<9} {status.operation or '-':<10} {status.event_id}")


def readable(file: Path) -> None:
    """A file to import must be there and be a file: one line otherwise."""
    if not file.is_file():
        raise CommandFailed(f"{file}: no such file" if not file.exists() else f"{file} is not a file")
