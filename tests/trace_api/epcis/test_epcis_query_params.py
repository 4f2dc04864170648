"""The EPCIS 2.0 query parameters on parents, transformation inputs and outputs, and typed lists (business
transactions, sources, destinations), each against GS1's examples captured as observations."""

from __future__ import annotations

import json

import pytest

from tests.trace_api.client import Api
from tests.trace_api.epcis.test_epcis_api import EXAMPLES
from tests.trace_api.epcis.test_epcis_contexts import assert_every_event_rehashes, events_of, pages

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:epcis_event_hash_generator")
CAPTURED = (
    "Example_9.6.1-ObjectEvent",
    "Example_9.6.2-ObjectEvent",
    "Example_9.6.3-AggregationEvent",
    "Example_9.6.4-TransformationEvent",
)


def test_parent_input_output_and_typed_list_parameters(api: Api) -> None:
    _partner, token = api.org("伙伴", "distributor")
    for name in CAPTURED:
        document = json.loads((EXAMPLES / f"{name}.jsonld").read_text())
        assert api.client.post("/epcis/capture", json=document, headers=api.auth(token)).status_code == 201

    def found(**params: str) -> list[tuple[str, str | None]]:
        answers = pages(api, token, **params)
        return sorted((e["type"], e.get("bizStep")) for a in answers for e in events_of(a))

    sscc = "urn:epc:id:sscc:0614141.1234567890"
    assert found(MATCH_parentID=sscc) == [("AggregationEvent", "receiving")]
    assert found(MATCH_parentID="https://id.gs1.org/00/106141412345678908") == [("AggregationEvent", "receiving")]
    assert found(MATCH_inputEPC="urn:epc:id:sgtin:4012345.011122.25") == [("TransformationEvent", "commissioning")]
    assert found(MATCH_inputEPC="urn:epc:id:sgtin:4012345.077889.25") == []
    assert found(MATCH_outputEPC="urn:epc:id:sgtin:4012345.077889.25") == [("TransformationEvent", "commissioning")]
    assert found(MATCH_outputEPC="urn:epc:idpat:sgtin:4012345.077889.*") == [("TransformationEvent", "commissioning")]

    po = "http://transaction.acme.com/po/12345678"
    assert found(EQ_bizTransaction_po=po) == [("ObjectEvent", "receiving"), ("ObjectEvent", "shipping")]
    assert found(**{"EQ_bizTransaction_https://ref.gs1.org/cbv/BTT-po": po}) == found(EQ_bizTransaction_po=po)
    assert found(EQ_bizTransaction_desadv=po) == []  # the value under another type
    assert found(EQ_bizTransaction_desadv="urn:epcglobal:cbv:bt:0614141073467:1152") == [("ObjectEvent", "receiving")]
    assert found(EQ_source_possessing_party="urn:epc:id:sgln:4012345.00001.0") == [("ObjectEvent", "receiving")]
    assert found(EQ_source_location="urn:epc:id:sgln:4012345.00001.0") == []
    assert found(EQ_destination_owning_party="urn:epc:id:sgln:0614141.00001.0|urn:x:none") == [
        ("ObjectEvent", "receiving")
    ]
    # No location hierarchy is kept: a location's descendants are itself.
    assert found(WD_readPoint="urn:epc:id:sgln:0614141.07346.1234") == [("ObjectEvent", "shipping")]
    assert found(WD_bizLocation="urn:epc:id:sgln:0012345.11111.0") == [("ObjectEvent", "receiving")]
    # Several parameters: all of them must hold.
    assert found(EQ_bizTransaction_po=po, EQ_bizStep="shipping") == [("ObjectEvent", "shipping")]
    assert len(assert_every_event_rehashes(pages(api, token, MATCH_anyEPC=sscc))) == 1
