"""Refusals of the cold chain, in lotline's one error tree (``ledger.errors``):

NotFound
└── UnknownExcursion                  (a location is the ledger's: ``ledger.errors.UnknownLocation``)
Forbidden
└── NotRecorder                       readings for goods or places that are not the organisation's
RuleViolation
├── ExcursionOngoing                  an excursion still going on cannot be released
├── ExcursionClosed                   an excursion already released or destroyed
└── GoodsUnavailable
    └── VialMonitorSpent              a vial monitor at stage 3 or 4: do not use
"""

from __future__ import annotations

from ledger.errors import Forbidden, GoodsUnavailable, NotFound, RuleViolation
from ledger.errors import UnknownLocation as UnknownLocation


class UnknownExcursion(NotFound):
    pass


class NotRecorder(Forbidden):
    pass


class ExcursionOngoing(RuleViolation):
    pass


class ExcursionClosed(RuleViolation):
    pass


class VialMonitorSpent(GoodsUnavailable):
    pass
