"""EPCIS 2.0 capture: a partner's document becomes ledger events, each keeping its own CBV 2.0 hash.

A captured event is never rebuilt. Its JSON is recorded verbatim (with the document's ``@context`` beside it when
that is not the bare EPCIS one, so the stored event alone recomputes its id), and the id is its CBV 2.0 hash, so a
partner who captured it finds it again under the hash they computed.

Two fates, decided per event by what it names:

- **applied**: it names goods this ledger issued (a GTIN registered here, or one of its SSCCs). Then it must be
  one of the trade steps lotline knows (shipping, receiving, retail_selling, dispensing, destroying, inspecting,
  packing/unpacking, a transformation into one new lot) and goes through the same ``ledger.trade`` /
  ``ledger.packing`` function as a scan, with the same rules, holdings and anchoring; only the recorded document
  is the captured one. Anything else about lotline goods (commissioning, say: codes are issued by the API) is
  refused, so a document can never move or create lotline goods outside the rules.
- **recorded**: it names none of them (GS1's examples, a partner's own goods). It is hashed, signed by the
  capturing organisation, chained into no batch and anchored like any event: the partner's own observation, with
  no movement, holding or code attached.

A document is all-or-nothing: every event is checked and written in the caller's transaction, and the first
refusal raises before the caller commits. An event already in the ledger (same hash) is reported as
``duplicate`` and not applied again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import epcis, packing, trade
from ledger.db import make_engine, make_session_factory, session_scope
from ledger.epc_uri import canonical_uri
from ledger.errors import (
    Forbidden,
    InvalidEvent,
    InvalidIdentifier,
    InvalidQuantity,
    InvalidTransition,
    PayloadTooLarge,
    RoleRequired,
    UnknownCode,
    UnknownOrganisation,
    UnknownShipment,
)
from ledger.event_hash import STANDARD_CONTEXT, event_hash
from ledger.goods import BatchLine, Goods, find_batch_id
from ledger.identifiers import DigitalLink, normalize_gtin, normalize_sscc, parse_digital_link, validate_uscc
from ledger.keys import KeyVault
from ledger.models import Batch, Code, Event, Organisation, Product, Role, Shipment, ShipmentLine, ShipmentStatus
from ledger.recorder import Signer, record_event
from ledger.settings import get_settings
from ledger.signing import SigningDomain
from ledger.terms import UNIT_COUNTABLE

# GS1's JSON schema costs ~25-50 ms per event with jsonschema here, so one request stays under a minute.
MAX_EVENTS: Final = 1000
_EPC_FIELDS: Final = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_FIELDS: Final = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
# A URI that claims to be a GS1 Digital Link (a primary key segment on some host) must be a well-formed one.
_LOOKS_LIKE_DIGITAL_LINK: Final = re.compile(
    r"^https?://[^/]+(/[^?#]*)?/(00|01|253|255|401|402|414|417|8003|8004|8006|8010|8017|8018)/"
)
_GTIN_KEY: Final = re.compile(r"^https://id\.gs1\.org/01/(\d{14})")
_SSCC_KEY: Final = re.compile(r"^https://id\.gs1\.org/00/(\d{18})$")
_PARTY_USCC: Final = "urn:lotline:party:uscc:"
_PARTY_GLN: Final = "https://id.gs1.org/417/"
_TRADERS: Final = (Role.PRODUCER, Role.DISTRIBUTOR, Role.RETAILER, Role.CARRIER)
# Who may apply which step: the same table as the scan API's (trace_api/scanning.py ROLES).
_ROLES: Final[dict[str, tuple[Role, ...]]] = {
    "ship": _TRADERS,
    "receive": (*_TRADERS, Role.VACCINATOR),
    "sell": (Role.RETAILER, Role.DISTRIBUTOR, Role.PRODUCER),
    "administer": (Role.VACCINATOR,),
    "destroy": (*_TRADERS, Role.VACCINATOR),
    "inspect": (Role.REGULATOR, Role.PRODUCER, Role.DISTRIBUTOR, Role.RETAILER, Role.VACCINATOR),
    "pack": (Role.PRODUCER, Role.DISTRIBUTOR, Role.CARRIER),
    "unpack": (*_TRADERS, Role.VACCINATOR),
    "transform": (Role.PRODUCER, Role.DISTRIBUTOR),
}


class Outcome(StrEnum):
    APPLIED = "applied"  # went through the trade rules: holdings, shipments, codes changed
    RECORDED = "recorded"  # the capturing organisation's own observation: hashed, signed, anchored, nothing moved
    DUPLICATE = "duplicate"  # already in the ledger under this hash; nothing written


@dataclass(frozen=True, slots=True)
class CapturedEvent:
    """One event of a document, checked and hashed, as it will be stored."""

    index: int
    stored: dict[str, Any]
    event_id: str
    event_time: datetime
    declared_event_id: str | None

    @property
    def body(self) -> dict[str, Any]:
        return {key: value for key, value in self.stored.items() if key != "@context"}


@dataclass(frozen=True, slots=True)
class EventStatus:
    index: int
    event_id: str
    outcome: Outcome
    operation: str | None = None
    declared_event_id: str | None = None


def prepare(document: Mapping[str, Any], *, max_events: int = MAX_EVENTS) -> list[CapturedEvent]:
    """Check a whole document without touching the ledger: GS1's schema, the hash of every event, and the syntax
    of every identifier. Raises :class:`InvalidEvent` (or :class:`PayloadTooLarge`) naming the field."""
    epcis.validate_document(document)
    events = document["epcisBody"].get("eventList") or []
    if len(events) > max_events:
        raise PayloadTooLarge(f"the document holds {len(events)} events; the limit is {max_events}", limit=max_events)
    context = document.get("@context")
    standard = context in (STANDARD_CONTEXT, [STANDARD_CONTEXT])
    prepared = []
    for index, event in enumerate(events):
        where = f"epcisBody.eventList[{index}]"
        try:
            event_id = event_hash(event, context)
        except InvalidEvent as error:
            field = error.context.get("field")
            raise InvalidEvent(f"{where}: {error.detail}", field=f"{where}.{field}" if field else where) from error
        for field, uri in _identifiers(event):
            if not _well_formed(uri):
                raise InvalidEvent(
                    f"{where}.{field}: {uri!r} is not a well-formed EPC URI or GS1 Digital Link",
                    field=f"{where}.{field}",
                )
        verbatim = {key: value for key, value in event.items() if key not in ("eventID", "recordTime")}
        prepared.append(
            CapturedEvent(
                index=index,
                stored=verbatim if standard else {"@context": context, **verbatim},
                event_id=event_id,
                event_time=datetime.fromisoformat(event["eventTime"]),
                declared_event_id=event.get("eventID"),
            )
        )
    return prepared


def capture(session: Session, signer: Signer, org: Organisation, events: Sequence[CapturedEvent]) -> list[EventStatus]:
    """Apply or record every prepared event in the caller's transaction (see the module docstring)."""
    known = _known_keys(session, events)
    statuses = []
    for event in events:
        declared = event.declared_event_id if event.declared_event_id != event.event_id else None
        if session.scalar(select(Event.seq).where(Event.event_id == event.event_id)) is not None:
            statuses.append(EventStatus(event.index, event.event_id, Outcome.DUPLICATE, None, declared))
            continue
        if any(_gs1_key(uri) in known for _field, uri in _identifiers(event.body)):
            operation = _Applier(session, signer, org, event, known).apply()
            statuses.append(EventStatus(event.index, event.event_id, Outcome.APPLIED, operation, declared))
        else:
            record_event(session, signer, org=org, document=event.stored, batches=(), event_time=event.event_time)
            statuses.append(EventStatus(event.index, event.event_id, Outcome.RECORDED, None, declared))
    return statuses


def run_epcis_import(database_url: str, path: Path | str, org_uscc: str) -> list[EventStatus]:
    """``lotline import epcis FILE --org USCC``: capture a document file as that organisation, all-or-nothing."""
    settings = get_settings()
    signer = Signer(
        vault=KeyVault(settings.secret_key),
        domain=SigningDomain(chain_id=settings.chain_id),
        ttl_seconds=settings.signature_ttl_seconds,
    )
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidEvent(f"{path} is not a UTF-8 JSON document: {error}") from error
    if not isinstance(document, dict):
        raise InvalidEvent(f"{path} holds JSON but not an EPCIS document object", field="(document)")
    events = prepare(document)
    engine = make_engine(database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            uscc = validate_uscc(org_uscc)
            org = session.scalar(select(Organisation).where(Organisation.uscc == uscc))
            if org is None:
                raise UnknownOrganisation(f"no organisation with USCC {uscc} is registered", uscc=uscc)
            return capture(session, signer, org, events)
    finally:
        engine.dispose()


# --- identifiers ----------------------------------------------------------------------------------------------


def _identifiers(event: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """Every (field path, URI) that names goods: EPCs, the parent, and quantity classes."""
    if isinstance(event.get("parentID"), str):
        yield "parentID", event["parentID"]
    for name in _EPC_FIELDS:
        for i, uri in enumerate(event.get(name) or ()):
            yield f"{name}[{i}]", uri
    for name in _QUANTITY_FIELDS:
        for i, element in enumerate(event.get(name) or ()):
            yield f"{name}[{i}].epcClass", element["epcClass"]


def _gs1_key(uri: str) -> tuple[str, str] | None:
    """("01", GTIN) or ("00", SSCC) of an identifier in canonical form, if it has one."""
    canonical = canonical_uri(uri) or ""
    match = _GTIN_KEY.match(canonical) or _SSCC_KEY.match(canonical)
    return (canonical[19:21], match[1]) if match else None


def _well_formed(uri: str) -> bool:
    """Any URI may name goods in EPCIS, but one that claims to be an EPC URI or a GS1 Digital Link must be one,
    check digit included (the canonical form recomputes it for URNs but copies it from Digital Links)."""
    if not (uri.startswith("urn:epc:") or _LOOKS_LIKE_DIGITAL_LINK.match(uri)):
        return True
    if canonical_uri(uri) is None:
        return False
    key = _gs1_key(uri)
    try:
        if key is not None:
            (normalize_gtin if key[0] == "01" else normalize_sscc)(key[1])
    except InvalidIdentifier:
        return False
    return True


def _known_keys(session: Session, events: Sequence[CapturedEvent]) -> set[tuple[str, str]]:
    """The GS1 keys the document names that this ledger issued: registered GTINs and its SSCCs."""
    keys = {key for event in events for _field, uri in _identifiers(event.body) if (key := _gs1_key(uri))}
    gtins = [v for ai, v in keys if ai == "01"]
    ssccs = [v for ai, v in keys if ai == "00"]
    known = {("01", g) for g in session.scalars(select(Product.gtin).where(Product.gtin.in_(gtins)))}
    return known | {("00", s) for s in session.scalars(select(Code.sscc).where(Code.sscc.in_(ssccs))) if s}


# --- applying events about lotline goods -----------------------------------------------------------------------


class _Applier:
    """Maps one captured event about lotline goods to the ledger operation a scan would run."""

    def __init__(
        self, session: Session, signer: Signer, org: Organisation, event: CapturedEvent, known: set[tuple[str, str]]
    ) -> None:
        self.session, self.signer, self.org, self.event, self.known = session, signer, org, event, known
        self.body = event.body
        self.where = f"epcisBody.eventList[{event.index}]"
        self.ctx = trade.ScanContext(org=org, event_time=event.event_time)

    def apply(self) -> str:
        kind, step = self.body["type"], self._term(epcis.BizStep, "bizStep")
        if kind == "ObjectEvent" and self.body["action"] == "OBSERVE" and step in _OBJECT_STEPS:
            return self._object(step)
        if kind == "AggregationEvent" and step in (epcis.BizStep.PACKING, epcis.BizStep.UNPACKING):
            return self._aggregation(step)
        if kind == "TransformationEvent":
            return self._transform()
        raise InvalidTransition(
            f"{self.where}: a {kind} with bizStep {self.body.get('bizStep')!r} names goods of this network, but "
            "lotline applies only shipping, receiving, retail_selling, dispensing, destroying, inspecting "
            "(ObjectEvent OBSERVE), packing/unpacking and transformations; codes are issued by the codes API",
            event_index=self.event.index,
            field=f"{self.where}.bizStep",
        )

    def _object(self, step: epcis.BizStep) -> str:
        goods = self._goods("epcList", "quantityList")
        doc = self.event.stored
        session, signer, ctx = self.session, self.signer, self.ctx
        if step is epcis.BizStep.RECEIVING:
            self._require_role("receive")
            self._require_actor("destinationList")
            sender = self._party_org("sourceList", required=False)
            shipment_id = self._shipment_for(sender, goods)
            trade.receive(session, signer, ctx, shipment_id=shipment_id, goods=goods, document=doc)
            return "receive"
        operation = _OBJECT_STEPS[step]
        self._require_role(operation)
        self._require_actor("sourceList")
        if step is epcis.BizStep.SHIPPING:
            receiver = self._party_org("destinationList", required=True)
            assert receiver is not None
            trade.ship(session, signer, ctx, goods, to_org_id=receiver.id, document=doc)
        elif step is epcis.BizStep.INSPECTING:
            failed = self._term(epcis.Disposition, "disposition") is epcis.Disposition.NON_CONFORMANT
            trade.inspect(session, signer, ctx, goods, passed=not failed, document=doc)
        else:
            {"sell": trade.sell, "administer": trade.administer, "destroy": trade.destroy}[operation](
                session, signer, ctx, goods, document=doc
            )
        return operation

    def _aggregation(self, step: epcis.BizStep) -> str:
        # The parent may be new: packing into an SSCC creates it, so it is not looked up among known goods.
        parent = canonical_uri(self.body.get("parentID") or "")
        link = parse_digital_link(parent) if parent else None
        if link is None or link.sscc is None:
            raise InvalidEvent(f"{self.where}.parentID: packing names the case or pallet by its SSCC", field="parentID")
        if self.body.get("childQuantityList"):
            raise InvalidEvent(
                f"{self.where}.childQuantityList: lotline packs coded items, not quantities",
                field=f"{self.where}.childQuantityList",
            )
        children = self._goods("childEPCs", None).codes
        self._require_actor("sourceList")
        if step is epcis.BizStep.PACKING and self.body["action"] == "ADD":
            self._require_role("pack")
            packing.pack(self.session, self.signer, self.ctx, children, sscc=link.sscc, document=self.event.stored)
            return "pack"
        if step is epcis.BizStep.UNPACKING and self.body["action"] == "DELETE":
            self._require_role("unpack")
            packing.unpack(
                self.session, self.signer, self.ctx, sscc=link.sscc, children=children, document=self.event.stored
            )
            return "unpack"
        raise InvalidTransition(
            f"{self.where}.action: packing is an ADD and unpacking a DELETE", field=f"{self.where}.action"
        )

    def _transform(self) -> str:
        self._require_role("transform")
        self._require_actor("sourceList")
        outputs = self.body.get("outputQuantityList") or []
        if self.body.get("outputEPCList") or len(outputs) != 1:
            raise InvalidEvent(
                f"{self.where}.outputQuantityList: a transformation of lotline goods makes exactly one new lot, "
                "named by one quantity element (item codes are issued by the codes API)",
                field=f"{self.where}.outputQuantityList",
            )
        output = self._goods(None, "outputQuantityList").lines[0]
        packing.transform(
            self.session,
            self.signer,
            self.ctx,
            self._goods("inputEPCList", "inputQuantityList"),
            output_gtin=output.gtin,
            output_lot=output.lot,
            output_quantity=output.quantity,
            document=self.event.stored,
        )
        return "transform"

    # --- names -> ledger rows ---

    def _goods(self, epc_field: str | None, quantity_field: str | None) -> Goods:
        codes = [self._link(uri, f"{epc_field}[{i}]") for i, uri in enumerate(self.body.get(epc_field or "") or ())]
        lines = []
        for i, element in enumerate(self.body.get(quantity_field or "") or ()):
            field = f"{self.where}.{quantity_field}[{i}]"
            link = self._link(element["epcClass"], f"{quantity_field}[{i}].epcClass")
            quantity = element.get("quantity")
            if link.lot is None or link.serial is not None:
                raise InvalidEvent(f"{field}.epcClass: lotline counts quantities per lot (an LGTIN)", field=field)
            if isinstance(quantity, bool) or not isinstance(quantity, int | float) or quantity != int(quantity):
                raise InvalidQuantity(f"{field}.quantity: {quantity!r} is not a whole number of units", field=field)
            unit = self.session.scalar(select(Product.unit).where(Product.gtin == link.gtin))
            if element.get("uom", UNIT_COUNTABLE) != unit:
                raise InvalidQuantity(f"{field}.uom: {link.gtin} is counted in {unit}", field=field, unit=unit)
            assert link.gtin is not None
            lines.append(BatchLine(gtin=link.gtin, lot=link.lot, quantity=int(quantity)))
        return Goods(codes=tuple(codes), lines=tuple(lines))

    def _link(self, uri: str, field: str) -> DigitalLink:
        canonical = canonical_uri(uri)
        if canonical is None or _gs1_key(uri) not in self.known:
            raise UnknownCode(
                f"{self.where}.{field}: {uri} is not goods of this network, but the event also names goods that are; "
                "an event is applied whole or not at all",
                field=f"{self.where}.{field}",
                code=uri,
            )
        return parse_digital_link(canonical)

    def _party_org(self, list_name: str, *, required: bool) -> Organisation | None:
        parties = [p for p in self.body.get(list_name) or () if self._sd_type(p) is epcis.SourceDestType.OWNING_PARTY]
        field = f"{self.where}.{list_name}"
        if not parties:
            if required:
                raise InvalidEvent(f"{field}: this step needs an owning_party naming an organisation", field=field)
            return None
        party = parties[0]["source" if list_name == "sourceList" else "destination"]
        org = party_org(self.session, party)
        if org is None:
            raise UnknownOrganisation(f"{field}: no organisation of this network is {party}", field=field, party=party)
        return org

    def _require_actor(self, list_name: str) -> None:
        """The capturing organisation is the one acting: the owning party the goods leave (or arrive at)."""
        actor = self._party_org(list_name, required=False)
        if actor is not None and actor.id != self.org.id:
            raise Forbidden(
                f"{self.where}.{list_name}: the event is {actor.name}'s to capture, not {self.org.name}'s",
                field=f"{self.where}.{list_name}",
            )

    def _require_role(self, operation: str) -> None:
        roles = _ROLES[operation]
        if not any(self.org.has_role(role) for role in roles):
            raise RoleRequired(
                f"{self.where}: only a {' or '.join(r.value for r in roles)} may {operation}",
                required=[r.value for r in roles],
            )

    def _shipment_for(self, sender: Organisation | None, goods: Goods) -> int:
        """The shipment a receiving event closes: the one its codes travel on, else the oldest open shipment to
        the receiver (from the sender, when named) still expecting every lot it names."""
        for link in goods.codes:
            query = select(Code.shipment_id).where(Code.shipment_id.is_not(None))
            if link.sscc is not None:
                shipment_id = self.session.scalar(query.where(Code.sscc == link.sscc))
            else:
                shipment_id = self.session.scalar(
                    query.join(Batch, Batch.id == Code.batch_id)
                    .join(Product, Product.id == Batch.product_id)
                    .where(Product.gtin == link.gtin, Code.serial == link.serial)
                )
            if shipment_id is not None:
                return shipment_id
        wanted = {find_batch_id(self.session, line.gtin, line.lot): line.quantity for line in goods.lines}
        query = select(Shipment.id).where(
            Shipment.to_org_id == self.org.id,
            Shipment.status.in_((ShipmentStatus.IN_TRANSIT, ShipmentStatus.PARTIALLY_RECEIVED)),
        )
        if sender is not None:
            query = query.where(Shipment.from_org_id == sender.id)
        for shipment_id in list(self.session.scalars(query.order_by(Shipment.id))):
            lines = self.session.execute(
                select(ShipmentLine.batch_id, ShipmentLine.quantity - ShipmentLine.received_quantity).where(
                    ShipmentLine.shipment_id == shipment_id
                )
            )
            outstanding = {batch_id: int(left) for batch_id, left in lines}
            if wanted and all(outstanding.get(b, 0) >= q for b, q in wanted.items()):
                return shipment_id
        raise UnknownShipment(
            f"{self.where}: no shipment to {self.org.name} is waiting for these goods", field=self.where
        )

    def _term(self, vocabulary: type[StrEnum], key: str) -> Any:
        value = self.body.get(key)
        try:
            return vocabulary(value) if isinstance(value, str) else None
        except ValueError:
            return None

    def _sd_type(self, entry: Mapping[str, Any]) -> epcis.SourceDestType | None:
        kind = entry.get("type")
        try:
            return epcis.SourceDestType(kind) if isinstance(kind, str) else None
        except ValueError:
            return None


_OBJECT_STEPS: Final = {
    epcis.BizStep.SHIPPING: "ship",
    epcis.BizStep.RECEIVING: "receive",
    epcis.BizStep.RETAIL_SELLING: "sell",
    epcis.BizStep.DISPENSING: "administer",
    epcis.BizStep.DESTROYING: "destroy",
    epcis.BizStep.INSPECTING: "inspect",
}


def party_org(session: Session, party: str) -> Organisation | None:
    """The organisation a lotline party id names (``urn:lotline:party:uscc:<USCC>`` or a GLN Digital Link)."""
    if party.startswith(_PARTY_USCC):
        return session.scalar(select(Organisation).where(Organisation.uscc == party.removeprefix(_PARTY_USCC)))
    if party.startswith(_PARTY_GLN):
        return session.scalar(select(Organisation).where(Organisation.gln == party.removeprefix(_PARTY_GLN)))
    return None
