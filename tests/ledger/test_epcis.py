"""Event builders and schema validation: what lotline writes is valid EPCIS 2.0 and hashes as GS1's reference does."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from epcis_event_hash_generator import hash_generator, json_to_py

from ledger import epcis, epcis_schema
from ledger.errors import InvalidEvent, InvalidQuantity
from ledger.event_hash import STANDARD_CONTEXT, event_hash

# The reference still calls importlib.resources.open_text; its deprecation warning is not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:epcis_event_hash_generator")
EXAMPLES = Path(__file__).parent.parent / "data" / "epcis"
WHEN = datetime(2024, 5, 1, 2, 0, 0, 123456, tzinfo=UTC)
ITEM = "https://id.gs1.org/01/09521234543213/21/K7XQ2M9PLR4T"
ITEM_URN = "urn:epc:id:sgtin:9521234.054321.2017"
LOT = "https://id.gs1.org/01/09521234543213/10/L2405"
SSCC = "https://id.gs1.org/00/095212340000000017"
SITE = "urn:lotline:location:5"


def reference_hash(event: dict[str, Any]) -> str:
    document = {"@context": [STANDARD_CONTEXT], "type": "EPCISDocument", "epcisBody": {"eventList": [event]}}
    json_to_py._namespaces.clear()
    parsed = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(document))
    hashes: list[str] = hash_generator.epcis_hashes_from_events(parsed)
    assert len(hashes) == 1
    return hashes[0]


BUILT: dict[str, Callable[[], dict[str, Any]]] = {
    "document_on_a_lot_without_quantity": lambda: epcis.object_event(
        action=epcis.Action.OBSERVE,
        event_time=WHEN,
        quantity_list=[{"epcClass": LOT}],
        biz_step="inspecting",
        certification_info=["ni:///sha-256;" + "ab" * 32 + "?type=quarantine_certificate"],
    ),
    "commission_lot_with_expiry": lambda: epcis.object_event(
        action=epcis.Action.ADD,
        event_time=WHEN,
        quantity_list=[epcis.Quantity(LOT, 120, "KGM")],
        biz_step="commissioning",
        disposition="active",
        read_point=SITE,
        source_list=[{"type": "owning_party", "id": "urn:lotline:party:uscc:91330100MA27XXXX0X"}],
        ilmd={"cbvmda:itemExpirationDate": date(2025, 1, 1).isoformat()},
    ),
    "ship_codes_and_quantities": lambda: epcis.object_event(
        action="OBSERVE",
        event_time=WHEN,
        epc_list=[ITEM, ITEM_URN],
        quantity_list=[{"epcClass": LOT, "quantity": 5}],
        biz_step=epcis.BizStep.SHIPPING,
        disposition=epcis.Disposition.IN_TRANSIT,
        read_point=SITE,
        source_list=[epcis.SourceDest(epcis.SourceDestType.OWNING_PARTY, "https://id.gs1.org/417/9521234000006")],
        destination_list=[("owning_party", "urn:lotline:party:uscc:91330100MA27YYYY0Y"), ("location", SITE)],
        biz_transaction_list=[("desadv", "urn:lotline:shipment:42")],
    ),
    "sell_with_sold_alias": lambda: epcis.object_event(
        action="OBSERVE",
        event_time=WHEN,
        epc_list=[ITEM],
        biz_step="retail_selling",
        disposition="sold",
        biz_location="https://id.gs1.org/414/9521234000006",
        event_time_zone_offset="-05:00",
    ),
    "cold_chain_readings": lambda: epcis.object_event(
        action="OBSERVE",
        event_time=WHEN,
        epc_list=[SSCC],
        biz_step="sensor_reporting",
        sensor_element_list=[
            epcis.SensorElement(
                reports=[
                    epcis.SensorReport(value=-18.5, type="gs1:Temperature", time=WHEN),
                    epcis.SensorReport(value=Decimal("-17"), time=WHEN + timedelta(minutes=5)),
                ],
                start_time=WHEN,
                end_time=WHEN + timedelta(minutes=5),
                device_id="urn:epc:id:giai:4000001.111",
            )
        ],
        certification_info="https://example.org/cert/cold-chain-1",
    ),
    "pack_into_pallet": lambda: epcis.aggregation_event(
        action=epcis.Action.ADD,
        event_time=WHEN,
        parent_id=SSCC,
        child_epcs=[ITEM, ITEM_URN],
        child_quantity_list=[epcis.Quantity(LOT, 2.5, "KGM")],
        biz_step="packing",
        disposition="in_progress",
    ),
    "unpack_pallet": lambda: epcis.aggregation_event(
        action="DELETE", event_time=WHEN, parent_id="urn:epc:id:sscc:9521234.0000000001", biz_step="unpacking"
    ),
    "transform_batches": lambda: epcis.transformation_event(
        event_time=WHEN,
        input_epcs=[ITEM],
        input_quantity_list=[epcis.Quantity(LOT, 10, "KGM")],
        output_quantity_list=[epcis.Quantity("https://id.gs1.org/01/09521234543220/10/MIX1", 9.5, "KGM")],
        biz_step="transforming",
        disposition=epcis.Disposition.ACTIVE,
        read_point=SITE,
        ilmd={"cbvmda:itemExpirationDate": "2025-02-01"},
    ),
    "recall_transaction": lambda: epcis.transaction_event(
        action="ADD",
        event_time=WHEN,
        biz_transaction_list=[("urn:lotline:btt:recall", "urn:lotline:recall:9")],
        epc_list=[ITEM],
        disposition="recalled",
    ),
}


@pytest.mark.parametrize("name", BUILT)
def test_built_events_are_valid_epcis_and_hash_as_the_reference_does(name: str) -> None:
    event = BUILT[name]()
    epcis_schema.validate_event(event)
    assert event_hash(event) == reference_hash(event)


def test_a_document_of_built_events_is_valid_and_keeps_their_hashes() -> None:
    events = [build() for build in BUILT.values()]
    document = epcis.epcis_document(events, sender="urn:lotline:party:a", receiver="urn:lotline:party:b")
    epcis_schema.validate_document(document)
    assert document["schemaVersion"] == "2.0"
    body = document["epcisBody"]["eventList"]
    assert [event_hash(e, document["@context"]) for e in body] == [event_hash(e) for e in events]


def test_builders_write_cbv_short_names_type_first_parties_and_milliseconds_in_the_offset() -> None:
    event = BUILT["ship_codes_and_quantities"]()
    assert event["eventTime"] == "2024-05-01T10:00:00.123+08:00"
    assert event["eventTimeZoneOffset"] == "+08:00"
    assert (event["bizStep"], event["disposition"]) == ("shipping", "in_transit")
    assert list(event["destinationList"][0]) == ["type", "destination"]
    assert BUILT["sell_with_sold_alias"]()["disposition"] == "retail_sold"
    assert BUILT["cold_chain_readings"]()["sensorElementList"][0]["sensorReport"][0]["type"] == "Temperature"


@pytest.mark.parametrize(
    ("given", "member"),
    [
        ("shipping", epcis.BizStep.SHIPPING),
        ("urn:epcglobal:cbv:bizstep:receiving", epcis.BizStep.RECEIVING),
        ("https://ref.gs1.org/cbv/BizStep-dispensing", epcis.BizStep.DISPENSING),
        ("transforming", epcis.BizStep.TRANSFORMING),
    ],
)
def test_biz_steps_accept_short_names_urns_and_web_uris(given: str, member: epcis.BizStep) -> None:
    assert epcis.BizStep(given) is member


def test_dispositions_and_party_types_accept_every_cbv_spelling() -> None:
    assert epcis.Disposition("urn:epcglobal:cbv:disp:non_sellable_other") is epcis.Disposition.NON_SELLABLE_OTHER
    assert epcis.Disposition("https://ref.gs1.org/cbv/Disp-expired") is epcis.Disposition.EXPIRED
    assert epcis.SourceDestType("https://ref.gs1.org/cbv/SDT-possessing_party") is epcis.SourceDestType.POSSESSING_PARTY
    with pytest.raises(ValueError):
        epcis.Disposition("lost")


def test_builders_refuse_naive_times_negative_quantities_and_empty_events() -> None:
    with pytest.raises(InvalidEvent, match="no time zone"):
        epcis.object_event(action="ADD", event_time=datetime(2024, 5, 1), epc_list=[ITEM])
    with pytest.raises(InvalidQuantity):
        epcis.object_event(action="ADD", event_time=WHEN, quantity_list=[epcis.Quantity(LOT, -1)])
    with pytest.raises(InvalidEvent, match="at least one EPC or quantity"):
        epcis.object_event(action="ADD", event_time=WHEN)
    with pytest.raises(InvalidEvent, match="form"):
        epcis.object_event(action="ADD", event_time=WHEN, epc_list=[ITEM], event_time_zone_offset="8")


def test_event_time_is_written_in_the_declared_offset() -> None:
    local = datetime(2024, 5, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    event = epcis.object_event(action="ADD", event_time=local, epc_list=[ITEM], event_time_zone_offset="+08:00")
    assert event["eventTime"] == "2024-05-01T15:30:00.000+08:00"


# --- invalid input names the field ------------------------------------------------------------------------


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_text())
    return document


@pytest.mark.parametrize(
    ("path", "value", "detail"),
    [
        (("epcList", 1), "foo", "epcisBody.eventList[0].epcList[1]: 'foo' is not a valid URI"),
        (("eventTimeZoneOffset",), "+8", "epcisBody.eventList[0].eventTimeZoneOffset: "),
        (("eventTime",), "yesterday", "epcisBody.eventList[0].eventTime: 'yesterday' is not a valid date-time"),
        (("action",), "MOVE", "epcisBody.eventList[0].action: 'MOVE' is not one of"),
        (("readPoint", "id"), "not a uri", "epcisBody.eventList[0].readPoint.id: "),
        (("bizTransactionList", 0, "bizTransaction"), 7, "epcisBody.eventList[0].bizTransactionList[0].bizTransaction"),
    ],
)
def test_invalid_document_names_the_failing_field(path: tuple[Any, ...], value: Any, detail: str) -> None:
    document = _document()
    target = document["epcisBody"]["eventList"][0]
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    with pytest.raises(InvalidEvent) as refused:
        epcis_schema.validate_document(document)
    assert refused.value.detail.startswith(detail)
    assert refused.value.context["field"] == detail.split(":")[0]


def test_missing_required_field_is_reported_at_its_event() -> None:
    document = _document()
    del document["epcisBody"]["eventList"][0]["eventTime"]
    with pytest.raises(InvalidEvent, match=r"^epcisBody\.eventList\[0\]: 'eventTime' is a required property"):
        epcis_schema.validate_document(document)


def test_unknown_event_type_is_refused_with_its_position() -> None:
    document = _document()
    document["epcisBody"]["eventList"][1]["type"] = "https://example.com/ShippingEvent"
    with pytest.raises(InvalidEvent, match=r"eventList\[1\]\.type: unknown event type"):
        epcis_schema.validate_document(document)
    with pytest.raises(InvalidEvent, match="unknown event type 'Shipment'"):
        epcis_schema.validate_event({"type": "Shipment", "eventTime": "2024-05-01T10:00:00Z"})


def test_single_invalid_event_names_the_path_inside_it() -> None:
    event = BUILT["ship_codes_and_quantities"]()
    event["quantityList"][0]["uom"] = "kilogram"
    with pytest.raises(InvalidEvent, match=r"^quantityList\[0\]\.uom: 'kilogram' does not match"):
        epcis_schema.validate_event(event)


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("Example_9.6*.jsonld")), ids=lambda p: p.stem)
def test_gs1_example_documents_are_valid(path: Path) -> None:
    epcis_schema.validate_document(json.loads(path.read_text()))


def test_sensor_data_at_a_read_point_stands_on_its_own_but_not_without_one() -> None:
    element = epcis.SensorElement(
        reports=[epcis.SensorReport(value=None, min_value=-21.5, max_value=-18.2, mean_value=-19.9)],
        start_time=WHEN,
        end_time=WHEN + timedelta(hours=1),
        device_id="urn:epc:id:giai:4000001.111",
    )
    event = epcis.object_event(
        action="OBSERVE", event_time=WHEN, read_point="urn:lotline:location:7", sensor_element_list=[element]
    )
    assert event["sensorElementList"][0]["sensorReport"] == [
        {"type": "Temperature", "minValue": -21.5, "maxValue": -18.2, "meanValue": -19.9, "uom": "CEL"}
    ]
    epcis_schema.validate_event(event)
    with pytest.raises(InvalidEvent, match="at least one EPC or quantity"):
        epcis.object_event(action="OBSERVE", event_time=WHEN, sensor_element_list=[element])
