"""The ``lotline`` command line: ``up`` runs the network, ``demo`` seeds one, the operator's commands, and the
scanning station's ``scan`` and ``scanner``. ``main`` is the console script: expected failures end in one line."""

from trace_api.cli.commands import app
from trace_api.cli.failures import run


def main() -> None:
    run(app)


__all__ = ["app", "main"]
