"""How the ``lotline`` command fails: one clear line on stderr and a documented exit code, never a traceback.

The exit codes (docs/cli.md lists them):

==== ================================================================================================
0    done
1    ``lotline verify``: the ledger and the chain disagree (the report says where)
2    refused: bad input, a bad file, a refusal of the ledger (``LotlineError``) or of the API (HTTP 4xx)
3    no network runs on the data directory, or a part of it does not answer
4    the data directory is in use: another ``lotline up`` holds it
==== ================================================================================================
"""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

from ledger.errors import LotlineError

REFUSED = 2
NOT_RUNNING = 3
IN_USE = 4


class CommandFailed(Exception):
    """An expected failure, told in one line."""

    exit_code = REFUSED

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotRunning(CommandFailed):
    exit_code = NOT_RUNNING


class DataDirInUse(CommandFailed):
    exit_code = IN_USE


def run(app: typer.Typer, prog_name: str = "lotline") -> NoReturn:
    """Run the command line; an expected failure ends it with one line on stderr and its exit code. Usage
    errors, ``--help`` and ``typer.Exit`` are handled by the command line itself (standalone mode)."""
    try:
        app(prog_name=prog_name)
    except CommandFailed as failure:
        _fail(failure.message, failure.exit_code)
    except LotlineError as refused:
        _fail(f"refused: {refused.reason}: {refused.detail}", REFUSED)
    sys.exit(0)


def _fail(message: str, code: int) -> NoReturn:
    typer.echo(f"lotline: {message}", err=True)
    sys.exit(code)
