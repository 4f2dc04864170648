"""The committed compiler output of the anchor contract, loaded as package data, and its ABI codec.

The JSON under ``chain/artifacts/`` is written by ``scripts/export-artifacts.mjs`` and checked against a fresh
compile of ``contracts/`` by ``make contracts-check``; Python never compiles Solidity. It is read through
``importlib.resources`` so the same code works from a checkout, a wheel or a zipped install.

Calls are encoded with eth-abi directly rather than through web3's contract objects: an anchor carries three
arrays of a thousand entries or more, and web3 validates every element against the ABI before encoding,
which costs more than the encoding itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from functools import cache
from importlib import resources
from typing import Any, Final, NamedTuple

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from eth_utils.abi import (
    collapse_if_tuple,
    function_abi_to_4byte_selector,
    function_signature_to_4byte_selector,
)
from eth_utils.address import to_checksum_address
from eth_utils.conversions import to_bytes
from eth_utils.crypto import keccak

from ledger.errors import InvalidInput, RuleViolation

ANCHOR_CONTRACT = "LotlineAnchor"

# The contract's enums and structs (ILotlineAnchor.sol) as Python reads them back from calls.


class Flow(IntEnum):
    COLD_CHAIN = 0
    FARM_PRODUCE = 1
    VACCINE = 2


class RecallStatus(IntEnum):
    NONE = 0
    OPEN = 1
    CLOSED = 2


class HeadUpdate(NamedTuple):
    """A batch's new event-chain head after ``event_count`` events (plain tuples are accepted too)."""

    batch_key: bytes
    head: bytes
    event_count: int


@dataclass(frozen=True)
class BatchRecord:
    registrant: str | None
    flow: Flow
    registered_at: int
    registration_hash: bytes
    head: bytes
    event_count: int
    updated_at: int
    open_recalls: int
    held: bool

    @property
    def registered(self) -> bool:
        return self.registrant is not None

    @classmethod
    def from_abi(cls, raw: tuple[Any, ...]) -> BatchRecord:
        registrant, flow, *rest = raw
        return cls(_address_or_none(registrant), Flow(flow), *rest)


@dataclass(frozen=True)
class RootRecord:
    """Where a root was anchored; all zero for a root that never was."""

    block_number: int
    timestamp: int
    event_total: int

    @property
    def anchored(self) -> bool:
        return self.block_number != 0


@dataclass(frozen=True)
class RecallRecord:
    status: RecallStatus
    recall_class: int
    opened_by: str | None
    opened_at: int
    closed_by: str | None
    closed_at: int
    open_reason_hash: bytes
    close_reason_hash: bytes
    batch_keys: tuple[bytes, ...]

    @classmethod
    def from_abi(cls, raw: tuple[Any, ...]) -> RecallRecord:
        status, recall_class, opened_by, opened_at, closed_by, closed_at, open_reason, close_reason, keys = raw
        return cls(
            RecallStatus(status),
            recall_class,
            _address_or_none(opened_by),
            opened_at,
            _address_or_none(closed_by),
            closed_at,
            open_reason,
            close_reason,
            tuple(keys),
        )


def _address_or_none(address: str) -> str | None:
    return None if int(address, 16) == 0 else to_checksum_address(address)


@dataclass(frozen=True)
class AbiEntry:
    """One function or custom error of the ABI, with what encoding and decoding need."""

    name: str
    selector: bytes
    input_names: tuple[str, ...]
    input_types: tuple[str, ...]
    output_types: tuple[str, ...] = ()


class ContractReverted(RuleViolation):
    """The contract refused a call or a transaction; nothing was written.

    ``error`` is the Solidity error's name (``LotlineAnchorStaleHead``, ``AccessControlUnauthorizedAccount``,
    ``Error``/``Panic``, or ``unknown`` when the revert data is missing or not in the ABI) and
    ``error_args`` its named arguments; both are also in ``context`` for the API's error body.
    """

    @property
    def error(self) -> str:
        return str(self.context["error"])

    @property
    def error_args(self) -> dict[str, Any]:
        args: dict[str, Any] = self.context["args"]
        return args


def _types(params: list[dict[str, Any]]) -> tuple[str, ...]:
    return tuple(collapse_if_tuple(p) for p in params)


def _entry(item: dict[str, Any]) -> AbiEntry:
    inputs = item.get("inputs", [])
    return AbiEntry(
        name=item["name"],
        selector=function_abi_to_4byte_selector(item),  # type: ignore[arg-type]  # a JSON ABI dict
        input_names=tuple(p["name"] for p in inputs),
        input_types=_types(inputs),
        output_types=_types(item.get("outputs", [])),
    )


# Reverts every Solidity 0.8 contract can raise besides its own custom errors.
_BUILTIN_ERRORS: Final = (
    AbiEntry("Error", function_signature_to_4byte_selector("Error(string)"), ("message",), ("string",)),
    AbiEntry("Panic", function_signature_to_4byte_selector("Panic(uint256)"), ("code",), ("uint256",)),
)


@dataclass(frozen=True)
class ContractArtifact:
    """ABI and bytecode of one contract. ``bytecode`` deploys it; ``deployed_bytecode`` is what then runs.

    ``source_hash`` identifies the Solidity sources the artifact was compiled from; deployments record it.
    """

    name: str
    abi: tuple[dict[str, Any], ...]
    bytecode: bytes
    deployed_bytecode: bytes
    source_hash: str
    compiler_version: str
    functions: Mapping[str, AbiEntry] = field(init=False, repr=False)
    errors: Mapping[bytes, AbiEntry] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        functions = {e["name"]: _entry(e) for e in self.abi if e["type"] == "function"}
        errors = {e.selector: e for e in _BUILTIN_ERRORS}
        errors.update((entry.selector, entry) for entry in map(_entry, self._of_type("error")))
        object.__setattr__(self, "functions", functions)
        object.__setattr__(self, "errors", errors)

    def _of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.abi if e["type"] == kind]

    def encode_call(self, function: str, *args: Any) -> bytes:
        """Calldata of ``function(*args)``: its selector followed by the ABI-encoded arguments."""
        entry = self.functions[function]
        return entry.selector + abi_encode(entry.input_types, args)

    def decode_result(self, function: str, data: bytes) -> tuple[Any, ...]:
        return tuple(abi_decode(self.functions[function].output_types, data))

    def encode_deployment(self, *args: Any) -> bytes:
        """Creation code followed by the ABI-encoded constructor arguments."""
        (constructor,) = self._of_type("constructor")
        return self.bytecode + abi_encode(_types(constructor["inputs"]), args)

    def revert_error(self, data: bytes, message: str = "execution reverted") -> ContractReverted:
        """The typed error for revert ``data``, decoded against the ABI's custom errors."""
        entry = self.errors.get(data[:4])
        try:
            values = None if entry is None else abi_decode(entry.input_types, data[4:])
        except DecodingError:
            values = None
        if entry is None or values is None:
            return ContractReverted(f"the contract reverted: {message}", error="unknown", args={}, data=data.hex())
        args = {
            name: to_checksum_address(value) if kind == "address" else value
            for name, kind, value in zip(entry.input_names, entry.input_types, values, strict=True)
        }
        shown = ", ".join(f"{k}={'0x' + v.hex() if isinstance(v, bytes) else v}" for k, v in args.items())
        return ContractReverted(f"{entry.name}({shown})", error=entry.name, args=args)


def role_id(role: str) -> bytes:
    """``keccak256(role)`` as the contract defines its roles; DEFAULT_ADMIN_ROLE is zero (OpenZeppelin)."""
    if role == "DEFAULT_ADMIN_ROLE":
        return bytes(32)
    if not role.endswith("_ROLE") or role not in load_artifact().functions:
        raise InvalidInput(f"the anchor contract has no role {role!r}", role=role)
    return keccak(text=role)


@cache
def load_artifact(name: str = ANCHOR_CONTRACT) -> ContractArtifact:
    """Load ``chain/artifacts/<name>.json`` once per process."""
    resource = resources.files("chain").joinpath("artifacts", f"{name}.json")
    try:
        raw = json.loads(resource.read_text(encoding="utf-8"))
        return ContractArtifact(
            name=str(raw["contractName"]),
            abi=tuple(raw["abi"]),
            bytecode=to_bytes(hexstr=raw["bytecode"]),
            deployed_bytecode=to_bytes(hexstr=raw["deployedBytecode"]),
            source_hash=str(raw["sourceHash"]),
            compiler_version=str(raw.get("compiler", {}).get("version", "")),
        )
    except FileNotFoundError as exc:
        raise InvalidInput(f"no compiled artifact for contract {name!r}", contract=name) from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidInput(f"malformed artifact for contract {name!r}: {exc}", contract=name) from exc
