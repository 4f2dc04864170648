"""Raising an alert: deduplicated, recorded as a signed event that is anchored like any other, and told to the
brand owner and to every regulator by webhook (docs/alerts.md).

Who signs: the network's authority, the first regulator organisation (the one ``lotline up`` creates). An alert
is the network's statement that it saw something, not any trader's; its event carries no batch, so it extends no
batch's hash chain and never shows in a consumer's journey, but it sits in an anchored Merkle root like every
event. The event is an EPCIS 2.0 ObjectEvent, ``observe``, CBV step ``inspecting`` and disposition
``no_pedigree_match`` (goods whose record does not match what was seen), naming the code's EPC (or the lot, for
goods scanned by quantity) and, as a business transaction of lotline's type ``urn:lotline:btt:alert``, the
alert's kind and deduplication key.

Deduplication: one alert per (kind, code or batch, subject — who scanned, or nobody for consumers' lookups). The
same signal seen again counts ``occurrences`` up and moves ``last_seen_at``; no new event, no new message.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sqlalchemy import String, cast, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ledger import epcis, terms
from ledger.errors import LotlineError
from ledger.identifiers import DigitalLink
from ledger.models import (
    Alert,
    AlertKind,
    AlertStatus,
    Batch,
    Code,
    Location,
    Organisation,
    Product,
    Role,
)
from ledger.recorder import Signer, record_event
from ledger.webhooks import queue_messages

EVENT_TYPE: Final = "alert.raised"
ALERT_TRANSACTION_TYPE: Final = "urn:lotline:btt:alert"


@dataclass(frozen=True, slots=True)
class Signal:
    """Something seen that may be a counterfeit or a diversion: what, about which code or batch, by whom, when."""

    kind: AlertKind
    scanned: str
    at: datetime
    code_id: int | None = None
    batch_id: int | None = None
    gtin: str | None = None  # for a forged code of a real product: whose brand it abuses
    subject_org_id: int | None = None
    location_id: int | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def dedup_key(self) -> str:
        target = f"code:{self.code_id}" if self.code_id else f"batch:{self.batch_id}" if self.batch_id else self.scanned
        subject = f"org:{self.subject_org_id}" if self.subject_org_id else "public"
        return hashlib.sha256(f"{self.kind.value}|{target}|{subject}".encode()).hexdigest()


def network_authority(session: Session) -> Organisation:
    """The organisation whose key signs the network's own statements: its first regulator."""
    # Roles are a JSON list; its text is searched the same way on SQLite and PostgreSQL.
    regulator = cast(Organisation.roles, String).like(f'%"{Role.REGULATOR.value}"%')
    org = session.scalar(select(Organisation).where(regulator).order_by(Organisation.id).limit(1))
    if org is None:
        raise LotlineError("the network has no regulator to sign alerts: run `lotline up` first")
    return org


def raise_alert(session: Session, signer: Signer, signal: Signal) -> Alert:
    """The alert for ``signal``: a new one (event, row, messages), or the existing one counted once more."""
    key = signal.dedup_key
    existing = session.scalar(select(Alert).where(Alert.dedup_key == key).with_for_update())
    if existing is not None:
        return _seen_again(existing, signal)
    try:
        with session.begin_nested():
            alert = _new_alert(session, signer, signal, key)
    except IntegrityError:  # raised by a concurrent request between our look and our insert
        existing = session.scalar(select(Alert).where(Alert.dedup_key == key).with_for_update())
        if existing is None:
            raise
        return _seen_again(existing, signal)
    _tell(session, alert)
    return alert


def _seen_again(alert: Alert, signal: Signal) -> Alert:
    """Counted once more; the first sighting's detail stays, the latest one is kept beside it."""
    alert.occurrences += 1
    alert.last_seen_at = max(alert.last_seen_at, signal.at)
    first = {key: value for key, value in alert.detail.items() if key != "latest"}
    alert.detail = {**first, "latest": signal.detail}
    return alert


def _new_alert(session: Session, signer: Signer, signal: Signal, key: str) -> Alert:
    product = _product(session, signal)
    location = session.get(Location, signal.location_id) if signal.location_id else None
    document = epcis.object_event(
        action=epcis.Action.OBSERVE,
        event_time=signal.at,
        **_what(session, signal, product),
        biz_step=epcis.BizStep.INSPECTING,
        disposition=epcis.Disposition.NO_PEDIGREE_MATCH,
        read_point=terms.location_uri(location.id, location.gln) if location else None,
        biz_transaction_list=[(ALERT_TRANSACTION_TYPE, f"urn:lotline:alert:{signal.kind.value}:{key}")],
    )
    authority = network_authority(session)
    event = record_event(
        session, signer, org=authority, document=document, batches=(), event_time=signal.at, location_id=None
    )
    alert = Alert(
        kind=signal.kind,
        dedup_key=key,
        status=AlertStatus.OPEN,
        code_id=signal.code_id,
        batch_id=signal.batch_id,
        owner_org_id=product.owner_org_id if product else None,
        subject_org_id=signal.subject_org_id,
        location_id=signal.location_id,
        scanned=signal.scanned[:300],
        detail=signal.detail,
        occurrences=1,
        first_seen_at=signal.at,
        last_seen_at=signal.at,
        event_seq=event.seq,
    )
    session.add(alert)
    session.flush()
    return alert


def _product(session: Session, signal: Signal) -> Product | None:
    batch_id = signal.batch_id
    if batch_id is None and signal.code_id is not None:
        batch_id = session.scalar(select(Code.batch_id).where(Code.id == signal.code_id))
    if batch_id is not None:
        return session.scalar(select(Product).join(Batch, Batch.product_id == Product.id).where(Batch.id == batch_id))
    if signal.gtin is not None:
        return session.scalar(select(Product).where(Product.gtin == signal.gtin))
    return None


def _what(session: Session, signal: Signal, product: Product | None) -> dict[str, Any]:
    """The EPC the alert is about, or the lot's class for goods scanned by quantity."""
    code = session.get(Code, signal.code_id) if signal.code_id else None
    if code is not None and code.serial is not None and product is not None:
        return {"epc_list": [terms.item_epc(product.gtin, code.serial)]}
    if code is not None and code.sscc is not None:
        return {"epc_list": [terms.sscc_epc(code.sscc)]}
    batch = session.get(Batch, signal.batch_id) if signal.batch_id else None
    if batch is not None and product is not None:
        return {"quantity_list": [{"epcClass": terms.lot_class(product.gtin, batch.lot)}]}
    link = signal.detail.get("link")
    if isinstance(link, dict) and link.get("gtin") and link.get("serial"):
        return {"epc_list": [terms.item_epc(link["gtin"], link["serial"])]}
    if isinstance(link, dict) and link.get("gtin") and link.get("lot"):
        return {"quantity_list": [{"epcClass": terms.lot_class(link["gtin"], link["lot"])}]}
    raise LotlineError("an alert names a code, a batch or at least a GTIN with a lot", scanned=signal.scanned)


def link_detail(link: DigitalLink) -> dict[str, str | None]:
    """What a scanned code names, for an alert about a code the ledger may not know."""
    return {"gtin": link.gtin, "lot": link.lot, "serial": link.serial, "path": link.path}


def _tell(session: Session, alert: Alert) -> None:
    """The brand owner and every regulator, one message each, queued in this transaction."""
    regulator = cast(Organisation.roles, String).like(f'%"{Role.REGULATOR.value}"%')
    told = set(session.scalars(select(Organisation.id).where(regulator)))
    if alert.owner_org_id is not None:
        told.add(alert.owner_org_id)
    message = {"alert": alert_message(alert)}
    queue_messages(session, event_type=EVENT_TYPE, payloads=dict.fromkeys(sorted(told), message), alert_id=alert.id)


def alert_message(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "kind": alert.kind.value,
        "scanned": alert.scanned,
        "detail": alert.detail,
        "first_seen_at": alert.first_seen_at.isoformat(),
        "code_id": alert.code_id,
        "batch_id": alert.batch_id,
    }
