"""One settings object for every lotline process, read from ``LOTLINE_*`` environment variables.

The embedded defaults keep everything under one data directory (``LOTLINE_DATA_DIR``, default ``./data``): the
SQLite ledger, the chain node's database, the broker files and the keys. Production overrides the database, the
broker and the chain RPC URL and must set real secrets: outside ``development`` the placeholder secret is refused,
so a deployment cannot silently run with a key that is printed in this file.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ledger.errors import InvalidInput

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
PLACEHOLDER_SECRET = "dev-only-change-me"  # noqa: S105 - the value refused outside development


class Environment(StrEnum):
    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LOTLINE_", extra="ignore")

    environment: Environment = Environment.DEVELOPMENT
    data_dir: Path = Path("./data")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; defaults to SQLite in the data directory"
    )
    broker_url: str | None = Field(default=None, description="Celery broker; defaults to an embedded SQLite one")
    queue: str = Field(default="lotline", description="Celery queue name (several networks may share one Redis)")
    chain_rpc_url: str | None = Field(default=None, description="JSON-RPC URL; defaults to the embedded node")
    chain_id: int = 20260
    embedded_chain_port: int = Field(default=8545, description="JSON-RPC port of the embedded node")
    public_url: str = "http://127.0.0.1:8000"
    gs1_company_prefix: str = Field(default="6970000", description="for products registered without a GTIN")
    secret_key: str = Field(default=PLACEHOLDER_SECRET, description="encrypts organisation keys at rest")
    signature_ttl_seconds: int = 3600
    bootstrap_regulator_name: str = "市场监督管理局（初始监管账户）"
    bootstrap_regulator_uscc: str = Field(
        default="11330100MB0000001R", description="the regulator organisation created on first start"
    )
    max_upload_bytes: int = 20 * 1024 * 1024
    webhook_allowed_networks: str = Field(
        default="",
        description="comma-separated CIDRs of private networks recall webhooks may reach (public ones always may)",
    )

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _networks_parse(cls, value: str) -> str:
        try:
            parse_networks(value.split(","))
        except InvalidInput as error:
            raise ValueError(f"LOTLINE_WEBHOOK_ALLOWED_NETWORKS: {error.detail}") from error
        return value

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> Settings:
        if self.environment is not Environment.DEVELOPMENT and self.secret_key == PLACEHOLDER_SECRET:
            raise ValueError(
                f"LOTLINE_SECRET_KEY must be set to a real secret when LOTLINE_ENVIRONMENT={self.environment}"
            )
        if self.environment is Environment.PRODUCTION and len(self.secret_key) < 32:
            raise ValueError("LOTLINE_SECRET_KEY must be at least 32 characters in production")
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'ledger.sqlite').resolve()}"

    @property
    def resolved_chain_rpc_url(self) -> str:
        return self.chain_rpc_url or f"http://127.0.0.1:{self.embedded_chain_port}"

    @property
    def chain_data_dir(self) -> Path:
        return self.data_dir / "chain"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"


def parse_networks(texts: Iterable[str]) -> tuple[IPNetwork, ...]:
    """``"10.0.0.0/8, 127.0.0.1"`` → networks (``LOTLINE_WEBHOOK_ALLOWED_NETWORKS``, and
    :class:`recall.endpoints.AddressPolicy`); a malformed entry is refused with its text."""
    networks = []
    for text in (t.strip() for t in texts):
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as error:
            raise InvalidInput(f"{text!r} is not an IP network (CIDR such as 10.0.0.0/8): {error}") from error
    return tuple(networks)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
