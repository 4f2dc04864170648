"""The query parameters whose name carries a type: ``EQ_bizTransaction_<type>``, ``EQ_source_<type>`` and
``EQ_destination_<type>`` (EPCIS 2.0 §8.2.7.1): an event matches when one entry of the list has that type (in any
CBV spelling: ``po``, ``https://ref.gs1.org/cbv/BTT-po``, ``urn:epcglobal:cbv:btt:po``) and one of the values."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

_PARAM: Final = re.compile(r"EQ_(bizTransaction|source|destination)_(.+)")
_LISTS: Final = {"bizTransaction": "bizTransactionList", "source": "sourceList", "destination": "destinationList"}
_TYPE_FORMS: Final = {
    "bizTransaction": ("https://ref.gs1.org/cbv/BTT-", "urn:epcglobal:cbv:btt:"),
    "source": ("https://ref.gs1.org/cbv/SDT-", "urn:epcglobal:cbv:sdt:"),
    "destination": ("https://ref.gs1.org/cbv/SDT-", "urn:epcglobal:cbv:sdt:"),
}


@dataclass(frozen=True, slots=True)
class TypedQuery:
    """(field, bare type, values) per parameter; all must match (each one an OR over its values)."""

    wanted: tuple[tuple[str, str, frozenset[str]], ...] = ()

    def matches(self, document: Mapping[str, Any]) -> bool:
        return all(_has(document, field, kind, values) for field, kind, values in self.wanted)


def parse_typed(params: Iterable[tuple[str, str]]) -> TypedQuery:
    wanted = []
    for name, raw in params:
        if match := _PARAM.fullmatch(name):
            field = match[1]
            wanted.append((field, _bare(field, match[2]), frozenset(v for v in raw.split("|") if v)))
    return TypedQuery(tuple(wanted))


def _bare(field: str, kind: str) -> str:
    for prefix in _TYPE_FORMS[field]:
        kind = kind.removeprefix(prefix)
    return kind


def _has(document: Mapping[str, Any], field: str, kind: str, values: frozenset[str]) -> bool:
    entries = [
        e for e in document.get(_LISTS[field]) or () if isinstance(e, Mapping) and isinstance(e.get("type"), str)
    ]
    return any(_bare(field, entry["type"]) == kind and entry.get(field) in values for entry in entries)
