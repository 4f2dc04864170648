"""A careless or hostile client's input is refused with a 4xx naming the problem, and nothing is written
(issue #12): numbers beyond 64 bits, control characters, bodies over the limit (chunked too), and lots and
serials with characters GS1 percent-encodes in a Digital Link."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from ledger.settings import Settings
from tests.trace_api.client import Api
from tests.trace_api.network import COLD, setup_chain
from tests.trace_api.pages import open_through_form, recall_count, sign_in

HUGE = 2**64
JSON = {"Accept": "application/json"}


def refused_field(reply_json: dict[str, object]) -> str:
    return str(reply_json["detail"]).split(":")[0]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/api/v1/batches/{HUGE}", None),
        ("GET", f"/api/v1/batches/{HUGE}/documents", None),
        ("GET", f"/api/v1/code-runs/{HUGE}", None),
        ("GET", f"/api/v1/batches/1/codes?offset={HUGE}", None),
        ("GET", f"/api/v1/batches/1/codes?run={HUGE}", None),
        ("GET", f"/api/v1/batches?offset={HUGE}", None),
        ("GET", f"/api/v1/batches/1/labels.pdf?offset={HUGE}", None),
        ("POST", "/api/v1/scans", {"action": "receive", "shipment_id": HUGE}),
        ("POST", "/api/v1/scans", {"action": "sell", "location_id": HUGE, "codes": ["x"]}),
        ("POST", "/api/v1/scans", {"action": "sell", "lines": [{"gtin": "1", "lot": "1", "quantity": HUGE}]}),
        ("POST", "/api/v1/batches", {"gtin": "1", "lot": "1", "quantity": HUGE}),
        ("POST", "/api/v1/batches", {"gtin": "1", "lot": "1", "quantity": 1, "location_id": HUGE}),
        ("POST", "/api/v1/batches/1/codes", {"count": HUGE}),
    ],
)
def test_a_number_beyond_64_bits_is_a_422_not_a_500(api: Api, method: str, path: str, body: object) -> None:
    _org, token = api.org("进口商", "producer", "distributor", "retailer")
    reply = api.client.request(method, path, headers=api.auth(token), json=body)
    assert (reply.status_code, reply.json()["error"]) == (422, "InvalidRequest"), reply.text


@pytest.mark.parametrize("text", ["冷冻\x00牛肉", "tab\tis fine\x07but bell is not", "a\x7f", "a\x85b", "a\ud800"])
def test_text_with_a_control_character_is_a_422_naming_the_field(api: Api, text: str) -> None:
    _org, token = api.org("进口商", "producer")
    # JSON spells every character as \\uXXXX, a lone surrogate too (which a client library would not encode).
    headers = {**api.auth(token), "Content-Type": "application/json"}
    product = json.dumps({"name": text, "category": "cold_chain"})
    reply = api.client.post("/api/v1/products", headers=headers, content=product)
    assert (reply.status_code, reply.json()["error"], refused_field(reply.json())) == (
        422,
        "InvalidRequest",
        "body.name",
    )
    batch = json.dumps({"gtin": "06970000000017", "lot": "L1", "quantity": 1, **COLD, "manufacturer": text})
    refused = api.client.post(
        "/api/v1/batches", headers={**api.auth(token), "Content-Type": "application/json"}, content=batch
    )
    assert (refused.status_code, refused_field(refused.json())) == (422, "body.manufacturer")
    assert api.client.get("/api/v1/batches", headers=api.auth(token)).json() == []


def test_tabs_and_line_breaks_stay_allowed_in_text(api: Api) -> None:
    _org, token = api.org("进口商", "producer")
    reply = api.client.post(
        "/api/v1/products", headers=api.auth(token), json={"name": "冷冻\t牛肉\r\n切块", "category": "cold_chain"}
    )
    assert reply.status_code == 201, reply.text


@pytest.mark.parametrize("query", ["gtin=0697%00&lot=1", "code=%01", "gtin=1&lot=%E2%80%A8%7F"])
def test_a_control_character_in_a_query_or_path_is_a_422(api: Api, query: str) -> None:
    reply = api.client.get(f"/api/v1/trace/forward?{query}", headers=api.auth(api.regulator_token))
    assert (reply.status_code, reply.json()["context"]) == (422, {"field": "query"}), reply.text
    path = api.client.get("/api/v1/products/0697%00", headers=api.auth(api.regulator_token))
    assert (path.status_code, path.json()["context"]) == (422, {"field": "path"}), path.text


def test_an_unknown_shipment_is_a_404_naming_it(api: Api) -> None:
    net = setup_chain(api)
    reply = api.client.post(
        "/api/v1/scans", headers=api.auth(str(net["mkt"])), json={"action": "receive", "shipment_id": 2**62}
    )
    assert (reply.status_code, reply.json()["error"]) == (404, "UnknownShipment"), reply.text


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A small upload limit, so a body over it is cheap to send."""
    return settings.model_copy(update={"max_upload_bytes": 100_000})


def chunks(total: int, size: int = 16_384) -> Iterator[bytes]:
    """A JSON document sent as a chunked body: no Content-Length for the server to check beforehand."""
    yield b'{"@context": "https://ref.gs1.org/standards/epcis/epcis-context.jsonld", "padding": "'
    for _ in range(total // size):
        yield b"0" * size
    yield b'"}'


def test_a_chunked_body_over_the_limit_is_a_413_while_it_is_read(api: Api) -> None:
    _org, token = api.org("进口商", "producer")
    headers = {**api.auth(token), "Content-Type": "application/json"}
    reply = api.client.post("/epcis/capture", headers=headers, content=chunks(400_000))
    assert reply.request.headers.get("transfer-encoding") == "chunked"
    assert (reply.status_code, reply.json()["error"]) == (413, "PayloadTooLarge"), reply.text
    scans = api.client.post("/api/v1/scans", headers=headers, content=chunks(400_000))
    assert (scans.status_code, scans.json()["error"]) == (413, "PayloadTooLarge"), scans.text
    small = api.client.post("/epcis/capture", headers=headers, content=chunks(1_000))
    assert small.status_code == 400, small.text


def test_a_lot_and_serial_with_a_slash_are_percent_encoded_and_resolve(api: Api) -> None:
    net = setup_chain(api)
    owner = api.auth(str(net["imp"]))
    lot = "A/21/B"
    batch = api.client.post(
        "/api/v1/batches", headers=owner, json={"gtin": net["gtin"], "lot": lot, "quantity": 5, **COLD}
    )
    assert batch.status_code == 201, batch.text
    batch_link = batch.json()["digital_link"]
    assert batch_link.endswith("/10/A%2F21%2FB")
    resolved = api.client.get(batch_link.removeprefix("https://trace.example.cn"), headers=JSON)
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["batch"]["lot"] == lot
    issued = api.client.post(
        f"/api/v1/batches/{batch.json()['id']}/codes", headers=api.auth(str(net["imp"])), json={"count": 1}
    )
    assert issued.status_code == 201, issued.text
    (item,) = api.client.get(f"/api/v1/batches/{batch.json()['id']}/codes", headers=owner).json()
    path = item["signed_link"].removeprefix("https://trace.example.cn")  # as the QR prints it, ?s= included
    assert path.startswith(f"/01/{net['gtin']}/10/A%2F21%2FB/21/")
    page = api.client.get(path, headers=JSON)
    assert (page.status_code, page.json()["batch"]["lot"]) == (200, lot)
    assert page.json()["code"]["uri"].split("?")[0] == item["digital_link"].split("?")[0]


def test_a_page_form_with_a_control_character_is_refused_and_opens_nothing(
    api: Api, session_factory: sessionmaker[Session]
) -> None:
    sign_in(api, api.regulator_token)
    reply = open_through_form(api, "(01)06970000000017(10)L1", reason="核酸\x00阳性")
    assert reply.status_code == 422, reply.text
    assert recall_count(session_factory) == 0
