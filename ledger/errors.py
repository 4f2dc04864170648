"""The one error tree of lotline.

Every refusal anywhere in lotline is a subclass of :class:`LotlineError`. Errors carry no HTTP status:
``trace_api`` maps them (the worker and the CLI raise the same errors). The class name is the machine-readable
reason returned to clients (``{"error": "QuantityExceeded", "detail": ...}``).

    LotlineError
    ├── InvalidInput                      malformed data; nothing was looked up
    │   ├── InvalidIdentifier
    │   │   ├── InvalidGTIN
    │   │   ├── InvalidSSCC
    │   │   ├── InvalidLot
    │   │   ├── InvalidSerial
    │   │   ├── InvalidDigitalLink
    │   │   ├── InvalidUSCC
    │   │   ├── InvalidDrugTraceCode
    │   │   └── InvalidGLN
    │   ├── InvalidQuantity
    │   ├── InvalidEvent                  not a valid EPCIS 2.0 / CBV 2.0 event
    │   ├── PayloadTooLarge               an upload over the configured limit
    │   ├── UnsupportedMediaType          an upload of a type we do not keep
    │   └── InvalidSignature
    │       ├── SignatureExpired
    │       ├── SignatureReplayed
    │       └── SignerMismatch
    ├── NotFound
    │   ├── UnknownOrganisation
    │   ├── UnknownProduct
    │   ├── UnknownBatch
    │   ├── UnknownCode                   never issued: a forged code
    │   │   └── CodeNotGenuine            issued, but the ?s= signature is missing, altered or foreign
    │   ├── UnknownShipment
    │   ├── UnknownEvent
    │   └── UnknownLocation
    ├── Conflict
    │   ├── AlreadyExists
    │   └── IdempotencyKeyReused          same key, different request
    ├── Forbidden
    │   ├── NotAuthenticated
    │   ├── RoleRequired
    │   └── NotOwner                      another organisation's GTIN or location
    └── RuleViolation                     the ledger refuses the event; nothing is written
        ├── NotHolder                     only the current holder moves goods
        ├── ShipmentMismatch              a receive must match a shipment to the receiver
        ├── QuantityExceeded              nobody ships or sells more than they hold
        ├── GoodsUnavailable
        │   ├── RecalledGoods
        │   ├── HeldGoods                 excursion or failed inspection
        │   └── ExpiredGoods
        ├── AlreadyConsumed               an item is sold / administered / destroyed once
        └── InvalidTransition             e.g. unpacking something that is not packed

The cold chain's refusals sit in this tree beside their feature, in ``ledger.coldchain.errors``: UnknownExcursion
(NotFound), NotRecorder (Forbidden), ExcursionOngoing and ExcursionClosed (RuleViolation),
VialMonitorSpent (GoodsUnavailable).
"""

from __future__ import annotations

from typing import Any


class LotlineError(Exception):
    """Root of every lotline refusal. ``detail`` is a human sentence; ``context`` is machine-readable."""

    def __init__(self, detail: str, **context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.context = context

    @property
    def reason(self) -> str:
        return type(self).__name__

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.reason, "detail": self.detail}
        if self.context:
            body["context"] = self.context
        return body


class InvalidInput(LotlineError):
    pass


class InvalidIdentifier(InvalidInput):
    pass


class InvalidGTIN(InvalidIdentifier):
    pass


class InvalidSSCC(InvalidIdentifier):
    pass


class InvalidLot(InvalidIdentifier):
    pass


class InvalidSerial(InvalidIdentifier):
    pass


class InvalidDigitalLink(InvalidIdentifier):
    pass


class InvalidUSCC(InvalidIdentifier):
    pass


class InvalidDrugTraceCode(InvalidIdentifier):
    pass


class InvalidGLN(InvalidIdentifier):
    pass


class InvalidQuantity(InvalidInput):
    pass


class InvalidEvent(InvalidInput):
    pass


class PayloadTooLarge(InvalidInput):
    pass


class UnsupportedMediaType(InvalidInput):
    pass


class InvalidSignature(InvalidInput):
    pass


class SignatureExpired(InvalidSignature):
    pass


class SignatureReplayed(InvalidSignature):
    pass


class SignerMismatch(InvalidSignature):
    pass


class NotFound(LotlineError):
    pass


class UnknownOrganisation(NotFound):
    pass


class UnknownProduct(NotFound):
    pass


class UnknownBatch(NotFound):
    pass


class UnknownCode(NotFound):
    pass


class CodeNotGenuine(UnknownCode):
    """A code whose serial exists but whose signature does not vouch for it: a copied or made-up label."""


class UnknownShipment(NotFound):
    pass


class UnknownEvent(NotFound):
    pass


class UnknownLocation(NotFound):
    pass


class Conflict(LotlineError):
    pass


class AlreadyExists(Conflict):
    pass


class IdempotencyKeyReused(Conflict):
    pass


class Forbidden(LotlineError):
    pass


class NotAuthenticated(Forbidden):
    pass


class RoleRequired(Forbidden):
    pass


class NotOwner(Forbidden):
    """A GTIN belongs to the organisation that registered its product, a location to the organisation that
    registered it: nobody else registers batches under the one or records events at the other."""


class RuleViolation(LotlineError):
    pass


class NotHolder(RuleViolation):
    pass


class ShipmentMismatch(RuleViolation):
    pass


class QuantityExceeded(RuleViolation):
    pass


class GoodsUnavailable(RuleViolation):
    pass


class RecalledGoods(GoodsUnavailable):
    pass


class HeldGoods(GoodsUnavailable):
    pass


class ExpiredGoods(GoodsUnavailable):
    pass


class AlreadyConsumed(RuleViolation):
    pass


class InvalidTransition(RuleViolation):
    pass
