"""The excursion rules against a brute-force oracle on random reading series, and the cases the issue names."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.coldchain import profiles
from ledger.coldchain.engine import Evaluation, Finding, FindingKind, evaluate
from ledger.coldchain.profiles import Direction, Limit, Mode, Profile, ProfileName, Rule
from tests.ledger.coldchain.oracle import oracle

MINUTE = 60_000
PROFILES = {
    "frozen": profiles.frozen(),
    "chilled": profiles.chilled(),
    "vaccine": profiles.vaccine(freeze_sensitive=False),
    "vaccine_freeze_sensitive": profiles.vaccine(freeze_sensitive=True),
}
# Temperatures on and around every limit of the profiles above, so equality is exercised as often as not.
TEMPERATURES = {
    "frozen": [-25.0, -18.0, -17.5, -15.0, -14.0, 2.0],
    "chilled": [-1.0, 0.0, 2.0, 4.0, 4.5, 9.0],
    "vaccine": [-1.0, -0.5, 0.0, 1.0, 2.0, 5.0, 8.0, 8.5, 12.0, 30.0, 44.0, 45.0],
    "vaccine_freeze_sensitive": [-1.0, -0.5, 0.0, 1.0, 2.0, 5.0, 8.0, 12.0, 30.0, 45.0],
}


def sort_key(finding: Finding) -> tuple[int, str]:
    return finding.start_ms, finding.kind.value


@st.composite
def series(draw: st.DrawFn, temperatures: list[float]) -> tuple[list[int], list[float], list[float]]:
    """Up to 8 spells of up to 15 readings each: one temperature (a plain value, or a (min, max) pair) logged
    every 1 to 45 minutes, so that stretches last from minutes to a day and gaps come and go."""
    times: list[int] = []
    lows: list[float] = []
    highs: list[float] = []
    for _ in range(draw(st.integers(0, 8))):
        a, b = draw(st.sampled_from(temperatures)), draw(st.sampled_from(temperatures))
        low, high = (a, a) if draw(st.booleans()) else (min(a, b), max(a, b))
        step = draw(st.sampled_from([1, 5, 5, 10, 10, 20, 45])) * MINUTE
        for _ in range(draw(st.integers(1, 15))):
            times.append(times[-1] + step if times else 0)
            lows.append(low)
            highs.append(high)
    return times, lows, highs


@st.composite
def profile_and_series(draw: st.DrawFn) -> tuple[Profile, int, tuple[list[int], list[float], list[float]]]:
    name = draw(st.sampled_from(sorted(PROFILES)))
    max_gap = draw(st.sampled_from([6, 15, 30, 60])) * MINUTE
    return PROFILES[name], max_gap, draw(series(TEMPERATURES[name]))


@given(profile_and_series())
@settings(max_examples=1000)
def test_findings_match_the_brute_force_oracle(
    case: tuple[Profile, int, tuple[list[int], list[float], list[float]]],
) -> None:
    profile, max_gap, (times, lows, highs) = case
    found = evaluate(profile, max_gap, times, lows, highs)
    assert sorted(found, key=sort_key) == sorted(oracle(profile, max_gap, times, lows, highs, MINUTE), key=sort_key)


@st.composite
def random_profile(draw: st.DrawFn) -> Profile:
    """Profiles the product table never produces: random limits, inclusivity, modes and thresholds."""
    low, high = sorted(draw(st.lists(st.sampled_from([0.0, 2.0, 4.0]), min_size=2, max_size=2)))
    rules = []
    for index in range(draw(st.integers(1, 5))):
        direction = draw(st.sampled_from(Direction))
        bound = high if direction is Direction.HOT else low
        offset = draw(st.sampled_from([0.0, 1.0, 2.0]))
        value = bound + offset if direction is Direction.HOT else bound - offset
        inclusive = offset > 0 and draw(st.booleans())
        mode = draw(st.sampled_from(Mode))
        threshold = draw(st.sampled_from([0, 60, 300, 900, 3600]))
        rules.append(Rule(f"rule{index}", Limit(direction, value, inclusive), mode, threshold))
    return Profile(ProfileName.CHILLED, low, high, tuple(rules))


@given(random_profile(), st.sampled_from([5, 20]), st.data())
@settings(max_examples=300)
def test_random_profiles_match_the_oracle(profile: Profile, gap_minutes: int, data: st.DataObject) -> None:
    times, lows, highs = data.draw(series([-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]))
    max_gap = gap_minutes * MINUTE
    found = evaluate(profile, max_gap, times, lows, highs)
    assert sorted(found, key=sort_key) == sorted(oracle(profile, max_gap, times, lows, highs, MINUTE), key=sort_key)


@given(profile_and_series(), st.lists(st.integers(0, 60), max_size=6), st.booleans())
@settings(max_examples=300)
def test_feeding_in_pieces_with_saved_state_finds_what_one_pass_finds(
    case: tuple[Profile, int, tuple[list[int], list[float], list[float]]], cuts: list[int], through_json: bool
) -> None:
    profile, max_gap, (times, lows, highs) = case
    evaluation = Evaluation(profile, max_gap)
    closed: list[Finding] = []
    start = 0
    for cut in [*sorted(c for c in cuts if c <= len(times)), len(times)]:
        closed += evaluation.feed(times[start:cut], lows[start:cut], highs[start:cut])
        start = max(start, cut)
        if through_json:
            evaluation = Evaluation(profile, max_gap, json.loads(json.dumps(evaluation.state())))
    assert closed + evaluation.ongoing() == evaluate(profile, max_gap, times, lows, highs)


def minutes(*pairs: tuple[int, float]) -> tuple[list[int], list[float], list[float]]:
    """Readings from (minute, °C) pairs."""
    return [m * MINUTE for m, _ in pairs], [c for _, c in pairs], [c for _, c in pairs]


def every(step: int, start: int, end: int, celsius: float) -> list[tuple[int, float]]:
    return [(m, celsius) for m in range(start, end, step)]


def test_three_hours_at_12c_is_a_hot_vaccine_excursion_of_exactly_three_hours() -> None:
    times, lows, highs = minutes(*every(5, 0, 60, 5.0), *every(5, 60, 240, 12.0), *every(5, 240, 300, 5.0))
    [finding] = evaluate(PROFILES["vaccine"], 10 * MINUTE, times, lows, highs)
    assert finding == Finding(
        FindingKind.HOT, 60 * MINUTE, 240 * MINUTE, 180 * MINUTE, 12.0, 12.0, ("above_range", "above_range_total")
    )


def test_a_forty_minute_gap_on_a_five_minute_logger_is_a_data_gap_even_in_range() -> None:
    times, lows, highs = minutes(*every(5, 0, 60, -20.0), *every(5, 100, 160, -20.0))
    [finding] = evaluate(PROFILES["frozen"], 6 * MINUTE, times, lows, highs)
    assert (finding.kind, finding.start_ms, finding.end_ms, finding.rules) == (
        FindingKind.DATA_GAP,
        55 * MINUTE,
        100 * MINUTE,
        ("data_gap",),
    )


def test_a_short_warm_spell_is_tolerated_but_any_thaw_is_not() -> None:
    frozen = PROFILES["frozen"]
    door_open = minutes(*every(5, 0, 60, -20.0), *every(5, 60, 80, -16.0), *every(5, 80, 120, -20.0))
    assert evaluate(frozen, 6 * MINUTE, *door_open) == []
    thaw = minutes(*every(5, 0, 60, -20.0), (60, -12.0), *every(5, 65, 120, -20.0))
    [finding] = evaluate(frozen, 6 * MINUTE, *thaw)
    assert finding.rules == ("thaw",)
    assert (finding.start_ms, finding.duration_ms, finding.high_c) == (60 * MINUTE, 5 * MINUTE, -12.0)


def test_who_alarms_fire_on_their_own_thresholds() -> None:
    vaccine = PROFILES["vaccine"]
    hot_hour = minutes(*every(10, 0, 60, 46.0), (60, 5.0))
    assert evaluate(vaccine, 15 * MINUTE, *hot_hour)[0].rules == ("above_range", "who_heat_45c_1h")
    freeze = minutes(*every(10, 0, 60, -0.5), (60, 5.0))
    assert evaluate(vaccine, 15 * MINUTE, *freeze)[0].rules == ("below_range", "who_freeze_1h")
    # Ten 20-minute spells at 31 °C, an hour apart: each too short on its own, 2 h in all by the sixth (the
    # storage budget), 3 h 20 min in all by the tenth: far from WHO's 10 h at 30 °C.
    spells = [pair for n in range(10) for pair in ((n * 80, 31.0), (n * 80 + 20, 5.0))]
    found = evaluate(vaccine, 90 * MINUTE, *minutes(*spells, (800, 5.0)))
    assert [f.rules for f in found] == [("above_range_total",)] * 5
    assert found[0].start_ms == 5 * 80 * MINUTE
    warm_day = minutes(*every(20, 0, 600, 31.0), (600, 5.0))
    assert "who_heat_30c_10h" in evaluate(vaccine, 30 * MINUTE, *warm_day)[0].rules


def test_freeze_sensitive_vaccines_refuse_any_reading_at_zero() -> None:
    dip = minutes(*every(5, 0, 30, 4.0), (30, 0.0), *every(5, 35, 60, 4.0))
    assert evaluate(PROFILES["vaccine"], 6 * MINUTE, *dip) == []
    [finding] = evaluate(PROFILES["vaccine_freeze_sensitive"], 6 * MINUTE, *dip)
    assert finding.rules == ("frozen_vial",)


def test_an_excursion_still_running_at_the_last_reading_is_ongoing_and_ends_when_the_readings_do() -> None:
    evaluation = Evaluation(PROFILES["vaccine"], 10 * MINUTE)
    assert evaluation.feed(*minutes(*every(5, 0, 30, 5.0), *every(5, 30, 95, 11.0))) == []
    [ongoing] = evaluation.ongoing()
    assert (ongoing.ongoing, ongoing.start_ms, ongoing.end_ms) == (True, 30 * MINUTE, 90 * MINUTE)
    [closed] = evaluation.feed(*minutes((95, 4.0)))
    assert (closed.ongoing, closed.end_ms, closed.duration_ms) == (False, 95 * MINUTE, 65 * MINUTE)
    assert evaluation.ongoing() == []


def test_readings_out_of_time_order_are_refused() -> None:
    evaluation = Evaluation(PROFILES["vaccine"], 10 * MINUTE)
    evaluation.feed(*minutes((0, 5.0), (5, 5.0)))
    with pytest.raises(ValueError, match="out of time order"):
        evaluation.feed(*minutes((5, 5.0)))
