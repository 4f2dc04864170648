"""``lotline recall …``: recalls and traces through the running network's API, as the regulator ``lotline up``
made (its token is in the data directory), or as any organisation with ``--token``. docs/cli.md shows each one."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from trace_api.cli.failures import CommandFailed
from trace_api.cli.locate import DataDir, locate, settings_for

app = typer.Typer(help="Recalls and traces, through the running network's API.", no_args_is_help=True)

AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]
Token = Annotated[
    str | None,
    typer.Option(envvar="LOTLINE_TOKEN", help="act as this organisation (default: the regulator lotline up made)"),
]
RecallId = Annotated[int, typer.Argument(min=1, max=2**63 - 1, help="the recall's id (lotline recall list)")]


def _api(data_dir: DataDir, token: str | None) -> Any:
    return locate(settings_for(data_dir)).api(token)


@app.command("open")
def open_recall(
    reason: Annotated[str, typer.Option(help="why the goods are recalled (召回原因)")],
    batch: Annotated[list[str] | None, typer.Option(help="GTIN:LOT of a batch to recall (repeatable)")] = None,
    code: Annotated[list[str] | None, typer.Option(help="an item, case or pallet code (repeatable)")] = None,
    recall_class: Annotated[int, typer.Option("--class", min=1, max=3, help="1 (most serious) to 3")] = 2,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    token: Token = None,
) -> None:
    """Open a recall of batches and/or codes: from then on the goods cannot move and every holder is notified.
    A producer's recall of its own batches is requested until a regulator approves it."""
    batches = [_batch_name(text) for text in batch or []]
    body = {"batches": batches, "codes": code or [], "recall_class": recall_class, "reason": reason}
    recall = _api(data_dir, token).post("/api/v1/recalls", body)
    _print(recall, as_json, _summary_line)


@app.command("list")
def list_recalls(
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    offset: Annotated[int, typer.Option(min=0, max=10**9)] = 0,
    as_json: AsJson = False,
    data_dir: DataDir = None,
    token: Token = None,
) -> None:
    """The recalls, newest first: all of them for a regulator, the ones that concern it for anyone else."""
    recalls = _api(data_dir, token).get("/api/v1/recalls", limit=limit, offset=offset)
    if as_json:
        typer.echo(json.dumps(recalls, ensure_ascii=False, indent=2))
        return
    if not recalls:
        typer.echo("no recalls")
    for recall in recalls:
        typer.echo(_summary_line(recall))


@app.command("show")
def show(recall_id: RecallId, as_json: AsJson = False, data_dir: DataDir = None, token: Token = None) -> None:
    """One recall with its holders' progress."""
    recall = _api(data_dir, token).get(f"/api/v1/recalls/{recall_id}")
    _print(recall, as_json, _detail)


@app.command("acknowledge")
def acknowledge(
    recall_id: RecallId,
    holding: Annotated[
        list[str],
        typer.Option(help="GTIN:LOT:QUARANTINED:RETURNED:DESTROYED, running totals of one batch (repeatable)"),
    ],
    as_json: AsJson = False,
    data_dir: DataDir = None,
    token: Token = None,
) -> None:
    """A holder reports what it has done with the recalled goods (with --token, as that holder)."""
    body = {"holdings": [_holding(text) for text in holding]}
    recall = _api(data_dir, token).post(f"/api/v1/recalls/{recall_id}/acknowledgements", body)
    _print(recall, as_json, _detail)


@app.command("close")
def close(
    recall_id: RecallId,
    reason: Annotated[str, typer.Option(help="why the recall ends")],
    as_json: AsJson = False,
    data_dir: DataDir = None,
    token: Token = None,
) -> None:
    """Close a recall (or turn down a requested one), with a reason; closing twice is refused."""
    recall = _api(data_dir, token).post(f"/api/v1/recalls/{recall_id}/close", {"reason": reason})
    _print(recall, as_json, _summary_line)


@app.command("trace")
def trace(
    gtin: Annotated[str, typer.Option()],
    lot: Annotated[str, typer.Option()],
    direction: Annotated[str, typer.Option(help="forward (holders) or back (sources)")] = "forward",
    as_json: AsJson = False,
    data_dir: DataDir = None,
    token: Token = None,
) -> None:
    """Every holder of a batch downstream (forward), or every source upstream (back), with quantities."""
    from recall.investigate import format_report

    if direction not in ("forward", "back"):
        raise typer.BadParameter("forward or back", param_hint="--direction")
    report = _api(data_dir, token).get(f"/api/v1/trace/{direction}", gtin=gtin, lot=lot)
    typer.echo(json.dumps(report, ensure_ascii=False, indent=2) if as_json else format_report(report))


def _batch_name(text: str) -> dict[str, str]:
    gtin, sep, lot = text.partition(":")
    if not sep or not gtin or not lot:
        raise CommandFailed(f"--batch {text!r}: write GTIN:LOT, e.g. 06970000000017:BR2026A")
    return {"gtin": gtin, "lot": lot}


def _holding(text: str) -> dict[str, Any]:
    parts = text.split(":")
    if len(parts) != 5 or not all(p.isdigit() for p in parts[2:]):
        raise CommandFailed(f"--holding {text!r}: write GTIN:LOT:QUARANTINED:RETURNED:DESTROYED, e.g. 0697…:BR1:10:0:0")
    gtin, lot, quarantined, returned, destroyed = parts
    return {
        "gtin": gtin,
        "lot": lot,
        "quarantined": int(quarantined),
        "returned": int(returned),
        "destroyed": int(destroyed),
    }


def _print(recall: dict[str, Any], as_json: bool, text: Any) -> None:
    typer.echo(json.dumps(recall, ensure_ascii=False, indent=2) if as_json else text(recall))


def _summary_line(recall: dict[str, Any]) -> str:
    lots = ", ".join(f"(01){b['gtin']}(10){b['lot']}" for b in recall["batches"])
    codes = f" + {recall['codes_recalled']} codes" if recall.get("codes_recalled") else ""
    progress = recall["progress"]
    return (
        f"{recall['id']:>5}  {recall['number']}  {recall['status']:<9} class {recall['recall_class']}  "
        f"{progress['settled']}/{progress['holders']} holders settled  {lots}{codes}  — {recall['reason']}"
    )


def _detail(recall: dict[str, Any]) -> str:
    lines = [_summary_line(recall)]
    for holder in recall.get("holders", []):
        state = "settled" if holder["settled"] else ("reported" if holder["acknowledged_at"] else "waiting")
        lines.append(
            f"  {holder['org_name']} lot {holder['lot']}: held {holder['quantity_at_open']}, "
            f"quarantined {holder['quarantined']}, returned {holder['returned']}, destroyed {holder['destroyed']} "
            f"({state})"
        )
    return "\n".join(lines)
