"""Refusals of the cold chain, in lotline's one error tree (``ledger.errors``):

NotFound
├── UnknownLocation
└── UnknownExcursion
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


class UnknownLocation(NotFound):
    pass


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
