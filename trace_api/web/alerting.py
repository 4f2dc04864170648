"""Recording what a refused request says about the goods, in a transaction of its own (docs/alerts.md).

A refused scan answers a clean 4xx that wrote nothing: its transaction is rolled back first, and the alert is
written after, in a new session that commits on its own. An alert that cannot be written is logged, never turned
into the answer: the caller's refusal is what it asked about.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ledger import errors
from ledger.alert_signals import refusal_signals
from ledger.alerts import raise_alert
from ledger.models import Organisation, utcnow
from trace_api.state import AppState

logger = logging.getLogger(__name__)

# The refusals that can mean a copied code or goods outside their chain; the others are mistakes (a typo, a
# shipment not yet received) and raise nothing.
TELLING: tuple[type[errors.LotlineError], ...] = (
    errors.AlreadyConsumed,
    errors.NotHolder,
    errors.QuantityExceeded,
    errors.UnknownCode,
)


def record_refusal(
    state: AppState,
    request_session: Session,
    org_id: int,
    error: errors.LotlineError,
    *,
    location_id: int | None,
    at: datetime | None,
) -> None:
    """Roll the request back, then raise the alerts ``error`` calls for in a transaction of their own."""
    if not isinstance(error, TELLING):
        return
    request_session.rollback()  # on SQLite the request holds the write lock until it ends
    try:
        with state.sessions() as session:
            org = session.get(Organisation, org_id)
            assert org is not None
            for signal in refusal_signals(session, org, error, location_id=location_id, at=at or utcnow()):
                raise_alert(session, state.signer, signal)
            session.commit()
    except (SQLAlchemyError, errors.LotlineError):
        logger.exception("the alert for a refused scan (%s) could not be recorded", error.reason)
