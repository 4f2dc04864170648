"""``lotline scan IMAGE`` and ``lotline scanner``: the scanning station's command-line side (docs/station.md).

The logic is in scanner/; like the other commands, these import it when they run, so ``lotline --help`` stays
quick.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ledger.settings import get_settings

if TYPE_CHECKING:
    import httpx

    from scanner.verify import OfflineVerifier

ApiOption = Annotated[str | None, typer.Option("--api", help="the network's server (default: LOTLINE_PUBLIC_URL)")]


def _station_dir() -> Path:
    return get_settings().data_dir / "station"


def _verifier(api: str | None, key_set: Path | None) -> OfflineVerifier:
    import httpx

    from scanner.keyset import load_key_set
    from scanner.verify import OfflineVerifier

    if key_set is not None:
        return OfflineVerifier.from_json(key_set.read_text("utf-8"))
    with httpx.Client(base_url=api or get_settings().public_url, timeout=10) as client:
        return load_key_set(client, _station_dir() / "issuers.json")


def scan(
    image: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="a photo, a scanned label or a PDF sheet")],
    api: ApiOption = None,
    key_set: Annotated[Path | None, typer.Option(help="a downloaded lotline-issuers/v1 key set instead")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Read every QR code and DataMatrix symbol in an image or PDF and check each one offline."""
    import dataclasses
    import json

    from ledger.errors import LotlineError
    from scanner.decode import decode_bytes
    from scanner.reading import verdict

    try:
        verifier = _verifier(api, key_set)
        symbols = decode_bytes(image.read_bytes())
    except LotlineError as error:
        typer.echo(f"{error.reason}: {error.detail}", err=True)
        raise typer.Exit(2) from None
    found = []
    for symbol in symbols:
        check = verdict(verifier, symbol.text)
        found.append({**dataclasses.asdict(symbol), "verdict": str(check.reason), "detail": check.detail})
    if as_json:
        typer.echo(json.dumps(found, ensure_ascii=False, indent=1))
    else:
        for code in found:
            typer.echo(f"p{code['page']} {code['symbol']:<10} {code['verdict']:<18} {code['text']}")
        typer.echo(f"{len(found)} code(s)")
    if not found:
        raise typer.Exit(1)


def scanner(
    org: Annotated[str, typer.Option(help="the USCC of the organisation this station scans for")],
    action: Annotated[
        str, typer.Option(help="receive, ship, sell, inspect, pack, unpack, transform, administer, destroy")
    ],
    api: ApiOption = None,
    token: Annotated[str | None, typer.Option(help="the organisation's API token (default: LOTLINE_TOKEN)")] = None,
    to: Annotated[str | None, typer.Option(help="ship: the receiver's USCC")] = None,
    shipment: Annotated[int | None, typer.Option(help="receive: the shipment number")] = None,
    sscc: Annotated[str | None, typer.Option(help="pack/unpack: the case's SSCC")] = None,
    passed: Annotated[bool | None, typer.Option("--passed/--failed", help="inspect: the result")] = None,
    reason: Annotated[str | None, typer.Option(help="inspect: a note")] = None,
    location: Annotated[int | None, typer.Option(help="the location id where the station stands")] = None,
    outbox: Annotated[
        Path | None, typer.Option(help="the outbox file (default: LOTLINE_DATA_DIR/station/outbox.sqlite)")
    ] = None,
    retry_every: Annotated[float, typer.Option(help="seconds between sync attempts while offline")] = 30.0,
) -> None:
    """A fixed station: read codes from a wedge scanner on stdin (one per line), check each offline, queue it in a
    local outbox and send it when the server can be reached. Exits 3 while scans are still waiting."""
    import httpx

    from ledger.errors import LotlineError
    from scanner.keyset import load_key_set
    from scanner.outbox import Outbox
    from scanner.station import Station, run

    secret = token or os.environ.get("LOTLINE_TOKEN")
    if not secret:
        typer.echo("the station needs the organisation's token: --token or LOTLINE_TOKEN", err=True)
        raise typer.Exit(2)
    shared: dict[str, Any] = {"action": action, "to_org": to, "shipment_id": shipment, "sscc": sscc}
    shared |= {"passed": passed, "reason": reason, "location_id": location}
    scan_fields = {name: value for name, value in shared.items() if value is not None}
    headers = {"Authorization": f"Bearer {secret}"}
    box = Outbox(outbox or _station_dir() / "outbox.sqlite")
    try:
        with httpx.Client(base_url=api or get_settings().public_url, headers=headers, timeout=10) as client:
            _check_org(client, org)
            station = Station(box, client, load_key_set(client, _station_dir() / "issuers.json"), scan_fields)
            pending = run(station, sys.stdin, typer.echo, retry_every=retry_every)
    except LotlineError as error:
        typer.echo(f"{error.reason}: {error.detail}", err=True)
        raise typer.Exit(2) from None
    finally:
        box.close()
    if pending:
        raise typer.Exit(3)


def _check_org(client: httpx.Client, uscc: str) -> None:
    """A station set up with another organisation's token would scan in its name: refuse when the server says so."""
    import httpx

    try:
        reply = client.get("/api/v1/orgs/me")
    except httpx.TransportError:
        return  # offline: the server checks the token when the outbox is sent
    if reply.status_code == 200 and reply.json()["uscc"] != uscc.strip().upper():
        typer.echo(f"the token belongs to {reply.json()['uscc']}, not {uscc}", err=True)
        raise typer.Exit(2)
    if reply.status_code == 401:
        typer.echo("the server refused the token", err=True)
        raise typer.Exit(2)
