"""The CBV 2.0 event hash, held against GS1's reference generator (epcis-event-hash-generator 1.9.3).

The reference is the oracle: every GS1 example event, every generated event and every URI it can canonicalise must
come out the same. It hashes whole documents, so each event is wrapped in a one-event document with its
document's @context (minus expanded term definitions, on which the reference crashes).
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest
from epcis_event_hash_generator import dl_normaliser, hash_generator, json_to_py
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.errors import InvalidEvent
from ledger.event_hash import STANDARD_CONTEXT, canonical_uri, digest_hex, event_hash, hash_digest, pre_hash_string

# The reference still calls importlib.resources.open_text; its deprecation warning is not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:epcis_event_hash_generator")
EXAMPLES = Path(__file__).parent.parent / "data" / "epcis"
CONTEXT = [STANDARD_CONTEXT, {"example": "http://ns.example.com/epcis/"}]


def reference_pre_hashes(events: list[dict[str, Any]], context: Any = CONTEXT) -> list[str]:
    parts = context if isinstance(context, list) else [context]
    usable = [p if isinstance(p, str) else {k: v for k, v in p.items() if isinstance(v, str)} for p in parts]
    document = {"@context": usable, "type": "EPCISDocument", "epcisBody": {"eventList": copy.deepcopy(events)}}
    json_to_py._namespaces.clear()  # the reference keeps prefixes from earlier documents in a global
    parsed = json_to_py.event_list_from_epcis_document_json(document)
    pre_hashes: list[str] = hash_generator.derive_prehashes_from_events(parsed)
    return pre_hashes


def reference_hash(event: dict[str, Any], context: Any = CONTEXT) -> str:
    pre_hashes = reference_pre_hashes([event], context)
    assert len(pre_hashes) == 1, "the reference dropped the event"
    hashes: list[str] = hash_generator.calculate_hashes_from_pre_hashes(pre_hashes)
    return hashes[0]


def example_events() -> list[Any]:
    cases = []
    for path in sorted(EXAMPLES.glob("*.jsonld")):
        document = json.loads(path.read_text())
        body = document["epcisBody"]
        events = body["eventList"] if "eventList" in body else body["queryResults"]["resultsBody"]["eventList"]
        for index, event in enumerate(events):
            cases.append(pytest.param(event, document["@context"], id=f"{path.stem}[{index}]"))
    return cases


@pytest.mark.parametrize(("event", "context"), example_events())
def test_gs1_example_event_hashes_as_the_reference_does(event: dict[str, Any], context: Any) -> None:
    try:
        expected = reference_hash(event, context)
    except (IndexError, AssertionError):
        # The reference crashes on a bizTransaction without a type: no third party could check any id we gave it.
        with pytest.raises(InvalidEvent, match="needs both a type and a value"):
            event_hash(event, context)
        return
    assert pre_hash_string(event, context) == reference_pre_hashes([event], context)[0]
    assert event_hash(event, context) == expected


@pytest.mark.parametrize("name", ["Example_9.6.1-ObjectEvent", "SensorDataExample1", "Example_9.6.2-ObjectEvent"])
def test_hashes_of_a_whole_example_document_match_the_reference_file_run(name: str) -> None:
    from epcis_event_hash_generator.__main__ import epcis_hash_from_file

    json_to_py._namespaces.clear()
    expected, _ = epcis_hash_from_file(str(EXAMPLES / f"{name}.jsonld"))
    document = json.loads((EXAMPLES / f"{name}.jsonld").read_text())
    assert [event_hash(e, document["@context"]) for e in document["epcisBody"]["eventList"]] == expected


# --- generated events ---------------------------------------------------------------------------------------

GTIN_BODY = st.text("0123456789", min_size=13, max_size=13)
SERIAL = st.text("ABCxyz0123456789-._", min_size=1, max_size=12)
COMPANY_PREFIX = st.integers(6, 12)


def _check_digit(body: str) -> str:
    return str(-sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body))) % 10)


@st.composite
def item_epcs(draw: st.DrawFn) -> str:
    body, serial, gcp = draw(GTIN_BODY), draw(SERIAL), draw(COMPANY_PREFIX)
    if draw(st.booleans()):
        return f"https://id.gs1.org/01/{body}{_check_digit(body)}/21/{serial}"
    return f"urn:epc:id:sgtin:{body[1 : gcp + 1]}.{body[0]}{body[gcp + 1 :]}.{serial}"


@st.composite
def container_epcs(draw: st.DrawFn) -> str:
    body, gcp = draw(st.text("0123456789", min_size=17, max_size=17)), draw(COMPANY_PREFIX)
    if draw(st.booleans()):
        return f"https://id.gs1.org/00/{body}{_check_digit(body)}"
    return f"urn:epc:id:sscc:{body[1 : gcp + 1]}.{body[0]}{body[gcp + 1 :]}"


@st.composite
def lot_classes(draw: st.DrawFn) -> str:
    body, lot, gcp = draw(GTIN_BODY), draw(SERIAL), draw(COMPANY_PREFIX)
    if draw(st.booleans()):
        return f"https://example.com/01/{body}{_check_digit(body)}/10/{lot}?linkType=all"
    return f"urn:epc:class:lgtin:{body[1 : gcp + 1]}.{body[0]}{body[gcp + 1 :]}.{lot}"


@st.composite
def locations(draw: st.DrawFn) -> str:
    gln, gcp = draw(st.text("0123456789", min_size=12, max_size=12)), draw(st.integers(6, 11))
    return draw(st.sampled_from([
        f"urn:epc:id:sgln:{gln[:gcp]}.{gln[gcp:]}.{draw(st.sampled_from(['0', '12', 'dock']))}",
        f"https://id.gs1.org/414/{gln}{_check_digit(gln)}", "urn:lotline:location:7",
    ]))  # fmt: skip


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    moment = draw(st.datetimes(min_value=__import__("datetime").datetime(2000, 1, 1)))
    hours, minutes = draw(st.integers(-12, 14)), draw(st.sampled_from([0, 30, 45]))
    offset = "Z" if draw(st.booleans()) else f"{'-' if hours < 0 else '+'}{abs(hours):02d}:{minutes:02d}"
    fraction = draw(st.sampled_from(["", ".5", ".123", ".0005", ".0015", f".{moment.microsecond:06d}", ".1234567"]))
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + fraction + offset


QUANTITIES = st.builds(
    lambda cls, quantity, uom: {"epcClass": cls, "quantity": quantity, **({"uom": uom} if uom else {})},
    lot_classes(),
    st.one_of(st.integers(0, 10**6), st.floats(0, 1e6, allow_nan=False).map(lambda x: round(x, 3))),
    st.sampled_from([None, "KGM", "LTR", "EA"]),
)
PARTIES = st.lists(
    st.tuples(st.sampled_from(["owning_party", "possessing_party", "location"]), locations()), max_size=3
)
BIZ_STEPS = st.sampled_from([
    "shipping", "receiving", "commissioning", "urn:epcglobal:cbv:bizstep:packing",
    "https://ref.gs1.org/cbv/BizStep-inspecting", "urn:lotline:bizstep:transforming",
])  # fmt: skip
DISPOSITIONS = st.sampled_from(["in_transit", "active", "recalled", "urn:epcglobal:cbv:disp:expired", "damaged"])
SENSOR_REPORTS = st.fixed_dictionaries(
    {"type": st.sampled_from(["Temperature", "gs1:Temperature", "RelativeHumidity"])},
    optional={"value": st.floats(-40, 40, allow_nan=False).map(lambda x: round(x, 2)), "uom": st.just("CEL"),
              "time": timestamps(), "example:probe": st.sampled_from(["left", "7"])},
)  # fmt: skip
SENSORS = st.lists(
    st.fixed_dictionaries(
        {"sensorReport": st.lists(SENSOR_REPORTS, min_size=1, max_size=3)},
        optional={"sensorMetadata": st.fixed_dictionaries({"time": timestamps()}, optional={
            "deviceID": st.just("urn:epc:id:giai:4000001.111"), "startTime": timestamps()})},
    ),
    max_size=2,
)  # fmt: skip


@st.composite
def events(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["ObjectEvent", "AggregationEvent", "TransformationEvent"]))
    stamp = draw(timestamps())
    event: dict[str, Any] = {"type": kind, "eventTime": stamp, "eventTimeZoneOffset": "+08:00"}
    epcs = st.lists(item_epcs(), max_size=4, unique=True)
    quantities = st.lists(QUANTITIES, max_size=3)
    if kind == "ObjectEvent":
        event |= {"epcList": draw(epcs), "quantityList": draw(quantities)}
    elif kind == "AggregationEvent":
        event |= {"parentID": draw(container_epcs()), "childEPCs": draw(epcs), "childQuantityList": draw(quantities)}
    else:
        event |= {"inputEPCList": draw(epcs), "inputQuantityList": draw(quantities),
                  "outputEPCList": draw(epcs), "outputQuantityList": draw(quantities)}  # fmt: skip
    if kind != "TransformationEvent":
        event["action"] = draw(st.sampled_from(["ADD", "OBSERVE", "DELETE"]))
    optional = {
        "bizStep": BIZ_STEPS, "disposition": DISPOSITIONS, "readPoint": locations().map(lambda i: {"id": i}),
        "bizLocation": locations().map(lambda i: {"id": i}),
        "sourceList": PARTIES.map(lambda ps: [{"type": t, "source": s} for t, s in ps]),
        "destinationList": PARTIES.map(lambda ps: [{"type": t, "destination": d} for t, d in ps]),
        "bizTransactionList": st.lists(st.tuples(st.sampled_from(["po", "inv", "desadv"]), st.just("urn:x:po:1")),
                                       max_size=2).map(lambda ts: [{"type": t, "bizTransaction": b} for t, b in ts]),
        "sensorElementList": SENSORS,
        "ilmd": st.fixed_dictionaries({"cbvmda:itemExpirationDate": st.just("2025-01-01"),
                                       "example:batch": st.sampled_from(["XYZ", "007"])}),
        "example:myField": st.sampled_from(["Example", "shipping", "42.0", "urn:epc:id:sscc:0614141.1234567890"]),
        "eventID": st.just("ni:///sha-256;00?ver=CBV2.0"), "recordTime": timestamps(),
    }  # fmt: skip
    for key, strategy in optional.items():
        if draw(st.booleans()):
            event[key] = draw(strategy)
    return {k: v for k, v in event.items() if v != []}


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events())
def test_generated_events_hash_as_the_reference_does(event: dict[str, Any]) -> None:
    expected = reference_pre_hashes([event])
    if not expected:  # the reference drops events it cannot hash (a time rounding up to the next second)
        with pytest.raises(InvalidEvent):
            pre_hash_string(event, CONTEXT)
        return
    assert pre_hash_string(event, CONTEXT) == expected[0]


EPC_PATTERNS = [c for c in dl_normaliser.normaliser.__code__.co_consts if isinstance(c, str) and c[:9] == "^urn:epc:"]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(EPC_PATTERNS).flatmap(lambda p: st.from_regex(p.rstrip("$"), fullmatch=True)))
def test_every_epc_uri_scheme_canonicalises_as_the_reference_normaliser(uri: str) -> None:
    assert canonical_uri(uri) == dl_normaliser.normaliser(uri)


DIGITAL_LINKS = st.builds(
    lambda host, key, body, tail, query: f"{host}/{key}/{body}{tail}{query}",
    st.sampled_from(["https://id.gs1.org", "https://example.com/dl", "http://qr.lotline.cn"]),
    st.sampled_from(["01", "gtin", "00", "414", "8004", "8006", "253", "417", "sscc"]),
    st.text("0123456789", min_size=8, max_size=18),
    st.sampled_from(["", "/10/LOT1", "/21/S-1", "/10/L/21/S", "/22/2A/21/9", "/22/2A", "/lot/A1/ser/9", "/254/x"]),
    st.sampled_from(["", "?linkType=all", "?17=250101"]),
)


@settings(max_examples=300, deadline=None)
@given(DIGITAL_LINKS)
def test_digital_links_canonicalise_as_the_reference_normaliser(uri: str) -> None:
    assert canonical_uri(uri) == dl_normaliser.normaliser(uri)


# --- invariants and refusals --------------------------------------------------------------------------------

SHIP = json.loads((EXAMPLES / "Example_9.6.2-ObjectEvent.jsonld").read_text())["epcisBody"]["eventList"][0]


def _shuffled(value: Any, rng: random.Random) -> Any:
    if isinstance(value, dict):
        items = list(value.items())
        # Entries of source/destination/bizTransaction lists keep their order: the reference hashes it.
        if not {"source", "destination", "bizTransaction"} & value.keys():
            rng.shuffle(items)
        return {k: _shuffled(v, rng) for k, v in items}
    return [_shuffled(v, rng) for v in value] if isinstance(value, list) else value


@pytest.mark.parametrize("seed", range(5))
def test_hash_ignores_key_order(seed: int) -> None:
    assert event_hash(_shuffled(SHIP, random.Random(seed)), CONTEXT) == event_hash(SHIP, CONTEXT)


def test_hash_ignores_event_id_record_time_and_error_declaration() -> None:
    stamped = {**SHIP, "eventID": "ni:///sha-256;ff?ver=CBV2.0", "recordTime": "2030-01-01T00:00:00Z",
               "errorDeclaration": {"declarationTime": "2030-01-02T00:00:00Z", "reason": "incorrect_data"}}  # fmt: skip
    assert event_hash(stamped, CONTEXT) == event_hash({k: v for k, v in SHIP.items() if k != "eventID"}, CONTEXT)


def test_same_instant_in_another_offset_hashes_the_same_and_another_instant_does_not() -> None:
    later = {**SHIP, "eventTime": "2013-06-08T22:58:56.591+08:00"}
    assert event_hash(later, CONTEXT) == event_hash(SHIP, CONTEXT)
    assert event_hash({**SHIP, "eventTime": "2013-06-08T14:58:56.592Z"}, CONTEXT) != event_hash(SHIP, CONTEXT)


def test_digest_is_the_hex_of_the_ni_uri() -> None:
    ni = event_hash(SHIP, CONTEXT)
    assert ni.startswith("ni:///sha-256;")
    assert ni.endswith("?ver=CBV2.0")
    assert hash_digest(ni) == bytes.fromhex(digest_hex(ni))
    assert len(hash_digest(ni)) == 32
    with pytest.raises(InvalidEvent):
        hash_digest("ni:///sha-256;abc?ver=CBV2.0")


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"type": "ShipEvent"}, "unknown EPCIS event type"),
        ({"eventTime": "2013-06-08T14:58:56"}, "not an ISO 8601 date-time with an offset"),
        ({"eventTime": "2013-06-08T14:58:59.9996Z"}, "cannot be hashed"),
        ({"@context": STANDARD_CONTEXT}, "JSON-LD keyword"),
        ({"example:myField": "1e999"}, "not a finite number"),
        ({"bizTransactionList": [{"bizTransaction": "urn:x:po:1"}]}, "needs both a type and a value"),
    ],
)
def test_events_the_reference_cannot_hash_are_refused(change: dict[str, Any], reason: str) -> None:
    with pytest.raises(InvalidEvent, match=reason):
        event_hash({**SHIP, **change}, CONTEXT)


def test_unknown_remote_context_is_refused() -> None:
    with pytest.raises(InvalidEvent, match="unknown remote @context"):
        event_hash(SHIP, ["https://example.com/context.jsonld"])


def test_default_context_is_the_epcis_one() -> None:
    assert event_hash(SHIP) == event_hash(SHIP, STANDARD_CONTEXT) == reference_hash(SHIP, [STANDARD_CONTEXT])
