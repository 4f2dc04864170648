"""Configuration for a production consortium chain: a Hyperledger Besu QBFT network run by regulators, customs and
CDCs. lotline talks to it over JSON-RPC exactly as it talks to the embedded node (``LOTLINE_CHAIN_RPC_URL``).

What is written (``lotline chain besu-config --validators N --out DIR``):
- ``genesis.json``: QBFT with the N validators in ``extraData``, a zero base fee (``zeroBaseFee``: a permissioned
  network does not price gas), Cancun at genesis (the contracts are compiled for it), a high block gas limit so one
  anchoring transaction carries thousands of batch heads, and balances for the operator accounts given.
- ``permissions_config.toml``: account permissioning (only lotline's accounts and the validators send
  transactions, as on the embedded node) and node permissioning (only the validators' enodes peer).
- ``validator-K/key`` (private, 0600) and ``validator-K/key.pub`` per validator, and ``validators.json``.

This cannot be run on a single development machine (no Besu here); the genesis is checked by decoding it back.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import rlp
from eth_keys import keys

from ledger.keys import address_of, generate_private_key

QBFT_MIX_HASH = (
    "0x63746963616c2062797a616e74696e65206661756c7420746f6c6572616e6365"  # "ctical byzantine fault tolerance"
)
DEFAULT_GAS_LIMIT = 1_000_000_000


@dataclass(frozen=True)
class Validator:
    index: int
    private_key: bytes
    address: str
    public_key_hex: str  # 64 bytes, no 0x04 prefix: the enode id


def qbft_extra_data(validators: Sequence[str]) -> str:
    """RLP([32-byte vanity, [validator addresses], no vote, round 0, no seals]) as Besu's QBFT codec encodes it."""
    payload = [b"\x00" * 32, [bytes.fromhex(a[2:]) for a in validators], [], b"", []]
    encoded: bytes = rlp.encode(payload)
    return "0x" + encoded.hex()


def decode_qbft_validators(extra_data: str) -> list[str]:
    decoded = rlp.decode(bytes.fromhex(extra_data.removeprefix("0x")))
    return ["0x" + bytes(a).hex() for a in decoded[1]]


def new_validators(count: int) -> list[Validator]:
    validators = []
    for index in range(1, count + 1):
        private_key = generate_private_key()
        public = keys.PrivateKey(private_key).public_key.to_bytes().hex()
        validators.append(Validator(index, private_key, address_of(private_key), public))
    return validators


def genesis(
    validators: Sequence[Validator],
    *,
    chain_id: int,
    allocations: dict[str, int],
    block_period_seconds: int = 2,
    gas_limit: int = DEFAULT_GAS_LIMIT,
) -> dict[str, object]:
    return {
        "config": {
            "chainId": chain_id,
            "homesteadBlock": 0,
            "eip150Block": 0,
            "eip155Block": 0,
            "eip158Block": 0,
            "byzantiumBlock": 0,
            "constantinopleBlock": 0,
            "petersburgBlock": 0,
            "istanbulBlock": 0,
            "berlinBlock": 0,
            "londonBlock": 0,
            "shanghaiTime": 0,
            "cancunTime": 0,
            "zeroBaseFee": True,
            "contractSizeLimit": 2147483647,
            "qbft": {"blockperiodseconds": block_period_seconds, "epochlength": 30000, "requesttimeoutseconds": 10},
        },
        "nonce": "0x0",
        "timestamp": "0x0",
        "gasLimit": hex(gas_limit),
        "difficulty": "0x1",
        "mixHash": QBFT_MIX_HASH,
        "coinbase": "0x0000000000000000000000000000000000000000",
        "alloc": {
            address.lower().removeprefix("0x"): {"balance": hex(balance)} for address, balance in allocations.items()
        },
        "extraData": qbft_extra_data([v.address for v in validators]),
    }


def permissions_toml(accounts: Sequence[str], enodes: Sequence[str]) -> str:
    account_list = ", ".join(f'"{a.lower()}"' for a in accounts)
    enode_list = ", ".join(f'"{e}"' for e in enodes)
    return f"accounts-allowlist=[{account_list}]\nnodes-allowlist=[{enode_list}]\n"


def write_besu_config(
    out: Path,
    *,
    validator_count: int,
    chain_id: int,
    accounts: Sequence[str],
    hosts: Sequence[str] = (),
    p2p_port: int = 30303,
) -> list[Validator]:
    """Write a complete QBFT network configuration for ``validator_count`` validators into ``out``."""
    if validator_count < 1:
        raise ValueError("a QBFT network needs at least one validator (four tolerate one faulty)")
    out.mkdir(parents=True, exist_ok=True)
    validators = new_validators(validator_count)
    host_of = list(hosts) + [f"validator-{v.index}.example.internal" for v in validators[len(hosts) :]]
    enodes = [f"enode://{v.public_key_hex}@{host_of[v.index - 1]}:{p2p_port}" for v in validators]
    allowed = list(dict.fromkeys([*accounts, *(v.address for v in validators)]))
    allocations = dict.fromkeys(allowed, 10**24)
    (out / "genesis.json").write_text(
        json.dumps(genesis(validators, chain_id=chain_id, allocations=allocations), indent=2)
    )
    (out / "permissions_config.toml").write_text(permissions_toml(allowed, enodes))
    for v, enode in zip(validators, enodes, strict=True):
        directory = out / f"validator-{v.index}"
        directory.mkdir(exist_ok=True)
        key_file = directory / "key"
        key_file.write_text("0x" + v.private_key.hex())
        os.chmod(key_file, 0o600)
        (directory / "key.pub").write_text("0x" + v.public_key_hex)
        (directory / "enode").write_text(enode + "\n")
    (out / "validators.json").write_text(
        json.dumps(
            [{"index": v.index, "address": v.address, "enode": e} for v, e in zip(validators, enodes, strict=True)],
            indent=2,
        )
    )
    return validators
