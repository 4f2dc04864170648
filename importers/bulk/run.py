"""``lotline import batches FILE --org USCC``: the import as an operator runs it, with a progress bar.

The command opens its own unit of work: it commits when the import succeeds and rolls everything back when it
is refused, exactly like an upload through the API.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from importers.bulk.service import ImportLimits, ImportReport, import_batches
from ledger.db import make_engine, make_session_factory, session_scope
from ledger.errors import LotlineError
from ledger.keys import KeyVault
from ledger.models import Category
from ledger.recorder import Signer
from ledger.registry import organisation_by_uscc
from ledger.settings import Settings, get_settings
from ledger.signing import SigningDomain

_PHASES = {"checking": "检查 checking", "registering": "登记 registering"}


def run_import(
    database_url: str,
    path: Path,
    org_uscc: str,
    skip_invalid: bool = False,
    *,
    flow: Category | str | None = None,
    settings: Settings | None = None,
    console: Console | None = None,
) -> ImportReport:
    """Import ``path`` for the organisation with USCC ``org_uscc``, printing progress and the outcome.

    Refusals are printed (every problem of every row, as a table) and then re-raised, so the command exits
    non-zero; the database is left as it was.
    """
    settings = settings or get_settings()
    console = console or Console(stderr=True)
    # The same signer the API builds: batches imported here are signed exactly as if uploaded.
    signer = Signer(
        vault=KeyVault(settings.secret_key),
        domain=SigningDomain(chain_id=settings.chain_id),
        ttl_seconds=settings.signature_ttl_seconds,
    )
    engine = make_engine(database_url)
    try:
        with session_scope(make_session_factory(engine)) as session, _progress_bar(console) as bar:
            org = organisation_by_uscc(session, org_uscc)
            task = bar.add_task(_PHASES["checking"], total=None)

            def progress(phase: str, done: int, total: int) -> None:
                bar.update(task, description=_PHASES.get(phase, phase), completed=done, total=total)

            report = import_batches(
                session,
                signer,
                org,
                path,
                flow=flow,
                skip_invalid=skip_invalid,
                progress=progress,
                limits=ImportLimits(max_bytes=settings.max_upload_bytes),
            )
    except LotlineError as refusal:
        _print_refusal(console, refusal)
        raise
    finally:
        engine.dispose()
    _print_report(console, report)
    return report


def _progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def _print_refusal(console: Console, refusal: LotlineError) -> None:
    console.print(f"[bold red]refused ({refusal.reason})[/]: {refusal.detail}")
    problems = refusal.context.get("errors")
    if not isinstance(problems, list) or not problems:
        return
    table = Table("row 行", "column 列", "value 值", "problem 问题")
    for problem in problems:
        table.add_row(str(problem["row"]), problem["column"] or "", problem["value"] or "", problem["detail"])
    console.print(table)


def _print_report(console: Console, report: ImportReport) -> None:
    console.print(f"[bold green]{report.summary}[/] ({report.flow.value}, {report.rows} rows, {report.format})")
    if report.extra_columns:
        console.print(f"ignored columns 未识别的列: {', '.join(report.extra_columns)}")
    if report.skipped:
        table = Table("row 行", "column 列", "value 值", "skipped because 跳过原因")
        for problem in report.skipped:
            table.add_row(str(problem.row), problem.column or "", problem.value or "", problem.detail)
        console.print(table)
