"""The synthetic network generator: ``lotline generate network --events N --seed S``.

Its flows are those of docs/flows.md; its speed is one of the targets of docs/performance.md.
"""

from importers.generate.cli import run_generate
from importers.generate.network import GeneratedNetwork, WideBatch, generate_network

__all__ = ["GeneratedNetwork", "WideBatch", "generate_network", "run_generate"]
