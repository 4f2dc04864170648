"""Which language a page speaks, and its words: zh-CN by default, en on request.

The choice is, in order: ``?lang=`` (a language switch link), the ``lang`` cookie (that switch remembered),
then the browser's ``Accept-Language``. A phone set to English that scans a code gets English without a tap;
everyone else gets Chinese, the language of the labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final
from zoneinfo import ZoneInfo

from fastapi import Request

from trace_api.pages import catalogue, regulator_words

ZH: Final = "zh-CN"
EN: Final = "en"
LANGUAGES: Final = (ZH, EN)
DEFAULT: Final = ZH
COOKIE: Final = "lang"
# Consumers and clerks read times where the goods are; the ledger stores UTC.
LOCAL_TZ: Final = ZoneInfo("Asia/Shanghai")

_WORDS: Final = {ZH: {**catalogue.ZH, **regulator_words.ZH}, EN: {**catalogue.EN, **regulator_words.EN}}


def normalise(tag: str | None) -> str | None:
    """``zh``, ``zh-cn``, ``zh-Hans-CN`` → zh-CN; ``en``, ``en-GB`` → en; anything else → None."""
    if not tag:
        return None
    primary = tag.strip().lower().split("-")[0]
    return {"zh": ZH, "en": EN}.get(primary)


def from_accept_language(header: str) -> str | None:
    """The supported language the browser ranks highest (RFC 9110 q-values), or None."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        language = normalise(tag)
        if language is not None and quality > 0:
            ranked.append((-quality, position, language))
    return min(ranked)[2] if ranked else None


def negotiate(request: Request) -> tuple[str, bool]:
    """The page's language, and whether it was chosen explicitly now (so the caller remembers it in a cookie)."""
    chosen = normalise(request.query_params.get("lang"))
    if chosen is not None:
        return chosen, True
    remembered = normalise(request.cookies.get(COOKIE))
    if remembered is not None:
        return remembered, False
    return from_accept_language(request.headers.get("accept-language", "")) or DEFAULT, False


@dataclass(frozen=True)
class Words:
    """The words of one language, as the templates use them."""

    lang: str

    @property
    def other(self) -> str:
        return EN if self.lang == ZH else ZH

    def has(self, key: str) -> bool:
        return key in _WORDS[self.lang]

    def __call__(self, key: str, **values: object) -> str:
        text = _WORDS[self.lang][key]
        return text.format(**values) if values else text

    def _pick(self, table: dict[str, tuple[str, str]], key: str | None) -> str:
        if key is None:
            return ""
        pair = table.get(key)
        if pair is None:
            return key
        return pair[0] if self.lang == ZH else pair[1]

    def step(self, biz_step: str | None) -> str:
        return self._pick(catalogue.STEPS, biz_step)

    def disposition(self, disposition: str | None) -> str:
        # Only dispositions that tell a consumer something (a failed inspection, a recall) are worded; the
        # routine ones ("active", "in_progress") would be noise.
        return self._pick(catalogue.DISPOSITIONS, disposition) if disposition in catalogue.DISPOSITIONS else ""

    def role(self, role: str) -> str:
        return self._pick(catalogue.ROLES, role)

    def roles(self, roles: list[str]) -> str:
        return ("、" if self.lang == ZH else ", ").join(self.role(r) for r in roles)

    def category(self, category: str) -> str:
        return self._pick(catalogue.CATEGORIES, category)

    def field(self, name: str) -> str:
        return self._pick(catalogue.FIELDS, name)

    def document(self, kind: str) -> str:
        return self._pick(catalogue.DOCUMENTS, kind)

    def country(self, code: str) -> str:
        return self._pick(catalogue.COUNTRIES, code.upper())

    def region(self, region_code: str | None) -> str:
        """A 6-digit division code as its province, with the code for the curious: ``浙江省 · 330106``."""
        if not region_code:
            return ""
        province = catalogue.PROVINCES.get(region_code[:2])
        if province is None:
            return region_code
        return f"{province[0] if self.lang == ZH else province[1]} · {region_code}"

    def value(self, name: str, value: object) -> str:
        """A declared attribute as a reader wants it: countries named, test results worded."""
        text = str(value)
        if name == "origin_country":
            return self.country(text)
        if name in ("nucleic_acid_result", "rapid_test_result") and f"value.{text}" in _WORDS[self.lang]:
            return self(f"value.{text}")
        return text

    def storage(self, low: float | None, high: float | None) -> str:
        if low is not None and high is not None:
            return self("value.range", low=_degrees(low), high=_degrees(high))
        if high is not None:
            return self("value.max", high=_degrees(high))
        if low is not None:
            return self("value.min", low=_degrees(low))
        return ""


def local_time(iso: str) -> str:
    """An ISO timestamp from the ledger as ``2026-05-01 14:03`` in Asia/Shanghai (naive ones are UTC)."""
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def _degrees(value: float) -> str:
    return f"{value:g}"
