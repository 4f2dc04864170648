"""The cold chain's services for the API and the pages: readings in from files and gateways, excursions listed and
shown, disposed of, and the products' profiles. The rules and the writes are in ``ledger.coldchain``; this module
translates names (a holding's GTIN and lot, a holder's USCC) and bytes (a logger file) into what it takes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from importers.loggers import read_logger_file
from ledger import errors
from ledger.coldchain import excursions, queries
from ledger.coldchain.ingest import Ingested as LedgerIngested
from ledger.coldchain.ingest import Source, ingest
from ledger.coldchain.profiles import ProfileName, profile_for
from ledger.coldchain.readings import Reading, Scope, prepare_series
from ledger.goods import find_batch_id
from ledger.identifiers import normalize_gtin
from ledger.models import (
    Event,
    Excursion,
    IngestKind,
    LogScope,
    Organisation,
    Product,
    ProductProfile,
)
from ledger.recorder import Signer
from ledger.registry import organisation_by_uscc
from trace_api.coldchain.schemas import (
    ExcursionBrief,
    ExcursionOut,
    GatewayBatch,
    GoodsOut,
    Ingested,
    LogIngested,
    ProfileOut,
    RuleOut,
    ScopeIn,
)
from trace_api.web.files import check_document
from trace_api.web.queries import org_names


def scope_of(session: Session, scope: ScopeIn) -> Scope:
    if scope.shipment_id is not None:
        return Scope(LogScope.SHIPMENT, scope.shipment_id)
    if scope.location_id is not None:
        return Scope(LogScope.LOCATION, scope.location_id)
    assert scope.gtin is not None
    assert scope.lot is not None
    return Scope(LogScope.HOLDING, find_batch_id(session, scope.gtin, scope.lot))


def parse_offset(text: str) -> timezone:
    """``+08:00`` (the loggers' local time) as a time zone."""
    sign, hours, minutes = text[:1], text[1:3], text[4:6]
    if sign not in "+-" or len(text) != 6 or text[3] != ":" or not (hours + minutes).isdigit() or int(hours) > 14:
        raise errors.InvalidInput(f"utc_offset {text!r} is not of the form +08:00", field="utc_offset")
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return timezone(-delta if sign == "-" else delta)


def upload_file(
    session: Session,
    signer: Signer,
    org: Organisation,
    scope: Scope,
    *,
    content: bytes,
    filename: str,
    content_type: str,
    device_id: str | None,
    interval_s: int | None,
    offset: timezone,
    max_bytes: int,
) -> Ingested:
    """A logger's export: each device's series into its log, the file kept and anchored with each."""
    if len(content) > max_bytes:
        raise errors.PayloadTooLarge(f"the file is {len(content)} bytes; the limit is {max_bytes}", limit=max_bytes)
    parsed = read_logger_file(content, device_id=device_id, offset=offset)
    source = Source(IngestKind.FILE, content, filename[:255], content_type[:100])
    done = []
    for series in parsed.series:
        readings = [Reading(t, v) for t, v in zip(series.times_ms, series.values_c, strict=True)]
        prepared, _ = prepare_series(series.device_id, readings)
        done.append(ingest(session, signer, org, scope, prepared, source=source, interval_s=interval_s))
    return Ingested(logs=[_ingested(session, d) for d in done], missing=parsed.missing_rows)


def gateway_batch(session: Session, signer: Signer, org: Organisation, body: GatewayBatch, raw: bytes) -> Ingested:
    """A gateway's post: each logger's readings into its log, anchored by the SHA-256 of the bytes posted."""
    source = Source(IngestKind.GATEWAY, raw, None, "application/json")
    done = []
    for log in body.logs:
        readings = [
            Reading(round(r.time.timestamp() * 1000), r.value if r.value is not None else r.mean, r.min, r.max)
            for r in log.readings
        ]
        series, _ = prepare_series(log.device_id, readings)
        scope = scope_of(session, log.scope)
        done.append(ingest(session, signer, org, scope, series, source=source, interval_s=log.interval_s))
    return Ingested(logs=[_ingested(session, d) for d in done])


def _ingested(session: Session, done: LedgerIngested) -> LogIngested:
    event_id = session.scalar(select(Event.event_id).where(Event.seq == done.ingest.event_seq))
    assert event_id is not None
    return LogIngested(
        log_id=done.log.id,
        device_id=done.log.device_id,
        scope=done.log.scope,
        stored=done.stored,
        duplicates=done.duplicates,
        event_id=event_id,
        sha256=done.ingest.sha256,
        new_excursions=[ExcursionBrief.model_validate(e) for e in done.outcome.new],
        updated_excursions=[ExcursionBrief.model_validate(e) for e in done.outcome.updated],
    )


def excursion_views(session: Session, rows: Sequence[Excursion]) -> list[ExcursionOut]:
    goods = queries.goods_of(session, [e.id for e in rows])
    names = org_names(
        session, {i for e in rows for i in (e.holder_org_id, e.recorded_by_org_id, e.disposed_by_org_id) if i}
    )
    events = dict(
        session.execute(select(Event.seq, Event.event_id).where(Event.seq.in_({e.event_seq for e in rows}))).all()
    )
    return [
        ExcursionOut(
            **ExcursionBrief.model_validate(e).model_dump(),
            status=e.status,
            duration_s=e.duration_s,
            min_c=e.min_c,
            max_c=e.max_c,
            profile=e.profile_key,
            holder=names[e.holder_org_id],
            recorded_by=names[e.recorded_by_org_id],
            shipment_id=e.shipment_id,
            location_id=e.location_id,
            goods=[GoodsOut.model_validate(g, from_attributes=True) for g in goods.get(e.id, [])],
            event_id=events[e.event_seq],
            acknowledged_at=e.acknowledged_at,
            recall_candidate=e.candidate_at is not None,
            disposed_at=e.disposed_at,
            disposed_by=names.get(e.disposed_by_org_id) if e.disposed_by_org_id else None,
            disposition_reason=e.disposition_reason,
            evidence_sha256=e.evidence_sha256,
        )
        for e in rows
    ]


def release(
    session: Session,
    signer: Signer,
    org: Organisation,
    excursion: Excursion,
    *,
    reason: str,
    filename: str,
    content_type: str,
    content: bytes,
    max_bytes: int,
) -> None:
    check_document(content_type, content, max_bytes)
    evidence = excursions.Evidence(filename, content_type, content)
    excursions.release(session, signer, org, excursion, reason=reason, evidence=evidence)


def holder_id(session: Session, uscc: str | None) -> int | None:
    return organisation_by_uscc(session, uscc).id if uscc else None


def profile_view(session: Session, gtin: str) -> ProfileOut:
    product = _product(session, gtin)
    chosen = session.get(ProductProfile, product.id)
    name = ProfileName(chosen.profile) if chosen else None
    profile = profile_for(product.category, product.storage_min_c, product.storage_max_c, chosen=name)
    return ProfileOut(
        gtin=product.gtin,
        profile=profile.name.value if profile else None,
        chosen=chosen is not None,
        min_c=profile.min_c if profile else None,
        max_c=profile.max_c if profile else None,
        rules=[
            RuleOut(
                name=r.name,
                direction=r.direction.value,
                limit_c=r.limit.value_c,
                inclusive=r.limit.inclusive,
                mode=r.mode.value,
                threshold_s=r.threshold_s,
            )
            for r in (profile.rules if profile else ())
        ],
    )


def choose_profile(session: Session, org: Organisation, gtin: str, name: ProfileName) -> ProfileOut:
    """The product's owner sets its profile (a freeze-sensitive vaccine cannot be told from its range)."""
    product = _product(session, gtin)
    if product.owner_org_id != org.id:
        raise errors.RoleRequired("only the product's owner chooses its cold-chain profile", gtin=product.gtin)
    profile_for(product.category, product.storage_min_c, product.storage_max_c, chosen=name)
    chosen = session.get(ProductProfile, product.id)
    if chosen is None:
        session.add(ProductProfile(product_id=product.id, profile=name.value, chosen_by_org_id=org.id))
    else:
        chosen.profile, chosen.chosen_by_org_id = name.value, org.id
    session.flush()
    return profile_view(session, product.gtin)


def _product(session: Session, gtin: str) -> Product:
    gtin = normalize_gtin(gtin)
    product = session.scalar(select(Product).where(Product.gtin == gtin))
    if product is None:
        raise errors.UnknownProduct(f"no product {gtin} is registered", gtin=gtin)
    return product
