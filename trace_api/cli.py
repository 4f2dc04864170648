"""The ``lotline`` command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.settings import get_settings

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
    chain_port: Annotated[int, typer.Option(help="JSON-RPC port of the embedded chain node")] = 8545,
) -> None:
    """Run the network on its embedded defaults: ledger, chain node and anchor contract."""
    from trace_api.up import bring_up

    settings = get_settings()
    network = bring_up(settings, chain_port=chain_port)
    typer.echo(f"ledger     {settings.resolved_database_url}")
    typer.echo(f"chain      {network.rpc_url} (anchor contract {network.contract_address})")
    typer.echo(f"regulator  {network.regulator}")
    typer.echo(f"token      {network.regulator_token}   (regulator bearer token, shown once)")
    typer.echo(f"web API    http://{host}:{port} is not served yet: it arrives with the Trace API issue")
    if network.node is None:
        return
    typer.echo("running; press Ctrl-C to stop")
    try:
        network.node.wait()
    except KeyboardInterrupt:
        network.node.terminate()
        network.node.wait(timeout=10)
