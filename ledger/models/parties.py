"""Who takes part: organisations, their API tokens and their locations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ledger.models.base import Base, BigId, Created, IdPK, Role, UTCDateTime


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[IdPK]
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    gln: Mapped[str | None] = mapped_column(String(13), unique=True)
    chain_address: Mapped[str] = mapped_column(String(42), unique=True)
    # AES-GCM blob from ledger.keys.KeyVault; the plaintext key never touches the database.
    encrypted_key: Mapped[bytes] = mapped_column(LargeBinary)
    # Highest EIP-712 nonce accepted from this organisation's key: a signature must exceed it.
    signature_nonce: Mapped[int] = mapped_column(BigInteger, default=0)
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    webhook_secret_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[Created]

    def has_role(self, role: Role) -> bool:
        return role.value in self.roles


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[IdPK]
    org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(100), default="default")
    created_at: Mapped[Created]
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Location(Base):
    __tablename__ = "locations"

    id: Mapped[IdPK]
    org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(40))  # warehouse, cold_store, market_stall, store, clinic, farm
    gln: Mapped[str | None] = mapped_column(String(13), unique=True)
    region_code: Mapped[str | None] = mapped_column(String(6))  # 行政区划代码
    address: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[Created]
