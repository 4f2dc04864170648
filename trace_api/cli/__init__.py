"""The ``lotline`` command line: ``up`` runs the network, ``demo`` seeds one, the operator's commands, and the
scanning station's ``scan`` and ``scanner``."""

from trace_api.cli.commands import app

__all__ = ["app"]
