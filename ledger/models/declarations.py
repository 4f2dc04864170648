"""Error declarations: what an organisation said was wrong with an event already in the ledger.

EPCIS 2.0 declares an event erroneous by capturing it again with an ``errorDeclaration`` (declaration time,
reason, corrective event ids). The CBV 2.0 hash ignores that field, so the declaration has the original's id: it
is kept here, beside the event and outside the hashed document, rather than as a second event (see
docs/events.md, "Error declarations").
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, BigId, Created, UTCDateTime


class ErrorDeclaration(Base):
    """One declaration per event: the ``errorDeclaration`` object as captured, and who captured it."""

    __tablename__ = "error_declarations"

    event_seq: Mapped[int] = mapped_column(BigId, ForeignKey("events.seq"), primary_key=True)
    declared_by_org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"), index=True)
    declaration_time: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(String(256))
    # As resolved at capture: an id the document gave one of its own events becomes that event's hash.
    corrective_event_ids: Mapped[list[str]] = mapped_column(JSON)
    declaration: Mapped[dict[str, Any]] = mapped_column(JSON)  # verbatim, vendor extensions included
    recorded_at: Mapped[Created]
