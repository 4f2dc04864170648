"""The excursion rules applied to a series of temperature readings: one pass, resumable, no database.

What a reading means: a reading at ``t`` stands for the time until the next one, its *span*, as a logger's
sample does. A span longer than ``max_gap_ms`` is a **data gap**: nobody knows the temperature in it, so it is a
finding of its own, the reading before it stands for nothing (span 0) and it breaks every stretch. The last
reading stands for nothing yet either: its span is known when the next one comes.

An **episode** is a maximal run of readings outside the profile's storage range in one direction (hot: above the
maximum, cold: below the minimum), not broken by a gap. It lasts from its first reading to the first reading back
in range (or to its last reading, before a gap or at the end of the data). An episode is a finding when one of the
profile's rules fires in it:

- a *consecutive* rule fires when readings beyond its limit, one after another within the episode, stand for at
  least its threshold;
- a *cumulative* rule fires in an episode that has a reading beyond its limit, when the time beyond that limit
  since the start of the log (this episode included) has reached its threshold.

A reading carries a low and a high (equal for a plain reading, a report's minimum and maximum otherwise): hot
limits look at the high, cold limits at the low.

:class:`Evaluation` is a fold: ``feed`` readings in time order in as many calls as they arrive, keep ``state()``
between calls (it is plain JSON), and ask ``ongoing()`` for the episodes still open at the last reading. Times and
durations are integer milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from ledger.coldchain.profiles import Direction, Mode, Profile, Rule

DATA_GAP: Final = "data_gap"


class FindingKind(StrEnum):
    HOT = "hot"
    COLD = "cold"
    DATA_GAP = DATA_GAP


@dataclass(frozen=True, slots=True)
class Finding:
    kind: FindingKind
    start_ms: int
    end_ms: int  # start + duration; for an ongoing finding, the last reading so far
    duration_ms: int
    low_c: float | None  # the extremes of the readings in it (none for a gap)
    high_c: float | None
    rules: tuple[str, ...]
    ongoing: bool = False


class _Tracker:
    """The episodes of one direction: the open one, and each rule's progress."""

    __slots__ = (
        "bound",
        "cumulative",
        "direction",
        "duration",
        "fired",
        "high",
        "hot",
        "low",
        "open",
        "rules",
        "runs",
        "start",
        "thresholds",
        "totals",
        "touched",
    )

    def __init__(self, direction: Direction, bound: float, rules: Sequence[Rule]) -> None:
        self.direction, self.bound, self.hot = direction, bound, direction is Direction.HOT
        self.rules = tuple(rules)
        self.cumulative = tuple(rule.mode is Mode.CUMULATIVE for rule in self.rules)
        self.thresholds = tuple(rule.threshold_s * 1000 for rule in self.rules)
        self.totals = [0] * len(self.rules)  # cumulative rules: time beyond the limit since the log began
        self._reset()

    def _reset(self) -> None:
        self.open, self.start, self.duration = False, 0, 0
        self.low, self.high = math.inf, -math.inf
        self.runs = [-1] * len(self.rules)  # consecutive rules: current stretch beyond the limit, -1 if none
        self.fired = [False] * len(self.rules)  # consecutive: fired in this episode; cumulative: touched it

    def outside(self, low: float, high: float) -> bool:
        return high > self.bound if self.hot else low < self.bound

    def extend(self, t: int, low: float, high: float, span: int) -> None:
        """Take a reading outside the range at ``t``, standing for ``span``: it opens or extends the episode."""
        if not self.open:
            self.open, self.start = True, t
        self.duration += span
        self.low, self.high = min(self.low, low), max(self.high, high)
        for k, rule in enumerate(self.rules):
            beyond = rule.limit.passed_by(low, high)
            if self.cumulative[k]:
                if beyond:
                    self.totals[k] += span
                    self.fired[k] = True
            elif beyond:
                self.runs[k] = max(self.runs[k], 0) + span
                if self.runs[k] >= self.thresholds[k]:
                    self.fired[k] = True
            else:
                self.runs[k] = -1

    def close(self, *, ongoing: bool) -> Finding | None:
        rules = tuple(
            rule.name
            for k, rule in enumerate(self.rules)
            if self.fired[k] and (not self.cumulative[k] or self.totals[k] >= self.thresholds[k])
        )
        finding = None
        if rules:
            finding = Finding(
                FindingKind(self.direction.value),
                self.start,
                self.start + self.duration,
                self.duration,
                self.low,
                self.high,
                rules,
                ongoing,
            )
        self._reset()
        return finding

    def copy(self) -> _Tracker:
        twin = _Tracker(self.direction, self.bound, self.rules)
        twin.load(self.dump())
        return twin

    def dump(self) -> dict[str, Any]:
        state: dict[str, Any] = {"totals": list(self.totals)}
        if self.open:
            state.update(
                start=self.start,
                duration=self.duration,
                low=self.low,
                high=self.high,
                runs=list(self.runs),
                fired=list(self.fired),
            )
        return state

    def load(self, state: Mapping[str, Any]) -> None:
        self.totals = [int(v) for v in state["totals"]]
        self._reset()
        if "start" in state:
            self.open, self.start, self.duration = True, int(state["start"]), int(state["duration"])
            self.low, self.high = float(state["low"]), float(state["high"])
            self.runs = [int(v) for v in state["runs"]]
            self.fired = [bool(v) for v in state["fired"]]


class Evaluation:
    """The rules of one profile over one log's readings, fed in time order, resumable from ``state()``."""

    def __init__(self, profile: Profile, max_gap_ms: int, state: Mapping[str, Any] | None = None) -> None:
        if max_gap_ms <= 0:
            raise ValueError("max_gap_ms must be positive")
        self.profile, self.max_gap_ms = profile, max_gap_ms
        self._trackers = [
            _Tracker(direction, bound, profile.rules_of(direction))
            for direction in (Direction.HOT, Direction.COLD)
            if (bound := profile.bound(direction)) is not None and profile.rules_of(direction)
        ]
        self._pending: tuple[int, float, float] | None = None
        if state is not None:
            self._load(state)

    @property
    def last_ms(self) -> int | None:
        """The time of the last reading fed; readings fed next must come after it."""
        return self._pending[0] if self._pending else None

    def feed(self, times: Sequence[int], lows: Sequence[float], highs: Sequence[float]) -> list[Finding]:
        """Take readings (strictly increasing times, after ``last_ms``); return the findings they closed."""
        findings: list[Finding] = []
        trackers, max_gap = self._trackers, self.max_gap_ms
        hot_bound = next((t.bound for t in trackers if t.hot), math.inf)
        cold_bound = next((t.bound for t in trackers if not t.hot), -math.inf)
        busy = any(t.open for t in trackers)
        readings = iter(zip(times, lows, highs, strict=True))
        if self._pending is None:
            self._pending = next(readings, None)
            if self._pending is None:
                return findings
        pt, plo, phi = self._pending
        for t, lo, hi in readings:
            span = t - pt
            if span <= 0:
                raise ValueError(f"readings out of time order: {t} does not come after {pt}")
            if span > max_gap:
                findings.extend(self._gap(pt, plo, phi, t))
                busy = False
            elif busy or phi > hot_bound or plo < cold_bound:
                busy = False
                for tracker in trackers:
                    if tracker.outside(plo, phi):
                        tracker.extend(pt, plo, phi, span)
                    # A reading back in range ends the episode at once: its own span is not the episode's.
                    closing = tracker.open and not tracker.outside(lo, hi)
                    if closing and (finding := tracker.close(ongoing=False)) is not None:
                        findings.append(finding)
                    busy = busy or tracker.open
            pt, plo, phi = t, lo, hi
        self._pending = (pt, plo, phi)
        return findings

    def ongoing(self) -> list[Finding]:
        """The episodes that would be findings if the data ended at the last reading (which counts for nothing
        beyond its own instant); the evaluation itself is unchanged."""
        if self._pending is None:
            return []
        found = []
        for tracker in self._trackers:
            twin = tracker.copy()
            if twin.outside(self._pending[1], self._pending[2]):
                twin.extend(*self._pending, 0)
            if twin.open and (finding := twin.close(ongoing=True)) is not None:
                found.append(finding)
        return found

    def state(self) -> dict[str, Any]:
        return {
            "pending": list(self._pending) if self._pending else None,
            "trackers": [t.dump() for t in self._trackers],
        }

    def _gap(self, pt: int, plo: float, phi: float, t: int) -> Iterable[Finding]:
        for tracker in self._trackers:
            if tracker.outside(plo, phi):
                tracker.extend(pt, plo, phi, 0)
            if tracker.open and (finding := tracker.close(ongoing=False)) is not None:
                yield finding
        yield Finding(FindingKind.DATA_GAP, pt, t, t - pt, None, None, (DATA_GAP,))

    def _load(self, state: Mapping[str, Any]) -> None:
        pending = state.get("pending")
        self._pending = (int(pending[0]), float(pending[1]), float(pending[2])) if pending else None
        saved = state["trackers"]
        if len(saved) != len(self._trackers):
            raise ValueError("the saved evaluation is of another profile")
        for tracker, tracker_state in zip(self._trackers, saved, strict=True):
            tracker.load(tracker_state)


def evaluate(
    profile: Profile, max_gap_ms: int, times: Sequence[int], lows: Sequence[float], highs: Sequence[float]
) -> list[Finding]:
    """Every finding of one series: the closed ones in order, then those still open at its last reading."""
    evaluation = Evaluation(profile, max_gap_ms)
    return [*evaluation.feed(times, lows, highs), *evaluation.ongoing()]
