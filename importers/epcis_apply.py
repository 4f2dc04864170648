"""Applying a captured EPCIS event about this network's goods: the ledger operation a scan of it would run.

:mod:`importers.epcis_capture` decides that an event names goods this ledger issued; here it is mapped onto
``ledger.trade`` / ``ledger.packing`` (shipping, receiving, selling, dispensing, destroying, inspecting,
packing/unpacking, a transformation into one new lot) under the ledger's one role table (``ledger.policy``), the
capturing organisation checked to be the acting party, and every identifier resolved to a ledger row or refused.
Sensor data goes where a scan's does: readings into the goods' temperature logs, a vial monitor's stage kept (a
spent one refuses a dispensing event); a ``sensor_reporting`` event about lotline goods is readings alone.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import epcis, packing, trade
from ledger.coldchain import vvm
from ledger.coldchain.errors import NotRecorder
from ledger.coldchain.scan_data import record_sensor_data
from ledger.epc_uri import canonical_uri
from ledger.errors import (
    Forbidden,
    InvalidEvent,
    InvalidQuantity,
    InvalidTransition,
    RoleRequired,
    UnknownCode,
    UnknownOrganisation,
    UnknownShipment,
)
from ledger.goods import BatchLine, Goods, find_batch_id, lock_batches, resolve
from ledger.identifiers import DigitalLink, parse_digital_link
from ledger.models import Batch, Code, Holding, Organisation, Product, Shipment, ShipmentLine, ShipmentStatus
from ledger.policy import TradeAction, require_trade_role
from ledger.recorder import Signer, record_event
from ledger.terms import UNIT_COUNTABLE

_GTIN_KEY: Final = re.compile(r"^https://id\.gs1\.org/01/(\d{14})")
_SSCC_KEY: Final = re.compile(r"^https://id\.gs1\.org/00/(\d{18})$")
_PARTY_USCC: Final = "urn:lotline:party:uscc:"
_PARTY_GLN: Final = "https://id.gs1.org/417/"


@dataclass(frozen=True, slots=True)
class CapturedEvent:
    """One event of a document, checked and hashed, as it will be stored."""

    index: int
    stored: dict[str, Any]
    event_id: str
    event_time: datetime
    declared_event_id: str | None
    # Kept out of ``stored``: the hash ignores it, and it is stored beside the event (ledger.declarations).
    error_declaration: dict[str, Any] | None = None

    @property
    def body(self) -> dict[str, Any]:
        return {key: value for key, value in self.stored.items() if key != "@context"}


def gs1_key(uri: str) -> tuple[str, str] | None:
    """("01", GTIN) or ("00", SSCC) of an identifier in canonical form, if it has one."""
    canonical = canonical_uri(uri) or ""
    match = _GTIN_KEY.match(canonical) or _SSCC_KEY.match(canonical)
    return (canonical[19:21], match[1]) if match else None


class EventApplier:
    """Maps one captured event about lotline goods to the ledger operation a scan would run."""

    def __init__(
        self, session: Session, signer: Signer, org: Organisation, event: CapturedEvent, known: set[tuple[str, str]]
    ) -> None:
        self.session, self.signer, self.org, self.event, self.known = session, signer, org, event, known
        self.body = event.body
        self.where = f"epcisBody.eventList[{event.index}]"
        self.ctx = trade.ScanContext(org=org, event_time=event.event_time)

    def apply(self) -> str:
        """The operation the event became: a trade action, or ``sensor_report`` (readings about the goods)."""
        kind, step = self.body["type"], self._term(epcis.BizStep, "bizStep")
        observed = kind == "ObjectEvent" and self.body["action"] == "OBSERVE"
        if observed and step in _OBJECT_STEPS:
            return self._object(step)
        if observed and step is epcis.BizStep.SENSOR_REPORTING:
            return self._sensor_report()
        if kind == "AggregationEvent" and step in (epcis.BizStep.PACKING, epcis.BizStep.UNPACKING):
            return self._aggregation(step)
        if kind == "TransformationEvent":
            return self._transform()
        raise InvalidTransition(
            f"{self.where}: a {kind} with bizStep {self.body.get('bizStep')!r} names goods of this network, but "
            "lotline applies only shipping, receiving, retail_selling, dispensing, destroying, inspecting, "
            "sensor_reporting (ObjectEvent OBSERVE), packing/unpacking and transformations; codes are issued by the "
            "codes API",
            event_index=self.event.index,
            field=f"{self.where}.bizStep",
        )

    def _object(self, step: epcis.BizStep) -> TradeAction:
        """A trade step, as the scan of it would run; then its sensor data (a logger's readings, a vial monitor's
        stage) goes where a scan's does (``ledger.coldchain.scan_data``)."""
        goods = self._goods("epcList", "quantityList")
        doc = self.event.stored
        session, signer, ctx = self.session, self.signer, self.ctx
        shipment_id = None
        if step is epcis.BizStep.RECEIVING:
            self._require_role(TradeAction.RECEIVE)
            self._require_actor("destinationList")
            sender = self._party_org("sourceList", required=False)
            shipment_id = self._shipment_for(sender, goods)
            event = trade.receive(session, signer, ctx, shipment_id=shipment_id, goods=goods, document=doc)
            record_sensor_data(session, signer, self.org, event, shipment_id=shipment_id)
            return TradeAction.RECEIVE
        operation = _OBJECT_STEPS[step]
        self._require_role(operation)
        self._require_actor("sourceList")
        if step is epcis.BizStep.SHIPPING:
            receiver = self._party_org("destinationList", required=True)
            assert receiver is not None
            event, shipment = trade.ship(session, signer, ctx, goods, to_org_id=receiver.id, document=doc)
            shipment_id = shipment.id
        elif step is epcis.BizStep.INSPECTING:
            failed = self._term(epcis.Disposition, "disposition") is epcis.Disposition.NON_CONFORMANT
            event, _hold = trade.inspect(session, signer, ctx, goods, passed=not failed, document=doc)
        else:
            stage = vvm.stage_in(self.body) if operation is TradeAction.ADMINISTER else None
            if stage is not None:
                vvm.require_usable(stage, f"{self.where}: the vials")
            event = _USES[operation](session, signer, ctx, goods, document=doc)
        record_sensor_data(session, signer, self.org, event, shipment_id=shipment_id)
        return operation

    def _sensor_report(self) -> str:
        """Readings about goods of this network (by item or by lot): on their batches' chains and in the
        capturing organisation's logs of them, which it must hold or have held."""
        codes = tuple(self._link(uri, f"epcList[{i}]") for i, uri in enumerate(self.body.get("epcList") or ()))
        batch_ids = set(resolve(self.session, Goods(codes=codes)).batches) if codes else set()
        for i, element in enumerate(self.body.get("quantityList") or ()):
            link = self._link(element["epcClass"], f"quantityList[{i}].epcClass")
            if link.gtin is None or link.lot is None:
                raise InvalidEvent(f"{self.where}.quantityList[{i}]: a sensor report names lots", field=self.where)
            batch_ids.add(find_batch_id(self.session, link.gtin, link.lot))
        for batch_id in sorted(batch_ids):
            if self.session.get(Holding, (self.org.id, batch_id)) is None:
                raise NotRecorder(f"{self.where}: {self.org.name} has never held batch {batch_id}", batch_id=batch_id)
        batches = lock_batches(self.session, batch_ids).values()
        event = record_event(
            self.session, self.signer, org=self.org, document=self.event.stored, batches=batches,
            event_time=self.event.event_time,
        )  # fmt: skip
        record_sensor_data(self.session, self.signer, self.org, event, shipment_id=None)
        return "sensor_report"

    def _aggregation(self, step: epcis.BizStep) -> TradeAction:
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
            self._require_role(TradeAction.PACK)
            packing.pack(self.session, self.signer, self.ctx, children, sscc=link.sscc, document=self.event.stored)
            return TradeAction.PACK
        if step is epcis.BizStep.UNPACKING and self.body["action"] == "DELETE":
            self._require_role(TradeAction.UNPACK)
            packing.unpack(
                self.session, self.signer, self.ctx, sscc=link.sscc, children=children, document=self.event.stored
            )
            return TradeAction.UNPACK
        raise InvalidTransition(
            f"{self.where}.action: packing is an ADD and unpacking a DELETE", field=f"{self.where}.action"
        )

    def _transform(self) -> TradeAction:
        self._require_role(TradeAction.TRANSFORM)
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
        return TradeAction.TRANSFORM

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
        if canonical is None or gs1_key(uri) not in self.known:
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

    def _require_role(self, action: TradeAction) -> None:
        """The ledger's role check, made before the event's parties are looked at and naming the event refused."""
        try:
            require_trade_role(self.org, action)
        except RoleRequired as refused:
            raise RoleRequired(f"{self.where}: {refused.detail}", **refused.context) from None

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
    epcis.BizStep.SHIPPING: TradeAction.SHIP,
    epcis.BizStep.RECEIVING: TradeAction.RECEIVE,
    epcis.BizStep.RETAIL_SELLING: TradeAction.SELL,
    epcis.BizStep.DISPENSING: TradeAction.ADMINISTER,
    epcis.BizStep.DESTROYING: TradeAction.DESTROY,
    epcis.BizStep.INSPECTING: TradeAction.INSPECT,
}
_USES: Final = {
    TradeAction.SELL: trade.sell,
    TradeAction.ADMINISTER: trade.administer,
    TradeAction.DESTROY: trade.destroy,
}


def party_org(session: Session, party: str) -> Organisation | None:
    """The organisation a lotline party id names (``urn:lotline:party:uscc:<USCC>`` or a GLN Digital Link)."""
    if party.startswith(_PARTY_USCC):
        return session.scalar(select(Organisation).where(Organisation.uscc == party.removeprefix(_PARTY_USCC)))
    if party.startswith(_PARTY_GLN):
        return session.scalar(select(Organisation).where(Organisation.gln == party.removeprefix(_PARTY_GLN)))
    return None
