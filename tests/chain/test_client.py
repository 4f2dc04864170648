"""The chain client against real nodes: each test runs on the embedded node and on anvil (see conftest)."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from chain.anvil import free_port, running_anvil
from chain.artifacts import ContractReverted, Flow, RecallStatus, role_id
from chain.client import ANCHOR_BASE_GAS, HEAD_GAS, ChainClient, ChainUnavailable
from chain.deploy import ensure_deployed
from ledger.errors import Conflict
from ledger.merkle import MerkleTree, fold_heads, keccak256
from tests.chain.conftest import ADDRESSES, KEYS, fresh


def nonce(client: ChainClient, name: str) -> int:
    return int(client.w3.eth.get_transaction_count(ADDRESSES[name], "pending"))


def anchor_fresh_heads(client: ChainClient, count: int) -> list[bytes]:
    """Anchor one event for each of ``count`` new batches; return their keys."""
    keys = [fresh() for _ in range(count)]
    client.anchor(KEYS["anchorer"], fresh(), count, [(key, fresh(), 1) for key in keys])
    return keys


def test_ensure_deployed_deploys_once_then_finds_the_recorded_contract(node_url: str, tmp_path: Path) -> None:
    record_path = tmp_path / "deployment.json"
    args = (KEYS["deployer"], ADDRESSES["regulator"], ADDRESSES["anchorer"], record_path)
    first = ChainClient(node_url)
    address = ensure_deployed(first, *args)
    sent = nonce(first, "deployer")

    again = ChainClient(node_url)
    assert ensure_deployed(again, *args) == address
    assert again.contract_address == address
    assert nonce(again, "deployer") == sent
    assert again.has_role("REGULATOR_ROLE", ADDRESSES["regulator"])
    record = json.loads(record_path.read_text())
    assert record["chainId"] == first.chain_id()
    assert record["sourceHash"] == first.artifact.source_hash


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("address", ADDRESSES["outsider"], "is not the committed LotlineAnchor"),
        ("blockHash", "0x" + "ab" * 32, "the chain was reset"),
        ("chainId", 1, "the node is chain"),
    ],
)
def test_ensure_deployed_refuses_a_record_the_chain_does_not_match(
    node_url: str, tmp_path: Path, field: str, value: object, reason: str
) -> None:
    record_path = tmp_path / "deployment.json"
    args = (KEYS["deployer"], ADDRESSES["regulator"], ADDRESSES["anchorer"], record_path)
    client = ChainClient(node_url)
    ensure_deployed(client, *args)
    record = json.loads(record_path.read_text())
    record_path.write_text(json.dumps({**record, field: value}))
    sent = nonce(client, "deployer")

    with pytest.raises(Conflict, match=reason):
        ensure_deployed(ChainClient(node_url), *args)
    assert nonce(client, "deployer") == sent


def test_regulator_grants_the_producer_role_and_the_producer_registers_a_batch(client: ChainClient) -> None:
    assert client.has_role("PRODUCER_ROLE", ADDRESSES["producer"])
    assert not client.has_role("PRODUCER_ROLE", ADDRESSES["outsider"])
    batch, documents = fresh(), fresh()

    client.register_batch(KEYS["producer"], batch, Flow.VACCINE, documents)

    record = client.batch_record(batch)
    assert record.registrant == ADDRESSES["producer"]
    assert (record.flow, record.registration_hash, record.event_count) == (Flow.VACCINE, documents, 0)


def test_registering_a_batch_again_with_the_same_hash_sends_nothing(client: ChainClient) -> None:
    batch, documents = fresh(), fresh()
    client.register_batch(KEYS["producer"], batch, Flow.COLD_CHAIN, documents)
    sent = nonce(client, "producer")

    client.register_batch(KEYS["producer"], batch, Flow.COLD_CHAIN, documents)

    assert nonce(client, "producer") == sent
    with pytest.raises(ContractReverted) as refused:
        client.register_batch(KEYS["producer"], batch, Flow.COLD_CHAIN, fresh())
    assert refused.value.error == "LotlineAnchorBatchAlreadyRegistered"
    assert refused.value.error_args == {"batchKey": batch, "registrant": ADDRESSES["producer"]}


def test_anchored_root_proves_every_event_on_chain_and_refuses_a_wrong_digest(client: ChainClient) -> None:
    batches = [fresh() for _ in range(3)]
    events = {batch: [keccak256(batch + bytes([i])) for i in range(i + 2)] for i, batch in enumerate(batches)}
    digests = [digest for batch in batches for digest in events[batch]]
    tree = MerkleTree.build(digests)
    heads = [(batch, fold_heads(events[batch]), len(events[batch])) for batch in batches]

    (receipt,) = client.anchor(KEYS["anchorer"], tree.root, len(digests), heads)

    assert (receipt.merkle_root, receipt.head_count, receipt.continuation) == (tree.root, 3, False)
    assert client.root_record(tree.root).block_number == receipt.block_number
    assert client.root_record(tree.root).event_total == len(digests)
    for index, digest in enumerate(digests):
        assert client.verify_event(digest, tree.proof(index), tree.root)
        assert client.check_inclusion(digest, tree.proof(index), tree.root)
    assert not client.verify_event(fresh(), tree.proof(0), tree.root)
    assert not client.check_inclusion(fresh(), tree.proof(0), tree.root)
    for batch, head, count in heads:
        record = client.batch_record(batch)
        assert (record.head, record.event_count, record.registered) == (head, count, False)


def test_sending_the_same_anchor_again_sends_no_transaction(client: ChainClient) -> None:
    root, heads = fresh(), [(fresh(), fresh(), 5)]
    (first,) = client.anchor(KEYS["anchorer"], root, 5, heads)
    sent = nonce(client, "anchorer")

    (again,) = client.anchor(KEYS["anchorer"], root, 5, heads)

    assert nonce(client, "anchorer") == sent
    assert again.tx_hash is None
    assert (again.block_number, again.event_total) == (first.block_number, 5)


def test_heads_already_on_chain_are_dropped_from_a_later_anchor(client: ChainClient) -> None:
    landed, moved, new = fresh(), fresh(), fresh()
    client.anchor(KEYS["anchorer"], fresh(), 2, [(landed, fresh(), 1), (moved, fresh(), 1)])
    moved_head = fresh()

    receipts = client.anchor(
        KEYS["anchorer"], fresh(), 3, [(landed, fresh(), 1), (moved, moved_head, 2), (new, fresh(), 1)]
    )

    assert [r.head_count for r in receipts] == [2]
    assert client.batch_record(moved).head == moved_head
    assert client.batch_record(new).event_count == 1


def test_an_anchor_over_the_gas_budget_is_split_and_every_head_lands(client: ChainClient) -> None:
    heads = [(fresh(), fresh(), 1) for _ in range(3000)]
    root = fresh()

    receipts = client.anchor(KEYS["anchorer"], root, 9000, heads, max_gas_per_tx=12_000_000)

    assert len(receipts) == -(-3000 // ((12_000_000 - ANCHOR_BASE_GAS) // HEAD_GAS))
    assert all(r.gas_used <= 12_000_000 for r in receipts)
    assert [r.continuation for r in receipts] == [True] * (len(receipts) - 1) + [False]
    assert (receipts[-1].merkle_root, receipts[-1].event_total) == (root, 9000)
    assert sum(r.head_count for r in receipts) == len(heads)
    assert all(client.root_record(r.merkle_root).event_total == 0 for r in receipts[:-1])
    start = 0
    for receipt in receipts:
        for key, head, count in (heads[start], heads[start + receipt.head_count - 1]):
            assert (client.batch_record(key).head, client.batch_record(key).event_count) == (head, count)
        start += receipt.head_count


def test_a_split_anchor_resumed_after_a_crash_sends_only_the_heads_not_yet_on_chain(
    client: ChainClient,
) -> None:
    heads = [(fresh(), fresh(), 1) for _ in range(500)]
    root, budget = fresh(), 12_000_000
    per_tx = (budget - ANCHOR_BASE_GAS) // HEAD_GAS
    # What a crash after the first of three transactions leaves on chain: the first part's heads.
    client.anchor(KEYS["anchorer"], fresh(), 0, heads[:per_tx])

    receipts = client.anchor(KEYS["anchorer"], root, 500, heads, max_gas_per_tx=budget)

    expected = [(per_tx, True), (500 - 2 * per_tx, False)]
    assert [(r.head_count, r.continuation) for r in receipts] == expected
    assert (receipts[-1].merkle_root, client.root_record(root).event_total) == (root, 500)
    assert client.batch_record(heads[-1][0]).head == heads[-1][1]


def test_a_recall_is_opened_and_closed_and_a_hold_placed_and_released(client: ChainClient) -> None:
    regulator = KEYS["regulator"]
    batches, recall, reason, closing = anchor_fresh_heads(client, 2), fresh(), fresh(), fresh()

    client.open_recall(regulator, recall, batches, 2, reason)
    opened = client.recall_record(recall)
    assert (opened.status, opened.recall_class, opened.batch_keys) == (RecallStatus.OPEN, 2, tuple(batches))
    assert (opened.opened_by, opened.open_reason_hash, opened.closed_by) == (
        ADDRESSES["regulator"],
        reason,
        None,
    )
    assert [client.batch_record(b).open_recalls for b in batches] == [1, 1]

    client.close_recall(regulator, recall, closing)
    closed = client.recall_record(recall)
    assert (closed.status, closed.closed_by, closed.close_reason_hash) == (
        RecallStatus.CLOSED,
        ADDRESSES["regulator"],
        closing,
    )
    assert [client.batch_record(b).open_recalls for b in batches] == [0, 0]

    client.place_hold(regulator, batches[0], fresh())
    assert client.batch_record(batches[0]).held
    client.release_hold(regulator, batches[0], fresh())
    assert not client.batch_record(batches[0]).held


def test_closing_a_closed_recall_names_the_error_and_when_it_closed(client: ChainClient) -> None:
    recall = fresh()
    client.open_recall(KEYS["regulator"], recall, [fresh()], 1, fresh())
    client.close_recall(KEYS["regulator"], recall, fresh())

    with pytest.raises(ContractReverted) as refused:
        client.close_recall(KEYS["regulator"], recall, fresh())

    assert refused.value.error == "LotlineAnchorRecallAlreadyClosed"
    assert refused.value.error_args == {
        "recallId": recall,
        "closedAt": client.recall_record(recall).closed_at,
    }


def test_a_call_without_the_role_names_the_account_and_the_role_it_lacks(client: ChainClient) -> None:
    with pytest.raises(ContractReverted) as refused:
        client.place_hold(KEYS["outsider"], fresh(), fresh())

    assert refused.value.error == "AccessControlUnauthorizedAccount"
    assert refused.value.error_args == {
        "account": ADDRESSES["outsider"],
        "neededRole": role_id("REGULATOR_ROLE"),
    }
    assert refused.value.as_dict()["context"]["error"] == "AccessControlUnauthorizedAccount"


def test_a_stale_head_sent_directly_reverts_with_the_stored_and_new_counts(client: ChainClient) -> None:
    (batch,) = anchor_fresh_heads(client, 1)
    call = client.artifact.encode_call("anchor", fresh(), 1, [batch], [fresh()], [1])
    expected = {"batchKey": batch, "storedCount": 1, "newCount": 1}

    with pytest.raises(ContractReverted) as estimated:
        client.send(KEYS["anchorer"], call)
    assert (estimated.value.error, estimated.value.error_args) == ("LotlineAnchorStaleHead", expected)

    mined = client.send(KEYS["anchorer"], call, gas=500_000)
    with pytest.raises(ContractReverted) as replayed:
        client.wait([mined])
    assert (replayed.value.error, replayed.value.error_args) == ("LotlineAnchorStaleHead", expected)
    assert replayed.value.context["tx_hash"] == "0x" + mined.hex()


def test_a_head_made_stale_earlier_in_the_same_block_is_named_as_stale(client: ChainClient) -> None:
    # Two anchorers racing: the newer head is mined first, in the same block as the older one. Replaying the
    # older transaction on the parent block would succeed and hide why it failed.
    (batch,) = anchor_fresh_heads(client, 1)
    newer = client.artifact.encode_call("anchor", fresh(), 2, [batch], [fresh()], [3])
    older = client.artifact.encode_call("anchor", fresh(), 1, [batch], [fresh()], [2])
    sent = [client.send(KEYS["anchorer"], call, gas=500_000) for call in (newer, older)]

    with pytest.raises(ContractReverted) as replayed:
        client.wait(sent)

    assert (replayed.value.error, replayed.value.error_args) == (
        "LotlineAnchorStaleHead",
        {"batchKey": batch, "storedCount": 3, "newCount": 2},
    )
    assert replayed.value.context["tx_hash"] == "0x" + sent[1].hex()


def test_verifying_against_a_root_never_anchored_is_refused(client: ChainClient) -> None:
    root = fresh()
    with pytest.raises(ContractReverted) as refused:
        client.verify_event(fresh(), [], root)
    assert (refused.value.error, refused.value.error_args) == (
        "LotlineAnchorUnknownRoot",
        {"merkleRoot": root},
    )


def test_a_key_also_used_by_another_client_resyncs_its_nonce(client: ChainClient) -> None:
    other = ChainClient(client.rpc_url, contract_address=client.contract_address)
    client.place_hold(KEYS["regulator"], fresh(), fresh())
    other.place_hold(KEYS["regulator"], fresh(), fresh())
    batch = fresh()

    client.place_hold(KEYS["regulator"], batch, fresh())

    assert client.batch_record(batch).held


def test_requests_are_retried_until_a_starting_node_answers() -> None:
    port = free_port()
    started = threading.Event()
    stop = threading.Event()

    def start_late() -> None:
        time.sleep(0.3)
        with running_anvil(port):
            started.set()
            stop.wait()

    thread = threading.Thread(target=start_late)
    thread.start()
    try:
        assert ChainClient(f"http://127.0.0.1:{port}", retries=8).chain_id() == 20260
        assert started.wait(60)  # the client may see anvil answer before running_anvil returns
    finally:
        stop.set()
        thread.join()


def test_a_node_that_never_answers_is_reported_unavailable() -> None:
    with pytest.raises(ChainUnavailable):
        ChainClient(f"http://127.0.0.1:{free_port()}", retries=2).block_number()
