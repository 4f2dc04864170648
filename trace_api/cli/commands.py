"""The ``lotline`` command line: each command imports what it needs when it runs, so ``lotline --help`` starts
without loading the web app, the chain client or Celery."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.settings import get_settings
from trace_api.cli import ledger_commands, recalls, station, status
from trace_api.cli.locate import DataDir, settings_for

app = typer.Typer(
    help="lotline: traceability for food and vaccines, anchored on a permissioned chain.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # an unexpected error is a plain traceback; expected ones are one line
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
    port: Annotated[int, typer.Option(min=1, max=65535, help="port for the web API")] = 8000,
    chain_port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="JSON-RPC port of the embedded chain node")
    ] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="web API worker processes")] = 1,
    data_dir: DataDir = None,
) -> None:
    """Run the whole network on its embedded defaults: ledger, chain node, contract, worker and web API.
    It records where each part listens in <data-dir>/runtime.json and stops them all on Ctrl-C or SIGTERM."""
    from trace_api.cli.serve import run_up

    public_url = None if "public_url" in get_settings().model_fields_set else f"http://{host}:{port}"
    settings = settings_for(data_dir, embedded_chain_port=chain_port, public_url=public_url)
    run_up(settings, host=host, port=port, workers=workers)


app.command()(status.status)
app.command()(ledger_commands.verify)
app.command()(ledger_commands.demo)


org_app = typer.Typer(help="Organisations.", no_args_is_help=True)
app.add_typer(org_app, name="org")


@org_app.command("create")
def org_create(
    name: Annotated[str, typer.Option()],
    uscc: Annotated[str, typer.Option(help="统一社会信用代码")],
    role: Annotated[list[str], typer.Option(help="regulator, producer, distributor, retailer, carrier, vaccinator")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    data_dir: DataDir = None,
) -> None:
    """Register an organisation directly in the ledger (operator action) and print its token once."""
    import json

    from ledger.db import make_engine, make_session_factory, session_scope
    from ledger.keys import KeyVault
    from ledger.migrate import upgrade_to_head
    from ledger.models import Role
    from ledger.registry import create_organisation

    settings = settings_for(data_dir)
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
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(out, ensure_ascii=False))
    else:
        typer.echo(f"{out['name']} ({out['uscc']}) roles={','.join(org.roles)} address={out['chain_address']}")
        typer.echo(f"token: {token}")


import_app = typer.Typer(help="Import data: batch sheets, EPCIS documents.", no_args_is_help=True)
app.add_typer(import_app, name="import")
import_app.command("batches")(ledger_commands.import_batches)
import_app.command("epcis")(ledger_commands.import_epcis)
app.add_typer(recalls.app, name="recall")

app.command("scan")(station.scan)
app.command("scanner")(station.scanner)

generate_app = typer.Typer(help="Synthetic data for benchmarks and demos.", no_args_is_help=True)
app.add_typer(generate_app, name="generate")


@generate_app.command("network")
def generate_network_cmd(
    events: Annotated[int, typer.Option(min=1, help="how many events to generate")],
    seed: Annotated[int, typer.Option(help="the same seed gives the same network")] = 1,
    data_dir: DataDir = None,
) -> None:
    """Generate a realistic cold-chain, farm-market and vaccine network straight into the (empty) ledger."""
    from importers.generate import run_generate

    run_generate(settings_for(data_dir).resolved_database_url, events, seed)
