"""The little of JSON-LD the event hash needs: which IRIs a value of an EPCIS event expands to under its context.

GS1's reference hash generator JSON-LD-expands a document before hashing it, and a bare CBV name (``shipping``)
is hashed as the vocabulary IRI it expands to. :mod:`ledger.event_hash` finds the same IRIs by walking the event
with the term definitions of its ``@context`` (the EPCIS 2.0 one, shipped in ``ledger/schemas``, plus a
document's own prefixes), without a JSON-LD processor.

GS1 publishes a second, "simple" context (``epcis-context-simple.jsonld``, also shipped in ``ledger/schemas``) that
names CBV values through ``@vocab`` rather than one term per value: ``bizStep`` has the scoped vocabulary
``https://ref.gs1.org/cbv/BizStep-``, so ``shipping`` expands to the same IRI as under the standard context.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib.resources import files
from typing import Any, Final

VOCABULARIES: Final = ("https://ref.gs1.org/cbv", "https://gs1.org/voc")


class Scope:
    """An active JSON-LD context, reduced to the term definitions that decide how a value expands.

    The reference JSON-LD-expands the document and then swaps every bare string that ends one of the expanded
    CBV/GS1-vocabulary IRIs for that IRI. Walking the event with the EPCIS context finds the same IRIs.
    """

    def __init__(self, terms: dict[str, Any], vocab: str | None = None) -> None:
        self.terms = terms
        self.vocab = vocab  # the active @vocab: undefined keys are kept, bare values expand against it
        self._plans: dict[str, tuple[str, Scope, Any]] = {}

    def _plan(self, key: str) -> tuple[str, Scope, Any]:
        """How the value of ``key`` expands: as an @id, as an @type, as a property (with its coercion), or not."""
        if key not in self._plans:
            term = self.terms.get(key)
            keyword = key if key.startswith("@") else term if isinstance(term, str) and term[:1] == "@" else None
            if keyword in ("@id", "@type"):
                self._plans[key] = (keyword, self, None)
            elif isinstance(term, dict):
                local = term.get("@context")
                self._plans[key] = (
                    "property",
                    Scope(merge_terms(self.terms, local), local_vocab(local, self.vocab)) if local else self,
                    term.get("@type"),
                )
            elif term is not None or ":" in key or self.vocab is not None:
                self._plans[key] = ("property", self, None)
            else:  # JSON-LD drops undefined, unprefixed keys when there is no @vocab
                self._plans[key] = ("dropped", self, None)
        return self._plans[key]

    def expand(self, value: str, *, vocab: bool) -> str:
        if vocab and value in self.terms:
            target = self.terms[value]
            iri = target if isinstance(target, str) else target.get("@id") if isinstance(target, dict) else None
            return self.expand(iri, vocab=False) if isinstance(iri, str) and not iri.startswith("@") else value
        prefix, colon, suffix = value.partition(":")
        target = self.terms.get(prefix)
        if colon and not suffix.startswith("//") and isinstance(target, str) and not target.startswith("@"):
            return self.expand(target, vocab=False) + suffix
        if vocab and not colon and self.vocab is not None:
            return self.vocab + value
        return value

    def vocabulary(self, node: Mapping[str, Any], found: set[str]) -> set[str]:
        """Add to ``found`` the CBV / GS1 Web vocabulary IRIs that JSON-LD expansion of ``node`` yields."""
        for key, value in node.items():
            kind, scope, coerce = self._plan(key)
            if kind == "dropped":
                continue
            for item in value if isinstance(value, list) else (value,):
                if isinstance(item, str):
                    if kind == "@type" or coerce == "@vocab":
                        item = scope.expand(item, vocab=True)
                    elif kind == "@id" or coerce == "@id":
                        item = scope.expand(item, vocab=False)
                    if item.startswith(VOCABULARIES):
                        found.add(item)
                elif isinstance(item, Mapping) and kind == "property":
                    scope.vocabulary(item, found)
                elif isinstance(item, list):
                    scope.vocabulary({key: item}, found)
        return found


def merge_terms(terms: dict[str, Any], local: Any) -> dict[str, Any]:
    """The terms of a scope with a local context's definitions over them (JSON-LD keywords left out)."""
    merged = dict(terms)
    for part in local if isinstance(local, list) else [local]:
        merged.update({k: v for k, v in part.items() if not k.startswith("@")})
    return merged


def local_vocab(local: Any, outer: str | None) -> str | None:
    """The @vocab in force inside a local context: its own, else the one around it."""
    for part in reversed(local if isinstance(local, list) else [local]):
        if isinstance(part, dict) and "@vocab" in part:
            vocab = part["@vocab"]
            return vocab if isinstance(vocab, str) else None
    return outer


def _context(name: str) -> Any:
    return json.loads(files("ledger.schemas").joinpath(name).read_text())["@context"]


EPCIS_TERMS: Final[dict[str, Any]] = merge_terms({}, _context("epcis-context.jsonld"))
SIMPLE_TERMS: Final[dict[str, Any]] = merge_terms({}, _context("epcis-context-simple.jsonld"))
SIMPLE_VOCAB: Final = local_vocab(_context("epcis-context-simple.jsonld"), None)
