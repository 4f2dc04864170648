"""A recall end to end over HTTP against the stack `lotline up` starts (real embedded chain node, real Celery
worker, the test database), with a real webhook receiver on 127.0.0.1 that fails its first requests.

Goods move importer → wholesaler → market and one item is sold; a regulator opens a recall of the batch; the
worker anchors it on chain and notifies every holder (retrying after the receiver's failures); selling a recalled
item is refused; refused acknowledgements write nothing; the holders account for every unit and the recall closes
itself, on the ledger and on chain.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import pytest

from chain.artifacts import RecallStatus
from chain.client import ChainClient
from chain.deploy import read_deployment
from recall import notify
from tests.e2e import test_network as network
from tests.e2e.test_network import COLD, Stack
from tests.recall.receiver import Receiver, running_receiver

T = TypeVar("T")
# The network test's fixture: `lotline up` in a subprocess on a fresh data directory, once for this module.
stack = network.stack


def eventually(what: str, probe: Callable[[], T | None], timeout: float = 120) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (value := probe()) is not None:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


@dataclass
class Recalled:
    receiver: Receiver
    tokens: dict[str, str]
    secrets: dict[str, str]
    orgs: dict[str, dict[str, Any]]
    gtin: str
    lot: str
    links: list[str]
    recall: dict[str, Any]


@pytest.fixture(scope="module")
def recalled(stack: Stack) -> Iterator[Recalled]:
    with running_receiver(fail_first=2) as receiver:
        orgs, tokens, secrets = {}, {}, {}
        for n, (key, name, role) in enumerate(
            [
                ("importer", "宁波冷链进口公司", "producer"),
                ("wholesaler", "一级批发市场", "distributor"),
                ("market", "农贸市场摊位", "retailer"),
                ("carrier", "冷链物流", "carrier"),
            ],
            start=21,
        ):
            orgs[key], tokens[key] = network._org(stack, n, name, role)
            reply = stack.http.put(
                f"{stack.url}/api/v1/orgs/me/webhook",
                json={"url": receiver.url},
                headers={"Authorization": f"Bearer {tokens[key]}"},
            )
            assert reply.status_code == 200, reply.text
            secrets[key] = reply.json()["secret"]
        product = stack.post("/api/v1/products", tokens["importer"], {"name": "冷冻虾仁", "category": "cold_chain"})
        assert product.status_code == 201, product.text
        gtin, lot = product.json()["gtin"], "EC2026-12"
        batch = stack.post("/api/v1/batches", tokens["importer"], {"gtin": gtin, "lot": lot, "quantity": 100, **COLD})
        assert batch.status_code == 201, batch.text
        run = stack.post(f"/api/v1/batches/{batch.json()['id']}/codes", tokens["importer"], {"count": 20})
        assert run.status_code == 201, run.text
        codes = stack.get(f"/api/v1/batches/{batch.json()['id']}/codes?limit=20", tokens["importer"]).json()
        links = [c["signed_link"] for c in codes]
        for sender, receiver_key, moved in (
            ("importer", "wholesaler", links[:10]),
            ("wholesaler", "market", links[:5]),
        ):
            shipped = network._scan(
                stack, tokens[sender], {"action": "ship", "to_org": orgs[receiver_key]["uscc"], "codes": moved}
            )
            network._scan(stack, tokens[receiver_key], {"action": "receive", "shipment_id": shipped["shipment_id"]})
        network._scan(stack, tokens["market"], {"action": "sell", "codes": [links[0]]})

        opened = stack.post(
            "/api/v1/recalls",
            stack.token,
            {"batches": [{"gtin": gtin, "lot": lot}], "recall_class": 1, "reason": "检出沙门氏菌 Salmonella"},
        )
        assert opened.status_code == 201, opened.text
        yield Recalled(receiver, tokens, secrets, orgs, gtin, lot, links, opened.json())


def recall_view(stack: Stack, recalled: Recalled, token: str | None = None) -> dict[str, Any]:
    reply = stack.get(f"/api/v1/recalls/{recalled.recall['id']}", token or stack.token)
    assert reply.status_code == 200, reply.text
    view: dict[str, Any] = reply.json()
    return view


def chain_client(stack: Stack) -> ChainClient:
    address = read_deployment(stack.data_dir / "deployment.json")["address"]
    return ChainClient(f"http://127.0.0.1:{stack.env['LOTLINE_EMBEDDED_CHAIN_PORT']}", contract_address=address)


def test_the_recall_is_anchored_on_chain_by_the_regulator(stack: Stack, recalled: Recalled) -> None:
    def opened_on_chain() -> dict[str, Any] | None:
        view = recall_view(stack, recalled)
        return view if view["chain"]["open_job"] == "done" else None

    view = eventually("the open_recall chain job", opened_on_chain)

    record = chain_client(stack).recall_record(bytes.fromhex(view["chain"]["chain_recall_id"][2:]))
    regulator = stack.get("/api/v1/orgs/me", stack.token).json()
    assert (record.status, record.recall_class, record.opened_by) == (RecallStatus.OPEN, 1, regulator["chain_address"])
    assert len(record.batch_keys) == 1


def test_every_holder_is_notified_with_a_signed_webhook_even_after_the_receiver_failed(
    stack: Stack,
    recalled: Recalled,
) -> None:
    holders = {"importer": 90, "wholesaler": 5, "market": 4}

    messages = eventually(
        "a delivered webhook for every holder",
        lambda: got if len(got := recalled.receiver.delivered()) >= len(holders) else None,
    )

    assert [m.answered for m in recalled.receiver.received[:2]] == [503, 503]
    by_org = {m.json["your_holding"][0]["quantity_on_hand"]: m for m in messages}
    assert set(by_org) == set(holders.values())
    for key, quantity in holders.items():
        message = by_org[quantity]
        stamp, delivery_id = int(message.headers["x-lotline-timestamp"]), message.headers["x-lotline-delivery"]
        assert message.headers["x-lotline-signature"] == notify.sign(
            recalled.secrets[key], stamp, delivery_id, message.body
        )
        assert message.json["recall"]["number"] == recalled.recall["number"]
    deliveries = recall_view(stack, recalled)["deliveries"]
    assert {d["status"] for d in deliveries} == {"delivered"}
    assert max(d["attempts"] for d in deliveries) >= 2


def test_selling_a_recalled_item_is_refused(stack: Stack, recalled: Recalled) -> None:
    reply = stack.post("/api/v1/scans", recalled.tokens["market"], {"action": "sell", "codes": [recalled.links[1]]})

    assert reply.status_code == 409, reply.text
    assert reply.json()["error"] == "RecalledGoods"


def ack(stack: Stack, recalled: Recalled, key: str, **quantities: Any) -> httpx.Response:
    line = {"gtin": recalled.gtin, "lot": recalled.lot, **quantities}
    return stack.post(
        f"/api/v1/recalls/{recalled.recall['id']}/acknowledgements", recalled.tokens[key], {"holdings": [line]}
    )


def test_bad_acknowledgements_are_refused_and_change_nothing(stack: Stack, recalled: Recalled) -> None:
    before = recall_view(stack, recalled)["progress"]
    refusals = [
        (ack(stack, recalled, "market", destroyed=5), 409, "QuantityExceeded"),  # it held 4
        (ack(stack, recalled, "carrier", quarantined=1), 404, "NotFound"),  # holds nothing of it
        (ack(stack, recalled, "market", destroyed=1.5), 422, "InvalidRequest"),
        (ack(stack, recalled, "market", destroyed=-1), 422, "InvalidRequest"),
    ]
    for reply, status, error in refusals:
        assert (reply.status_code, reply.json()["error"]) == (status, error), reply.text
    closing = stack.post(f"/api/v1/recalls/{recalled.recall['id']}/close", recalled.tokens["importer"], {"reason": "x"})
    assert closing.status_code == 403
    assert recall_view(stack, recalled)["progress"] == before


def test_the_recall_closes_itself_when_every_unit_is_accounted_for_on_ledger_and_chain(
    stack: Stack,
    recalled: Recalled,
) -> None:
    assert ack(stack, recalled, "importer", quarantined=90).status_code == 200
    assert ack(stack, recalled, "wholesaler", returned=5).status_code == 200
    mine = ack(stack, recalled, "market", quarantined=1, destroyed=3)
    assert mine.status_code == 200, mine.text
    assert [h["org_id"] for h in mine.json()["holders"]] == [recalled.orgs["market"]["id"]]  # its own row only

    view = recall_view(stack, recalled)
    assert view["status"] == "closed"
    assert view["close_reason"] == "all 99 units accounted for: 91 quarantined, 5 returned, 3 destroyed"
    assert view["progress"]["settled"] == view["progress"]["holders"] == 3
    again = stack.post(f"/api/v1/recalls/{recalled.recall['id']}/close", stack.token, {"reason": "again"})
    assert (again.status_code, again.json()["error"]) == (409, "InvalidTransition")

    view = eventually(
        "the close_recall chain job",
        lambda: v if (v := recall_view(stack, recalled))["chain"]["close_job"] == "done" else None,
    )
    record = chain_client(stack).recall_record(bytes.fromhex(view["chain"]["chain_recall_id"][2:]))
    assert record.status is RecallStatus.CLOSED
    sheet = stack.get(f"/api/v1/recalls/{recalled.recall['id']}/export.xlsx", stack.token)
    assert sheet.status_code == 200
    assert sheet.content.startswith(b"PK")  # a zip container: the XLSX itself is checked in tests/recall
