"""The EPCs an event names, and in which role: what ``event_epcs`` indexes, so an item's journey is found by its
EPC with one keyed select instead of decoding every event document of its batch (docs/data-model.md).

The roles are the EPCIS 2.0 fields they come from: ``list`` (``epcList``), ``child`` (``childEPCs``), ``parent``
(``parentID``), ``input`` (``inputEPCList``) and ``output`` (``outputEPCList``).
"""

from __future__ import annotations

from typing import Any, Final

ROLES: Final = (("epcList", "list"), ("childEPCs", "child"), ("inputEPCList", "input"), ("outputEPCList", "output"))


def named_epcs(document: dict[str, Any]) -> list[tuple[str, str]]:
    """(EPC, role) for every EPC the event document names, each pair once."""
    out = {(epc, role) for field, role in ROLES for epc in document.get(field) or ()}
    if parent := document.get("parentID"):
        out.add((parent, "parent"))
    return sorted(out)
