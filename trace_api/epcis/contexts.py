"""The ``@context`` of a query answer, chosen so that every event in it re-hashes to its id.

A third party checks an event by running GS1's reference generator over the answer. The reference reads only the
document's ``@context``: it expands bare CBV names under the document's remote context, and swaps every
``prefix:`` it finds (in keys and in values) for the document's definition of that prefix. An event therefore
keeps its id in an answer only if the answer has its remote context (standard or simple) and, for each prefix the
event uses, the very definition its own document gave, or none if its document had none. An inline ``@context`` on
the event would not help: the reference hashes it as if it were a field.

So an answer carries exactly the prefixes its events use, each as its event's document defined it, and it holds
only events that agree: the page ends before an event that uses a prefix differently from one already on it, or
needs the other remote context; that event opens the next page. (Before, the answer merged every event's prefixes,
and an event using a prefix its own document never declared was hashed under another event's definition.)
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ledger.event_hash import STANDARD_CONTEXT


class AnswerContext:
    """The remote context and prefix definitions of one answer, grown event by event while they agree."""

    def __init__(self) -> None:
        self.remote: tuple[str, ...] | None = None
        self._needed: dict[str, str | None] = {}  # prefix -> the definition some event needs (None: undefined)

    def admit(self, event: Mapping[str, Any]) -> bool:
        """Take ``event`` (as stored, with its document's ``@context`` if that was not the bare standard one) into
        the answer if it agrees with the events already in; say whether it did."""
        remote, defined = _split(event.get("@context"))
        needs = {prefix: defined.get(prefix) for prefix in _prefixes_used(event)}
        if self.remote is not None and remote != self.remote:
            return False
        if any(prefix in self._needed and self._needed[prefix] != iri for prefix, iri in needs.items()):
            return False
        self.remote = remote
        self._needed.update(needs)
        return True

    def context(self) -> str | list[Any]:
        remote = list(self.remote or (STANDARD_CONTEXT,))
        prefixes = {prefix: iri for prefix, iri in sorted(self._needed.items()) if iri is not None}
        if not prefixes:
            return remote[0] if len(remote) == 1 else remote
        return [*remote, prefixes]


def without_context(event: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in event.items() if key != "@context"}


def _split(context: Any) -> tuple[tuple[str, ...], dict[str, str]]:
    """(remote contexts, prefix definitions) of a stored event's context; none means the standard context alone.
    Expanded term definitions are left out: the hash ignores them (see ledger.event_hash)."""
    parts = context if isinstance(context, list) else [context] if context is not None else []
    remote = tuple(part for part in parts if isinstance(part, str)) or (STANDARD_CONTEXT,)
    defined = {
        name: iri
        for part in parts
        if isinstance(part, dict)
        for name, iri in part.items()
        if isinstance(iri, str) and not name.startswith("@")
    }
    return remote, defined


def _prefixes_used(event: Mapping[str, Any]) -> set[str]:
    """Every ``prefix`` of a ``prefix:rest`` key or string value anywhere in the event (``urn`` and ``https``
    included: a document that defined them would change the event's hash)."""
    return {text.partition(":")[0] for text in _texts(without_context(event)) if ":" in text}


def _texts(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield key
            yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)
