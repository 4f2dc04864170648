"""Which language a page speaks, and its words: zh-CN by default, en on request.

The choice is, in order: ``?lang=`` (a language switch link), the ``lang`` cookie (that switch remembered),
then the browser's ``Accept-Language``. A phone set to English that scans a code gets English without a tap;
everyone else gets Chinese, the language of the labels.

The words are data, not code: ``words.toml`` here (the frame, the menu, refusals, the ledger's vocabulary) and one
``words.toml`` per feature with pages. Each key carries its zh-CN and en words side by side; a file is read once,
when a feature's pages are set up, and an entry without both languages (or a key defined twice) stops the app
from starting rather than showing a raw key on a page.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from fastapi import Request

from ledger import regions

ZH: Final = "zh-CN"
EN: Final = "en"
LANGUAGES: Final = (ZH, EN)
DEFAULT: Final = ZH
COOKIE: Final = "lang"
# Consumers and clerks read times where the goods are; the ledger stores UTC.
LOCAL_TZ: Final = ZoneInfo("Asia/Shanghai")
SHARED_WORDS: Final = Path(__file__).parent / "words.toml"


def read_words(path: Path) -> dict[str, dict[str, str]]:
    """One words file as ``{key: {language: words}}``; an entry must have words in every language, and no other."""
    with path.open("rb") as file:
        return dict(_entries(tomllib.load(file), path, ""))


def _entries(table: Mapping[str, Any], path: Path, prefix: str) -> Iterator[tuple[str, dict[str, str]]]:
    for name, value in table.items():
        key = prefix + name
        if not isinstance(value, dict):
            raise ValueError(f"{path}: {key} should be a table of words by language")
        if not set(value) & set(LANGUAGES):
            yield from _entries(value, path, f"{key}.")
        elif set(value) != set(LANGUAGES) or not all(isinstance(text, str) and text for text in value.values()):
            raise ValueError(f"{path}: {key} needs words in exactly {' and '.join(LANGUAGES)}")
        else:
            yield key, value


def catalogue(*paths: Path) -> dict[str, dict[str, str]]:
    """The words of several files by language, ``{language: {key: words}}``; a key may be defined only once."""
    merged: dict[str, dict[str, str]] = {}
    for path in paths:
        for key, words in read_words(path).items():
            if key in merged:
                raise ValueError(f"{path}: {key} is already defined in another words file")
            merged[key] = words
    return {lang: {key: words[lang] for key, words in merged.items()} for lang in LANGUAGES}


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
    """The words of one language, as the templates use them: ``t("area.key", value=…)``, and the ledger's terms
    (``t.step("shipping")``) worded where the vocabulary has them, shown as they are where it has not."""

    lang: str
    words: Mapping[str, str]

    @property
    def other(self) -> str:
        return EN if self.lang == ZH else ZH

    def has(self, key: str) -> bool:
        return key in self.words

    def __call__(self, key: str, **values: object) -> str:
        text = self.words[key]
        return text.format(**values) if values else text

    def _term(self, area: str, term: str | None) -> str:
        if term is None:
            return ""
        return self.words.get(f"{area}.{term}", term)

    def step(self, biz_step: str | None) -> str:
        return self._term("step", biz_step)

    def disposition(self, disposition: str | None) -> str:
        # Only dispositions that tell a consumer something (a failed inspection, a recall) are worded; the
        # routine ones ("active", "in_progress") would be noise.
        return self.words.get(f"disposition.{disposition}", "")

    def role(self, role: str) -> str:
        return self._term("role", role)

    def roles(self, roles: list[str]) -> str:
        return ("、" if self.lang == ZH else ", ").join(self.role(r) for r in roles)

    def category(self, category: str) -> str:
        return self._term("category", category)

    def field(self, name: str) -> str:
        return self._term("field", name)

    def document(self, kind: str) -> str:
        return self._term("document", kind)

    def country(self, code: str) -> str:
        return self._term("country", code.upper())

    def region(self, region_code: str | None) -> str:
        """A 6-digit division code as its names (``浙江省杭州市西湖区``). In English the province is worded and
        the city and county keep the names on their signs (``杭州市西湖区, Zhejiang``). A code the table of
        divisions does not know is shown as it is."""
        found = regions.region(region_code)
        if found is None:
            return region_code or ""
        if self.lang == ZH:
            return found.name
        province = self.words.get(f"province.{found.code[:2]}", found.province)
        local = "".join(found.parts[1:])
        return f"{local}, {province}" if local else province

    def value(self, name: str, value: object) -> str:
        """A declared attribute as a reader wants it: countries named, test results worded."""
        text = str(value)
        if name == "origin_country":
            return self.country(text)
        if name in ("nucleic_acid_result", "rapid_test_result") and self.has(f"value.{text}"):
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


def local_time(moment: str | datetime) -> str:
    """A moment from the ledger (a datetime, or its ISO text) as ``2026-05-01 14:03`` in Asia/Shanghai; a naive
    one is UTC."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M")


def _degrees(value: float) -> str:
    return f"{value:g}"
