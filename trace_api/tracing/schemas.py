"""A code's trace over the JSON API: the consumer's view, with the caller's own steps (or all, for a
regulator) in full."""

from __future__ import annotations

from trace_api.web.lookup import CodeView, FullStep, PublicStep


class CodeTrace(CodeView):
    journey: list[FullStep | PublicStep]
