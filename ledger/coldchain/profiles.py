"""Temperature profiles: which excursion rules apply to a product, from its category and storage range.

A profile is the storage range plus rules. Each rule names a limit beyond the range (hot: above, cold: below,
the limit itself included or not) and how long the goods may spend beyond it: consecutively (one stretch) or
cumulatively (all stretches of a log added up). A threshold of zero means any reading beyond the limit.

The numbers, and why they are what they are, are in docs/cold-chain.md; in short:

- **frozen** (imported frozen food, ≤ −18 °C): above the range for 30 min at a stretch or 2 h in all, or any
  reading above −15 °C (the 3 °C of rise allowed while loading).
- **chilled** (e.g. 0–4 °C): above the range for 30 min or 2 h in all; below it for 30 min (chilled goods freeze).
- **vaccine** (2–8 °C): as chilled, plus WHO's shipping-indicator alarms: ≥ 45 °C for 1 h, ≥ 30 °C for 10 h in
  all, ≤ −0.5 °C for 1 h.
- **vaccine_freeze_sensitive**: as vaccine, and any reading at or below 0 °C (frozen vials are spoilt).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from ledger.errors import InvalidInput
from ledger.models import Category

MINUTE: Final = 60
HOUR: Final = 3600


class Direction(StrEnum):
    HOT = "hot"
    COLD = "cold"


class Mode(StrEnum):
    CONSECUTIVE = "consecutive"
    CUMULATIVE = "cumulative"


class ProfileName(StrEnum):
    FROZEN = "frozen"
    CHILLED = "chilled"
    VACCINE = "vaccine"
    VACCINE_FREEZE_SENSITIVE = "vaccine_freeze_sensitive"


@dataclass(frozen=True, slots=True)
class Limit:
    """A temperature the goods must not pass: above it (hot) or below it (cold), itself included or not."""

    direction: Direction
    value_c: float
    inclusive: bool = False

    def passed_by(self, low_c: float, high_c: float) -> bool:
        """Whether a reading whose extremes are ``low_c``..``high_c`` is beyond this limit."""
        if self.direction is Direction.HOT:
            return high_c >= self.value_c if self.inclusive else high_c > self.value_c
        return low_c <= self.value_c if self.inclusive else low_c < self.value_c


@dataclass(frozen=True, slots=True)
class Rule:
    """Beyond ``limit`` for ``threshold_s`` seconds (consecutive or cumulative) is an excursion."""

    name: str
    limit: Limit
    mode: Mode
    threshold_s: int

    @property
    def direction(self) -> Direction:
        return self.limit.direction


@dataclass(frozen=True, slots=True)
class Profile:
    """A storage range and the rules that judge time outside it. Every rule's limit lies beyond the range, so
    every excursion starts with a reading outside the range: the engine follows those stretches only."""

    name: ProfileName
    min_c: float | None
    max_c: float | None
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        for rule in self.rules:
            bound = self.max_c if rule.direction is Direction.HOT else self.min_c
            if bound is None or not _beyond(rule.limit, bound):
                raise ValueError(f"rule {rule.name} of profile {self.name} does not lie beyond the storage range")

    @property
    def key(self) -> str:
        """Names the profile with its range: two products share an evaluation only if this is equal."""
        return f"{self.name.value}:{_bound(self.min_c)}..{_bound(self.max_c)}"

    def bound(self, direction: Direction) -> float | None:
        return self.max_c if direction is Direction.HOT else self.min_c

    def rules_of(self, direction: Direction) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.direction is direction)


def _beyond(limit: Limit, bound: float) -> bool:
    """A limit lies beyond the range when every reading past it is also outside the range."""
    if limit.direction is Direction.HOT:
        return limit.value_c > bound or (limit.value_c == bound and not limit.inclusive)
    return limit.value_c < bound or (limit.value_c == bound and not limit.inclusive)


def _bound(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


FROZEN_MAX_C: Final = -18.0
CHILLED_RANGE: Final = (0.0, 4.0)
VACCINE_RANGE: Final = (2.0, 8.0)
# Frozen goods may warm by this much while loading and unloading; beyond it they start to thaw.
FROZEN_LOADING_RISE_C: Final = 3.0


def _range_rules(min_c: float | None, max_c: float) -> list[Rule]:
    rules = [
        Rule("above_range", Limit(Direction.HOT, max_c), Mode.CONSECUTIVE, 30 * MINUTE),
        Rule("above_range_total", Limit(Direction.HOT, max_c), Mode.CUMULATIVE, 2 * HOUR),
    ]
    if min_c is not None:
        rules.append(Rule("below_range", Limit(Direction.COLD, min_c), Mode.CONSECUTIVE, 30 * MINUTE))
    return rules


# WHO's electronic shipping indicator alarms for vaccines (WHO PQS E006/IN05).
WHO_SHIPPING_ALARMS: Final = (
    Rule("who_heat_45c_1h", Limit(Direction.HOT, 45.0, inclusive=True), Mode.CONSECUTIVE, HOUR),
    Rule("who_heat_30c_10h", Limit(Direction.HOT, 30.0, inclusive=True), Mode.CUMULATIVE, 10 * HOUR),
    Rule("who_freeze_1h", Limit(Direction.COLD, -0.5, inclusive=True), Mode.CONSECUTIVE, HOUR),
)
FREEZING: Final = Rule("frozen_vial", Limit(Direction.COLD, 0.0, inclusive=True), Mode.CONSECUTIVE, 0)


def frozen(max_c: float = FROZEN_MAX_C, min_c: float | None = None) -> Profile:
    thaw = Rule("thaw", Limit(Direction.HOT, max_c + FROZEN_LOADING_RISE_C), Mode.CONSECUTIVE, 0)
    return Profile(ProfileName.FROZEN, min_c, max_c, (*_range_rules(min_c, max_c), thaw))


def chilled(min_c: float = CHILLED_RANGE[0], max_c: float = CHILLED_RANGE[1]) -> Profile:
    return Profile(ProfileName.CHILLED, min_c, max_c, tuple(_range_rules(min_c, max_c)))


def vaccine(min_c: float = VACCINE_RANGE[0], max_c: float = VACCINE_RANGE[1], *, freeze_sensitive: bool) -> Profile:
    """A 2-8 °C vaccine with WHO's alarms. A vaccine stored frozen keeps only the alarms beyond its own range
    (freezing is its storage, not an excursion)."""
    extra = [*WHO_SHIPPING_ALARMS, FREEZING] if freeze_sensitive else list(WHO_SHIPPING_ALARMS)
    bounds = {Direction.HOT: max_c, Direction.COLD: min_c}
    rules = [*_range_rules(min_c, max_c), *(r for r in extra if _beyond(r.limit, bounds[r.direction]))]
    name = ProfileName.VACCINE_FREEZE_SENSITIVE if freeze_sensitive else ProfileName.VACCINE
    return Profile(name, min_c, max_c, tuple(rules))


def profile_for(
    category: Category,
    storage_min_c: float | None,
    storage_max_c: float | None,
    *,
    chosen: ProfileName | None = None,
) -> Profile | None:
    """The profile of a product: ``chosen`` when its owner set one, else from its category and storage range.
    Farm produce without a storage range has none (it is kept at ambient temperature): no rules apply."""
    if storage_min_c is not None and storage_max_c is not None and storage_min_c > storage_max_c:
        raise InvalidInput(f"storage range {storage_min_c}..{storage_max_c} °C is empty")
    name = chosen or _default_name(category, storage_max_c)
    if name is None:
        return None
    match name:
        case ProfileName.FROZEN:
            return frozen(_or(storage_max_c, FROZEN_MAX_C), storage_min_c)
        case ProfileName.CHILLED:
            return chilled(_or(storage_min_c, CHILLED_RANGE[0]), _or(storage_max_c, CHILLED_RANGE[1]))
        case ProfileName.VACCINE | ProfileName.VACCINE_FREEZE_SENSITIVE:
            return vaccine(
                _or(storage_min_c, VACCINE_RANGE[0]),
                _or(storage_max_c, VACCINE_RANGE[1]),
                freeze_sensitive=name is ProfileName.VACCINE_FREEZE_SENSITIVE,
            )


def _default_name(category: Category, storage_max_c: float | None) -> ProfileName | None:
    if category is Category.VACCINE:
        return ProfileName.VACCINE
    if category is Category.COLD_CHAIN:
        return ProfileName.FROZEN if storage_max_c is None or storage_max_c < 0 else ProfileName.CHILLED
    return ProfileName.CHILLED if storage_max_c is not None else None


def _or(value: float | None, default: float) -> float:
    return default if value is None else value
