"""The ``lotline`` command line: ``up`` runs the network, ``demo`` seeds one, and the operator's commands."""

from trace_api.cli.commands import app

__all__ = ["app"]
