"""Readings in: one device's series for one scope, stored, anchored and judged in the caller's transaction.

Every arrival of readings is an *ingest*: a logger file, the sensor data of an EPCIS event, or a gateway's batch.
It is anchored by a signed ledger event (for a file or a batch, an event carrying the SHA-256 of the bytes in its
``certificationInfo``, as batch documents are; for EPCIS, the event itself), so a reading can be traced to bytes
whose hash is on chain. Then the log's evaluations run and any excursion they find holds the goods.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import epcis_events, terms
from ledger.coldchain.evaluation import Appended, Outcome, evaluate_log, moment
from ledger.coldchain.goods import quantities_of
from ledger.coldchain.readings import Scope, Series, holder_for, infer_interval_s, open_log, store
from ledger.goods import lock_batches
from ledger.models import Event, IngestKind, Location, Organisation, Product, ReadingIngest, TemperatureLog, utcnow
from ledger.recorder import Signer, record_event


@dataclass(frozen=True)
class Source:
    """Where readings came from: the bytes as received (a file, a gateway's JSON), or an event's sensor data."""

    kind: IngestKind
    content: bytes | None = None
    filename: str | None = None
    content_type: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content or b"").hexdigest()


@dataclass(frozen=True)
class Ingested:
    log: TemperatureLog
    ingest: ReadingIngest
    stored: int
    duplicates: int
    outcome: Outcome


def ingest(
    session: Session,
    signer: Signer,
    org: Organisation,
    scope: Scope,
    series: Series,
    *,
    source: Source,
    anchor: Event | None = None,
    interval_s: int | None = None,
) -> Ingested:
    """Store ``series`` in the log of its device for ``scope`` and evaluate the log. ``anchor`` is the event that
    carried the readings (EPCIS); without one, an event anchoring the source's bytes is recorded."""
    holder = holder_for(session, org, scope)
    times = series.times_ms
    log = open_log(
        session, org, scope, series.device_id, holder_org_id=holder, interval_s=interval_s or infer_interval_s(times)
    )
    anchor = anchor or anchor_bytes(session, signer, org, log, series, source)
    previous_last_ms = log.last_ms
    appended = None
    if previous_last_ms is None or times[0] > previous_last_ms:
        lows, highs = [r.low for r in series.readings], [r.high for r in series.readings]
        appended = Appended(previous_last_ms, times, lows, highs)
    row = ReadingIngest(
        log_id=log.id,
        org_id=org.id,
        kind=source.kind,
        event_seq=anchor.seq,
        sha256=source.sha256 if source.content is not None else anchor.event_id[14:78],
        filename=source.filename,
        content_type=source.content_type,
        size=len(source.content or b""),
        content=source.content if source.kind is IngestKind.FILE else None,
        reading_count=0,
        duplicate_count=0,
        first_ms=times[0],
        last_ms=times[-1],
    )
    session.add(row)
    session.flush()
    stored = store(session, log, row.id, series)
    row.reading_count, row.duplicate_count = stored, len(times) - stored
    outcome = evaluate_log(session, log, appended=appended, evidence_seq=anchor.seq)
    return Ingested(log, row, stored, len(times) - stored, outcome)


def anchor_bytes(
    session: Session, signer: Signer, org: Organisation, log: TemperatureLog, series: Series, source: Source
) -> Event:
    """A signed event carrying the SHA-256 of a logger file or a gateway batch and a summary of the readings, on
    the chains of the batches the log speaks for (``epcis_events.temperature_log``)."""
    batches = lock_batches(session, quantities_of(session, log))
    products = {
        p.id: p
        for p in session.scalars(select(Product).where(Product.id.in_({b.product_id for b in batches.values()})))
    }
    location = session.get(Location, log.location_id) if log.location_id is not None else None
    lows, highs = [r.low for r in series.readings], [r.high for r in series.readings]
    values = [r.value_c if r.value_c is not None else (r.low + r.high) / 2 for r in series.readings]
    first, last = series.readings[0].taken_ms, series.readings[-1].taken_ms
    when = utcnow()
    document = epcis_events.temperature_log(
        event_time=when,
        lots=[terms.lot_class(products[b.product_id].gtin, b.lot) for b in batches.values()],
        recorder=terms.owning_party(org.uscc, org.gln),
        read_point=terms.location_uri(location.id, location.gln) if location else None,
        device=terms.device_uri(org.uscc, log.device_id),
        period=(moment(first), moment(last)),
        extremes=(min(lows), max(highs), sum(values) / len(values)),
        digest=source.sha256,
        kind=f"temperature_{source.kind.value}",
    )
    return record_event(session, signer, org=org, document=document, batches=batches.values(), event_time=when)
