"""A brute-force reading of the excursion rules, written from docs/cold-chain.md and not from the engine.

It lays the series out on a time line, one instant per time unit, gives each instant to the reading that covers
it, and answers every question by looking at all runs of readings and counting instants: slow and obvious.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from ledger.coldchain.engine import Finding, FindingKind
from ledger.coldchain.profiles import Direction, Mode, Profile, Rule


def beyond(rule: Rule, low: float, high: float) -> bool:
    value = high if rule.direction is Direction.HOT else low
    if value == rule.limit.value_c:
        return rule.limit.inclusive
    return value > rule.limit.value_c if rule.direction is Direction.HOT else value < rule.limit.value_c


def outside(profile: Profile, direction: Direction, low: float, high: float) -> bool:
    bound = profile.bound(direction)
    assert bound is not None
    return high > bound if direction is Direction.HOT else low < bound


def oracle(
    profile: Profile,
    max_gap: int,
    times: Sequence[int],
    lows: Sequence[float],
    highs: Sequence[float],
    unit: int,
) -> list[Finding]:
    n = len(times)
    gap_after = [i + 1 < n and times[i + 1] - times[i] > max_gap for i in range(n)]
    owner: dict[int, int] = {}
    for i in range(n - 1):
        if not gap_after[i]:
            for instant in range(times[i], times[i + 1], unit):
                owner[instant] = i
    covered = Counter(owner.values())

    def time_of(indices: range | list[int]) -> int:
        return sum(covered[k] for k in indices) * unit

    found = [
        Finding(FindingKind.DATA_GAP, times[i], times[i + 1], times[i + 1] - times[i], None, None, ("data_gap",))
        for i in range(n - 1)
        if gap_after[i]
    ]
    for direction in (Direction.HOT, Direction.COLD):
        rules = profile.rules_of(direction)
        if not rules or profile.bound(direction) is None:
            continue
        out = [outside(profile, direction, lows[k], highs[k]) for k in range(n)]
        i = 0
        while i < n:
            if not out[i]:
                i += 1
                continue
            j = i
            while j + 1 < n and out[j + 1] and not gap_after[j]:
                j += 1
            fired = tuple(rule.name for rule in rules if _fires(rule, i, j, lows, highs, time_of))
            if fired:
                duration = time_of(range(i, j + 1))
                found.append(
                    Finding(
                        FindingKind(direction.value),
                        times[i],
                        times[i] + duration,
                        duration,
                        min(lows[i : j + 1]),
                        max(highs[i : j + 1]),
                        fired,
                        ongoing=j == n - 1,
                    )
                )
            i = j + 1
    return found


def _fires(rule: Rule, i: int, j: int, lows: Sequence[float], highs: Sequence[float], time_of) -> bool:  # type: ignore[no-untyped-def]
    past = [beyond(rule, lows[k], highs[k]) for k in range(j + 1)]
    threshold = rule.threshold_s * 1000
    if rule.mode is Mode.CONSECUTIVE:
        for a in range(i, j + 1):
            stretch: list[int] = []
            for b in range(a, j + 1):
                if not past[b]:
                    break
                stretch.append(b)
                if time_of(stretch) >= threshold:
                    return True
        return False
    return any(past[i : j + 1]) and time_of([k for k in range(j + 1) if past[k]]) >= threshold
