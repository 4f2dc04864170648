"""The EPCIS events lotline writes, one builder per ledger operation: the one place that knows how they look.

``ledger.registry``, ``ledger.codes``, ``ledger.trade`` and ``ledger.packing`` record these events, and the
synthetic generator (``importers.generate``) builds the very same documents from its own bookkeeping, so an event
has the same CBV 2.0 hash whoever wrote it (docs/events.md). The builders take goods already named the lotline way
(``ledger.terms``): the EPCs of the codes as scanned, then the quantity elements of batch lines; parties as
``terms.owning_party``; the read point as a location URI, or none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from ledger import terms
from ledger.epcis import (
    Action,
    BizStep,
    Disposition,
    SensorElement,
    SensorReport,
    aggregation_event,
    object_event,
    transformation_event,
)
from ledger.policy import TradeAction

Document = dict[str, Any]
Party = Mapping[str, str]
QuantityElement = Mapping[str, Any]

# The two ends of a shipment: its step, and where the goods stand after it.
_TRANSFERS: Final[dict[TradeAction, tuple[BizStep, Disposition]]] = {
    TradeAction.SHIP: (BizStep.SHIPPING, Disposition.IN_TRANSIT),
    TradeAction.RECEIVE: (BizStep.RECEIVING, Disposition.IN_PROGRESS),
}
# Packing leaves the case open for more (in progress); unpacking says nothing of what is left.
_AGGREGATIONS: Final[dict[TradeAction, tuple[Action, BizStep, Disposition | None]]] = {
    TradeAction.PACK: (Action.ADD, BizStep.PACKING, Disposition.IN_PROGRESS),
    TradeAction.UNPACK: (Action.DELETE, BizStep.UNPACKING, None),
}
# What each way of using goods up says: the step, the disposition, and whether the goods leave existence.
_CONSUMPTIONS: Final[dict[TradeAction, tuple[BizStep, Disposition, Action]]] = {
    TradeAction.SELL: (BizStep.RETAIL_SELLING, Disposition.RETAIL_SOLD, Action.OBSERVE),
    TradeAction.ADMINISTER: (BizStep.DISPENSING, Disposition.DISPENSED, Action.OBSERVE),
    TradeAction.DESTROY: (BizStep.DESTROYING, Disposition.DESTROYED, Action.DELETE),
}


def lot_commissioning(
    *,
    event_time: datetime,
    lot: QuantityElement,
    registrant: Party,
    read_point: str | None,
    ilmd: Mapping[str, Any] | None,
) -> Document:
    """A batch registered: its whole quantity commissioned by the registrant, with its lot master data."""
    return object_event(
        action=Action.ADD,
        quantity_list=[lot],
        biz_step=BizStep.COMMISSIONING,
        disposition=Disposition.ACTIVE,
        event_time=event_time,
        read_point=read_point,
        source_list=[registrant],
        ilmd=ilmd,
    )


def item_commissioning(
    *,
    event_time: datetime,
    epcs: Sequence[str],
    registrant: Party,
    read_point: str | None,
    ilmd: Mapping[str, Any] | None,
) -> Document:
    """Item codes (一品一码) issued under a batch by its registrant, with the lot's master data (its lot number,
    its expiry date when known: ``terms.lot_master_data``)."""
    return object_event(
        action=Action.ADD,
        epc_list=epcs,
        biz_step=BizStep.COMMISSIONING,
        disposition=Disposition.ACTIVE,
        event_time=event_time,
        read_point=read_point,
        source_list=[registrant],
        ilmd=ilmd,
    )


def transfer(
    action: TradeAction,
    *,
    event_time: datetime,
    epcs: Sequence[str],
    quantities: Sequence[QuantityElement],
    sender: Party,
    receiver: Party,
    read_point: str | None,
    sensors: Sequence[SensorElement] = (),
) -> Document:
    """Goods leaving the sender for the receiver (in transit until received), or arriving there (with the
    logger's readings, or a vial monitor's stage)."""
    biz_step, disposition = _TRANSFERS[action]
    return object_event(
        action=Action.OBSERVE,
        epc_list=epcs,
        quantity_list=quantities,
        biz_step=biz_step,
        disposition=disposition,
        event_time=event_time,
        read_point=read_point,
        source_list=[sender],
        destination_list=[receiver],
        sensor_element_list=sensors,
    )


def consumption(
    action: TradeAction,
    *,
    event_time: datetime,
    epcs: Sequence[str],
    quantities: Sequence[QuantityElement],
    holder: Party,
    read_point: str | None,
    sensors: Sequence[SensorElement] = (),
) -> Document:
    """Goods used up by their holder: sold, administered (a vaccine dose, with its vial monitor's stage) or
    destroyed."""
    biz_step, disposition, epcis_action = _CONSUMPTIONS[action]
    return object_event(
        action=epcis_action,
        epc_list=epcs,
        quantity_list=quantities,
        biz_step=biz_step,
        disposition=disposition,
        event_time=event_time,
        read_point=read_point,
        source_list=[holder],
        sensor_element_list=sensors,
    )


def inspection(
    *,
    passed: bool,
    event_time: datetime,
    epcs: Sequence[str],
    quantities: Sequence[QuantityElement],
    read_point: str | None,
    sensors: Sequence[SensorElement] = (),
) -> Document:
    """A sampling inspection (抽检) of goods, conformant or not (with a probe's readings, if one was taken)."""
    return object_event(
        action=Action.OBSERVE,
        epc_list=epcs,
        quantity_list=quantities,
        biz_step=BizStep.INSPECTING,
        disposition=Disposition.CONFORMANT if passed else Disposition.NON_CONFORMANT,
        event_time=event_time,
        read_point=read_point,
        sensor_element_list=sensors,
    )


def temperature_log(
    *,
    event_time: datetime,
    lots: Sequence[str],
    recorder: Party,
    read_point: str | None,
    device: str,
    period: tuple[datetime, datetime],
    extremes: tuple[float, float, float],
    digest: str,
    kind: str,
) -> Document:
    """A logger's readings arrived (a file, a gateway's batch): the lots they speak for, the device and its
    period's lowest, highest and mean °C, and the SHA-256 of the bytes as received, as a batch document's event
    carries the document's. A cold store's log may speak for no lot: its read point stands in."""
    low, high, mean = extremes
    summary = SensorReport(value=None, min_value=low, max_value=high, mean_value=round(mean, 3))
    return object_event(
        action=Action.OBSERVE,
        event_time=event_time,
        quantity_list=[{"epcClass": lot} for lot in lots],
        biz_step=BizStep.SENSOR_REPORTING,
        read_point=read_point,
        source_list=[recorder],
        sensor_element_list=[
            SensorElement(reports=[summary], start_time=period[0], end_time=period[1], device_id=device)
        ],
        certification_info=[f"ni:///sha-256;{digest}?type={kind}"],
    )


def excursion_release(*, event_time: datetime, lots: Sequence[str], releaser: Party, evidence_digest: str) -> Document:
    """Goods held by a cold-chain excursion found fit after all: the releaser and the SHA-256 of its evidence."""
    return object_event(
        action=Action.OBSERVE,
        event_time=event_time,
        quantity_list=[{"epcClass": lot} for lot in lots],
        biz_step=BizStep.INSPECTING,
        disposition=Disposition.CONFORMANT,
        source_list=[releaser],
        certification_info=[f"ni:///sha-256;{evidence_digest}?type=excursion_release"],
    )


def aggregation(
    action: TradeAction, *, sscc: str, child_epcs: Sequence[str], event_time: datetime, read_point: str | None
) -> Document:
    """Codes put into (pack) or taken out of (unpack) a case or pallet named by its SSCC."""
    epcis_action, biz_step, disposition = _AGGREGATIONS[action]
    return aggregation_event(
        action=epcis_action,
        parent_id=terms.sscc_epc(sscc),
        child_epcs=child_epcs,
        biz_step=biz_step,
        disposition=disposition,
        event_time=event_time,
        read_point=read_point,
    )


def transformation(
    *,
    event_time: datetime,
    input_epcs: Sequence[str],
    input_quantities: Sequence[QuantityElement],
    output: QuantityElement,
    read_point: str | None,
) -> Document:
    """Input goods consumed into one new output lot (carcasses cut into packs)."""
    return transformation_event(
        input_epcs=input_epcs,
        input_quantity_list=input_quantities,
        output_quantity_list=[output],
        biz_step=BizStep.TRANSFORMING,
        disposition=Disposition.ACTIVE,
        event_time=event_time,
        read_point=read_point,
    )
