"""Traces: a code's journey for its holders and regulators, and the forward and back traces of the trade graph."""
