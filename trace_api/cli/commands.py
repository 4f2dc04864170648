"""The ``lotline`` command line: each command imports what it needs when it runs, so ``lotline --help`` starts
without loading the web app, the chain client or Celery."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.settings import get_settings
from trace_api.cli import station

app = typer.Typer(
    help="lotline: traceability for food and vaccines, anchored on a permissioned chain.", no_args_is_help=True
)
db_app = typer.Typer(help="The ledger database.", no_args_is_help=True)
chain_app = typer.Typer(help="The permissioned chain.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(chain_app, name="chain")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the ledger database (LOTLINE_DATABASE_URL, else SQLite in LOTLINE_DATA_DIR) to the newest schema."""
    from ledger.migrate import upgrade_to_head

    url = get_settings().resolved_database_url
    upgrade_to_head(url)
    typer.echo(f"ledger schema is up to date ({url.split('@')[-1]})")


@chain_app.command("serve")
def chain_serve(
    data_dir: Annotated[
        Path | None, typer.Option(help="chain data directory (default: LOTLINE_DATA_DIR/chain)")
    ] = None,
    host: Annotated[str, typer.Option(help="address to bind; keep it on loopback")] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8545,
    block_interval: Annotated[float, typer.Option(help="seconds between sealed blocks when txs are pending")] = 0.2,
) -> None:
    """Run the embedded permissioned chain node and its JSON-RPC server."""
    from chain.node import run_node_server

    run_node_server(data_dir or get_settings().chain_data_dir, host, port, block_interval)


@chain_app.command("besu-config")
def chain_besu_config(
    validators: Annotated[int, typer.Option(min=1, help="number of QBFT validators")],
    out: Annotated[Path, typer.Option(help="directory to write genesis, permissioning and keys into")],
    account: Annotated[list[str] | None, typer.Option(help="extra account to allowlist and fund (repeatable)")] = None,
    host: Annotated[list[str] | None, typer.Option(help="validator host names, in order (repeatable)")] = None,
    chain_id: Annotated[int | None, typer.Option(help="default: LOTLINE_CHAIN_ID")] = None,
) -> None:
    """Write a Hyperledger Besu QBFT genesis and permissioning files for a consortium network."""
    from chain.besu import write_besu_config

    written = write_besu_config(
        out,
        validator_count=validators,
        chain_id=chain_id or get_settings().chain_id,
        accounts=account or [],
        hosts=host or [],
    )
    for v in written:
        typer.echo(f"validator {v.index}: {v.address}")
    typer.echo(f"wrote {out}/genesis.json, permissions_config.toml and validator-*/key")


@app.command()
def up(
    host: Annotated[str, typer.Option(help="address for the web API")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port for the web API")] = 8000,
    chain_port: Annotated[int | None, typer.Option(help="JSON-RPC port of the embedded chain node")] = None,
) -> None:
    """Run the whole network on its embedded defaults: ledger, chain node, contract, worker and web API."""
    import uvicorn

    from trace_api.app import create_app
    from trace_api.cli.up import bring_up

    settings = get_settings()
    if chain_port is not None:
        settings = settings.model_copy(update={"embedded_chain_port": chain_port})
    network = bring_up(settings)
    typer.echo(f"lotline is up at http://{host}:{port}   (consumer pages, /docs for the API)")
    typer.echo(f"  ledger     {settings.resolved_database_url}")
    typer.echo(f"  chain      {network.rpc_url}   anchor contract {network.contract_address}")
    typer.echo(f"  regulator  {network.regulator}")
    typer.echo(f"  token      {network.regulator_token}   (regulator bearer token; a new one each start)")
    typer.echo(f"  logs       {settings.data_dir}/chain-node.log, {settings.data_dir}/worker.log")
    typer.echo("  stop with Ctrl-C")
    try:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
    finally:
        network.stop()


org_app = typer.Typer(help="Organisations.", no_args_is_help=True)
app.add_typer(org_app, name="org")


@org_app.command("create")
def org_create(
    name: Annotated[str, typer.Option()],
    uscc: Annotated[str, typer.Option(help="统一社会信用代码")],
    role: Annotated[list[str], typer.Option(help="regulator, producer, distributor, retailer, carrier, vaccinator")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Register an organisation directly in the ledger (operator action) and print its token once."""
    import json

    from ledger.db import make_engine, make_session_factory, session_scope
    from ledger.errors import LotlineError
    from ledger.keys import KeyVault
    from ledger.migrate import upgrade_to_head
    from ledger.models import Role
    from ledger.registry import create_organisation

    settings = get_settings()
    upgrade_to_head(settings.resolved_database_url)
    try:
        roles = [Role(r) for r in role]
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--role") from error
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            org, token = create_organisation(session, KeyVault(settings.secret_key), name=name, uscc=uscc, roles=roles)
            out = {
                "id": org.id,
                "name": org.name,
                "uscc": org.uscc,
                "roles": org.roles,
                "chain_address": org.chain_address,
                "token": token,
            }
    except LotlineError as error:
        typer.echo(f"refused: {error.reason}: {error.detail}", err=True)
        raise typer.Exit(2) from error
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
    else:
        typer.echo(f"{out['name']} ({out['uscc']}) roles={','.join(org.roles)} address={out['chain_address']}")
        typer.echo(f"token: {token}")


@app.command()
def verify(
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    since_checkpoint: Annotated[
        bool, typer.Option("--since-checkpoint", help="check only events after the last clean verification")
    ] = False,
) -> None:
    """Audit the whole ledger against the chain: every hash, signature, batch chain, proof and derived row."""
    import json

    from chain.checkpoint import checkpoint_key, verify_ledger
    from chain.client import ChainClient
    from chain.deploy import read_deployment
    from ledger.db import make_engine, make_session_factory
    from ledger.signing import SigningDomain

    settings = get_settings()
    deployment = read_deployment(settings.data_dir / "deployment.json")
    client = ChainClient(settings.resolved_chain_rpc_url, contract_address=deployment["address"])
    engine = make_engine(settings.resolved_database_url)
    domain, key = SigningDomain(chain_id=settings.chain_id), checkpoint_key(settings.secret_key)
    try:
        with make_session_factory(engine)() as session:
            report = verify_ledger(session, client, domain, key, since_checkpoint=since_checkpoint)
            session.commit()
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


@app.command()
def demo() -> None:
    """Seed a small realistic network (cold chain and vaccines) into the ledger; a running worker anchors it."""
    from ledger.db import make_engine, make_session_factory, session_scope
    from ledger.migrate import upgrade_to_head
    from trace_api.cli.demo import seed
    from trace_api.state import make_signer

    settings = get_settings()
    upgrade_to_head(settings.resolved_database_url)
    engine = make_engine(settings.resolved_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            result = seed(
                session,
                make_signer(settings),
                company_prefix=settings.gs1_company_prefix,
                public_url=settings.public_url,
            )
    finally:
        engine.dispose()
    if result.already:
        typer.echo("the demo network is already in this ledger")
        return
    typer.echo("demo network seeded; organisation tokens (shown once):")
    for key, token in result.tokens.items():
        typer.echo(f"  {key:<13} {token}")
    typer.echo("open on a phone or in a browser:")
    for key, link in result.links.items():
        typer.echo(f"  {key:<13} {link}")


import_app = typer.Typer(help="Import data: batch sheets, EPCIS documents.", no_args_is_help=True)
app.add_typer(import_app, name="import")


@import_app.command("batches")
def import_batches_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV (UTF-8 or GBK) or XLSX sheet")],
    org: Annotated[str, typer.Option(help="USCC of the registering organisation")],
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="register the valid rows, list the rest")
    ] = False,
    flow: Annotated[
        str | None, typer.Option(help="cold_chain, farm_produce or vaccine (default: from headers)")
    ] = None,
) -> None:
    """Register the batches of a sheet: every row checked first, all or nothing (unless --skip-invalid)."""
    from importers.bulk import run_import
    from ledger.errors import LotlineError

    try:
        run_import(get_settings().resolved_database_url, file, org, skip_invalid, flow=flow)
    except LotlineError as error:
        raise typer.Exit(2) from error


@import_app.command("epcis")
def import_epcis_cmd(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="an EPCIS 2.0 JSON-LD document")],
    org: Annotated[str, typer.Option(help="USCC of the capturing organisation")],
) -> None:
    """Capture an EPCIS 2.0 document as an organisation, all-or-nothing, with each event's status and id."""
    from importers.epcis_capture import run_epcis_import
    from ledger.errors import LotlineError

    try:
        statuses = run_epcis_import(get_settings().resolved_database_url, file, org)
    except LotlineError as error:
        typer.echo(f"refused: {error.reason}: {error.detail}", err=True)
        raise typer.Exit(2) from error
    for status in statuses:
        typer.echo(f"{status.index:>4}  {status.outcome:<9} {status.operation or '-':<10} {status.event_id}")


recall_app = typer.Typer(help="Recalls and traces.", no_args_is_help=True)
app.add_typer(recall_app, name="recall")


@recall_app.command("trace")
def recall_trace(
    gtin: Annotated[str, typer.Option()],
    lot: Annotated[str, typer.Option()],
    direction: Annotated[str, typer.Option(help="forward (holders) or back (sources)")] = "forward",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Every holder of a batch downstream (forward), or every source upstream (back), with quantities."""
    import json

    from ledger.db import make_engine, make_session_factory
    from ledger.errors import LotlineError
    from recall.investigate import format_report, trace_report

    if direction not in ("forward", "back"):
        raise typer.BadParameter("forward or back", param_hint="--direction")
    engine = make_engine(get_settings().resolved_database_url, for_writing=False)
    try:
        with make_session_factory(engine)() as session:
            report = trace_report(session, gtin, lot, "back" if direction == "back" else "forward")
    except LotlineError as error:
        typer.echo(f"refused: {error.reason}: {error.detail}", err=True)
        raise typer.Exit(2) from error
    finally:
        engine.dispose()
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2) if as_json else format_report(report))


app.command("scan")(station.scan)
app.command("scanner")(station.scanner)

generate_app = typer.Typer(help="Synthetic data for benchmarks and demos.", no_args_is_help=True)
app.add_typer(generate_app, name="generate")


@generate_app.command("network")
def generate_network_cmd(
    events: Annotated[int, typer.Option(min=1, help="how many events to generate")],
    seed: Annotated[int, typer.Option(help="the same seed gives the same network")] = 1,
) -> None:
    """Generate a realistic cold-chain, farm-market and vaccine network straight into the (empty) ledger."""
    from importers.generate import run_generate

    run_generate(get_settings().resolved_database_url, events, seed)
