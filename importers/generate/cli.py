"""The command behind ``lotline generate network``: a progress bar while it runs, a summary when it is done."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from importers.generate.network import GeneratedNetwork, generate_network


def run_generate(database_url: str, events: int, seed: int) -> None:
    console = Console()
    columns = (TextColumn("[bold]generating"), BarColumn(), MofNCompleteColumn(), TextColumn("events"),
               TimeElapsedColumn(), TimeRemainingColumn())  # fmt: skip
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("events", total=events)
        network = generate_network(
            database_url, events=events, seed=seed, progress=lambda done: progress.update(task, completed=done)
        )
    console.print(summary_table(network))


def summary_table(network: GeneratedNetwork) -> Table:
    rate = network.events / network.elapsed_seconds if network.elapsed_seconds else 0.0
    table = Table(title=f"synthetic network, seed {network.seed}", show_header=False)
    for label, value in (
        ("events", f"{network.events:,} in {network.elapsed_seconds:,.1f} s ({rate:,.0f} events/s)"),
        ("organisations", f"{network.organisations:,}"),
        ("products / batches", f"{network.products:,} / {network.batches:,}"),
        ("shipments (still in transit)", f"{network.shipments:,} ({network.in_transit:,})"),
        ("movements / holdings", f"{network.movements:,} / {network.holdings:,}"),
        ("transformations / returns", f"{network.transformations:,} / {network.returns:,}"),
        ("item codes / cases (SSCC)", f"{network.codes - network.cases:,} / {network.cases:,}"),
        ("failed inspections (held batches)", f"{network.failed_inspections:,}"),
    ):
        table.add_row(label, value)
    for wide in network.widest:
        table.add_row(f"batch {wide.batch_id} (01){wide.gtin}(10){wide.lot}", f"{wide.holders:,} holders")
    return table
