"""Turns API scans into the ledger's trade operations, after the trade policy says the organisation may."""

from __future__ import annotations

from contextlib import suppress

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import packing, terms, trade
from ledger.coldchain import vvm
from ledger.coldchain.scan_data import record_sensor_data
from ledger.epcis import SensorElement, SensorReport
from ledger.errors import LotlineError
from ledger.goods import BatchLine, Goods, find_batch_id, lock_batches
from ledger.identifiers import parse_code
from ledger.models import Batch, Code, Organisation, Product
from ledger.policy import TradeAction, require_trade_role
from ledger.recorder import Signer
from ledger.registry import organisation_by_uscc
from trace_api.scans.schemas import Scan, ScanResult


def _goods(scan: Scan) -> Goods:
    return Goods(
        codes=tuple(parse_code(text) for text in scan.codes),
        lines=tuple(BatchLine(line.gtin, line.lot, line.quantity) for line in scan.lines),
    )


def lock_all_batches(session: Session, scans: list[Scan]) -> None:
    """Lock every batch a list of scans names, in id order, before the first scan runs.

    Each scan locks its own batches in id order, but two lists could still take them in opposite orders across
    their scans and deadlock (seen on PostgreSQL under load). Taking them all up front makes the order global.
    Names that do not resolve are left for the scan itself to refuse with its proper error.
    """
    batch_ids: set[int] = set()
    for scan in scans:
        for line in scan.lines:
            with suppress(LotlineError):
                batch_ids.add(find_batch_id(session, line.gtin, line.lot))
        for text in scan.codes:
            with suppress(LotlineError):
                link = parse_code(text)
                if link.serial is not None and link.gtin is not None:
                    batch_id = session.scalar(
                        select(Code.batch_id)
                        .join(Product, Product.gtin == link.gtin)
                        .join(Batch, (Batch.id == Code.batch_id) & (Batch.product_id == Product.id))
                        .where(Code.serial == link.serial)
                    )
                    if batch_id is not None:
                        batch_ids.add(batch_id)
    lock_batches(session, batch_ids)


def sensor_elements(org: Organisation, scan: Scan) -> tuple[SensorElement, ...]:
    """What the scan's sensors said, as EPCIS sensor elements: each logger's readings, and a vial monitor's stage."""
    elements = [
        SensorElement(
            reports=[
                SensorReport(value=r.value, time=r.time, min_value=r.min, max_value=r.max, mean_value=r.mean)
                for r in sensor.readings
            ],
            device_id=terms.device_uri(org.uscc, sensor.device_id),
        )
        for sensor in scan.sensors
    ]
    if scan.vvm_stage is not None:
        elements.append(vvm.sensor_element(scan.vvm_stage))
    return tuple(elements)


def record_scan(session: Session, signer: Signer, org: Organisation, scan: Scan) -> ScanResult:
    require_trade_role(org, scan.action)
    if scan.action is TradeAction.ADMINISTER and scan.vvm_stage is not None:
        vvm.require_usable(scan.vvm_stage, "the vials scanned")
    sensors = sensor_elements(org, scan)
    ctx = trade.ScanContext(org=org, location_id=scan.location_id, event_time=scan.event_time, sensors=sensors)
    shipment_id = output_batch_id = None
    match scan.action:
        case TradeAction.SHIP:
            assert scan.to_org is not None
            receiver = organisation_by_uscc(session, scan.to_org)
            event, shipment = trade.ship(session, signer, ctx, _goods(scan), to_org_id=receiver.id)
            shipment_id = shipment.id
        case TradeAction.RECEIVE:
            assert scan.shipment_id is not None
            goods = _goods(scan) if scan.codes or scan.lines else None
            event = trade.receive(session, signer, ctx, shipment_id=scan.shipment_id, goods=goods)
            shipment_id = scan.shipment_id
        case TradeAction.SELL:
            event = trade.sell(session, signer, ctx, _goods(scan))
        case TradeAction.ADMINISTER:
            event = trade.administer(session, signer, ctx, _goods(scan))
        case TradeAction.DESTROY:
            event = trade.destroy(session, signer, ctx, _goods(scan))
        case TradeAction.INSPECT:
            assert scan.passed is not None
            event, _hold = trade.inspect(
                session, signer, ctx, _goods(scan), passed=scan.passed, reason=scan.reason or ""
            )
        case TradeAction.PACK:
            assert scan.sscc is not None
            event, _parent = packing.pack(session, signer, ctx, _goods(scan).codes, sscc=scan.sscc)
        case TradeAction.UNPACK:
            assert scan.sscc is not None
            event = packing.unpack(session, signer, ctx, sscc=scan.sscc, children=_goods(scan).codes)
        case TradeAction.TRANSFORM:
            assert scan.output is not None
            event, output = packing.transform(
                session,
                signer,
                ctx,
                _goods(scan),
                output_gtin=scan.output.gtin,
                output_lot=scan.output.lot,
                output_quantity=scan.output.quantity,
            )
            output_batch_id = output.id
    excursions = []
    if sensors:
        moving = scan.action in (TradeAction.SHIP, TradeAction.RECEIVE)
        excursions = record_sensor_data(session, signer, org, event, shipment_id=shipment_id if moving else None)
    return ScanResult(
        action=scan.action,
        event_id=event.event_id,
        shipment_id=shipment_id,
        output_batch_id=output_batch_id,
        anchoring="pending",
        excursions=[e.number for e in excursions],
    )
