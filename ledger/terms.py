"""How lotline names things inside EPCIS events: EPCs, classes, parties and locations.

EPCs use the canonical GS1 Digital Link form on id.gs1.org (what the CBV 2.0 hash canonicalises to anyway), so
the events we store hash the same whether a partner sends Digital Links or EPC URNs. Parties and locations without a
GLN get a lotline URN built from the unified social credit code or the location's id.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Final
from urllib.parse import quote, unquote

from ledger.identifiers import DigitalLink

CBV_SDT = "https://ref.gs1.org/cbv/SDT-"
_URI_SCHEME: Final = re.compile(r"^(urn|https?):[^\s]+$")
UNIT_COUNTABLE = "EA"


def item_epc(gtin: str, serial: str) -> str:
    return DigitalLink(gtin=gtin, lot=None, serial=serial, sscc=None).canonical_epc()


def sscc_epc(sscc: str) -> str:
    return DigitalLink(gtin=None, lot=None, serial=None, sscc=sscc).canonical_epc()


def lot_class(gtin: str, lot: str) -> str:
    return DigitalLink(gtin=gtin, lot=lot, serial=None, sscc=None).canonical_class()


def quantity_element(gtin: str, lot: str, quantity: int, unit: str) -> dict[str, Any]:
    """A quantityList entry; countable units carry no ``uom`` (EPCIS: quantity then counts instances)."""
    element: dict[str, Any] = {"epcClass": lot_class(gtin, lot), "quantity": quantity}
    if unit != UNIT_COUNTABLE:
        element["uom"] = unit
    return element


def party_id(uscc: str, gln: str | None = None) -> str:
    return f"https://id.gs1.org/417/{gln}" if gln else f"urn:lotline:party:uscc:{uscc}"


def location_uri(location_id: int, gln: str | None = None) -> str:
    return f"https://id.gs1.org/414/{gln}" if gln else f"urn:lotline:location:{location_id}"


def device_uri(owner_uscc: str, device_id: str) -> str:
    """A logger as EPCIS names a sensor device (a URI): its own id when that is a URI already (a GIAI, say), else
    a lotline URN under its owner, since serial numbers are only unique per maker."""
    if _URI_SCHEME.match(device_id):
        return device_id
    return f"urn:lotline:device:{owner_uscc}:{quote(device_id, safe='')}"


def device_id(owner_uscc: str, uri: str) -> str:
    """A device URI back to the id its owner knows the logger by (its own URI, when it is not one of ours)."""
    prefix = f"urn:lotline:device:{owner_uscc}:"
    return unquote(uri.removeprefix(prefix)) if uri.startswith(prefix) else uri


def owning_party(uscc: str, gln: str | None = None) -> dict[str, str]:
    return {"type": "owning_party", "id": party_id(uscc, gln)}


def lot_master_data(
    *, expiry_date: date | None, production_date: date | None, lot: str | None = None
) -> dict[str, Any] | None:
    """ILMD (instance/lot master data) carried by a commissioning event, in the CBV ``cbvmda`` vocabulary. Item
    codes' commissioning names their lot (``cbvmda:lotNumber``): an item EPC carries no lot, so an export that
    holds only the item events still ties each item to its lot."""
    data: dict[str, Any] = {}
    if lot is not None:
        data["cbvmda:lotNumber"] = lot
    if expiry_date is not None:
        data["cbvmda:itemExpirationDate"] = expiry_date.isoformat()
    if production_date is not None:
        data["cbvmda:productionDate"] = production_date.isoformat()
    return data or None
