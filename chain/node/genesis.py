"""The network's genesis: chain id, authorities, allowlisted accounts and their first balances.

Zero gas price needs a zero base fee. London's rules (EIP-1559) keep a zero base fee at zero as long as no
block uses more than half its gas limit (above the target the fee grows by at least 1 wei), so genesis starts
at 0 and the sealer never fills a block past ``gas_limit // 2`` (see ``node.py``). Any EIP-1559 node replaying
the chain computes the same zero fees; nothing in py-evm's fee rules is patched. The largest transaction is
therefore half the block gas limit (500,000,000 gas by default).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from eth.typing import AccountState
from eth_typing import Address
from eth_utils import is_address, to_canonical_address, to_checksum_address

from ledger.errors import InvalidInput

DEFAULT_CHAIN_ID = 20260
DEFAULT_GAS_LIMIT = 1_000_000_000


def checksum(address: str) -> str:
    """Validate one address and return its EIP-55 spelling (the form stored and compared everywhere)."""
    if not isinstance(address, str) or not is_address(address):
        raise InvalidInput(f"not an account address: {address!r}", address=str(address))
    return to_checksum_address(address)


@dataclass(frozen=True)
class GenesisConfig:
    """What the first block commits to. ``accounts`` are allowlisted and funded with the given wei."""

    authorities: tuple[str, ...]
    accounts: Mapping[str, int] = field(default_factory=dict)
    chain_id: int = DEFAULT_CHAIN_ID
    gas_limit: int = DEFAULT_GAS_LIMIT
    timestamp: int = 0

    def __post_init__(self) -> None:
        if not self.authorities:
            raise InvalidInput("a proof-of-authority network needs at least one authority")
        object.__setattr__(self, "authorities", tuple(checksum(a) for a in self.authorities))
        object.__setattr__(self, "accounts", {checksum(a): int(v) for a, v in self.accounts.items()})
        if any(balance < 0 for balance in self.accounts.values()):
            raise InvalidInput("initial balances cannot be negative")
        if self.chain_id <= 0 or self.gas_limit < 21_000 * 2:
            raise InvalidInput("chain id must be positive and the gas limit hold at least two transfers")

    def stamped(self) -> GenesisConfig:
        """The same config with the genesis timestamp fixed now, if it was left open."""
        if self.timestamp:
            return self
        return GenesisConfig(self.authorities, self.accounts, self.chain_id, self.gas_limit, int(time.time()))

    def allowlist(self) -> list[str]:
        """Accounts that may send from the first block: the funded accounts and the authorities."""
        return sorted({*self.accounts, *self.authorities})

    def header_params(self) -> dict[str, Any]:
        return {
            "gas_limit": self.gas_limit,
            "timestamp": self.timestamp,
            "difficulty": 0,
            "base_fee_per_gas": 0,
            "extra_data": b"lotline genesis".ljust(32, b"\0"),
            "coinbase": to_canonical_address(self.authorities[0]),
        }

    def state(self) -> AccountState:
        return {
            Address(to_canonical_address(address)): {
                "balance": balance,
                "nonce": 0,
                "code": b"",
                "storage": {},
            }
            for address, balance in self.accounts.items()
        }

    def to_json(self) -> str:
        return json.dumps(
            {
                "chainId": self.chain_id,
                "gasLimit": self.gas_limit,
                "timestamp": self.timestamp,
                "authorities": list(self.authorities),
                "accounts": {address: str(balance) for address, balance in self.accounts.items()},
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> GenesisConfig:
        try:
            raw = json.loads(text)
            return cls(
                authorities=tuple(raw["authorities"]),
                accounts={address: int(balance) for address, balance in raw.get("accounts", {}).items()},
                chain_id=int(raw.get("chainId", DEFAULT_CHAIN_ID)),
                gas_limit=int(raw.get("gasLimit", DEFAULT_GAS_LIMIT)),
                timestamp=int(raw.get("timestamp", 0)),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(f"malformed genesis config: {exc}") from exc
