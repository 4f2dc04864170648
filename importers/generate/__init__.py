"""The synthetic network generator: ``lotline generate network --events N --seed S`` (DESIGN.md §1, §10)."""

from importers.generate.cli import run_generate
from importers.generate.network import GeneratedNetwork, WideBatch, generate_network

__all__ = ["GeneratedNetwork", "WideBatch", "generate_network", "run_generate"]
