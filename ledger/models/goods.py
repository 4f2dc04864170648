"""What is traced: products (GTIN), batches (GTIN + lot), their documents and the codes printed on packs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Float, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from ledger.models.base import (
    Base,
    BigId,
    Category,
    CodeKind,
    CodeStatus,
    Created,
    Hex32,
    IdPK,
    UTCDateTime,
    enum_column,
)


class Product(Base):
    __tablename__ = "products"

    id: Mapped[IdPK]
    gtin: Mapped[str] = mapped_column(String(14), unique=True)
    owner_org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    category: Mapped[Category] = enum_column(Category)
    unit: Mapped[str] = mapped_column(String(8), default="EA")  # UN/ECE rec 20 code: EA, KGM, CS …
    storage_min_c: Mapped[float | None] = mapped_column(Float)
    storage_max_c: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[Created]


class Batch(Base):
    __tablename__ = "batches"
    __table_args__ = (UniqueConstraint("product_id", "lot"),)

    id: Mapped[IdPK]
    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("products.id"), index=True)
    lot: Mapped[str] = mapped_column(String(20))
    registrant_org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"), index=True)
    quantity: Mapped[int] = mapped_column(BigInteger)
    production_date: Mapped[date | None] = mapped_column(Date)
    expiry_date: Mapped[date | None] = mapped_column(Date)
    # Cold-chain import (进口冷链食品)
    customs_declaration_no: Mapped[str | None] = mapped_column(String(40))
    origin_country: Mapped[str | None] = mapped_column(String(2))
    quarantine_cert_no: Mapped[str | None] = mapped_column(String(60))
    nucleic_acid_test_no: Mapped[str | None] = mapped_column(String(60))
    nucleic_acid_result: Mapped[str | None] = mapped_column(String(20))
    disinfection_cert_no: Mapped[str | None] = mapped_column(String(60))
    # Farm produce (农贸市场)
    farm_origin: Mapped[str | None] = mapped_column(String(200))
    harvest_date: Mapped[date | None] = mapped_column(Date)
    rapid_test_result: Mapped[str | None] = mapped_column(String(20))
    rapid_test_no: Mapped[str | None] = mapped_column(String(60))
    # Vaccine (疫苗)
    vaccine_approval_no: Mapped[str | None] = mapped_column(String(60))  # 批准文号
    lot_release_cert_no: Mapped[str | None] = mapped_column(String(60))  # 批签发证明
    manufacturer: Mapped[str | None] = mapped_column(String(200))
    # Tamper evidence: keccak key on chain, hash of the registration record, head of the batch's event chain.
    batch_key: Mapped[Hex32] = mapped_column(unique=True)
    registration_hash: Mapped[Hex32]
    chain_head: Mapped[Hex32]
    event_count: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[Created]


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[IdPK]
    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("batches.id"), index=True)
    uploaded_by_org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"))
    kind: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # Stored in the ledger itself so an upload commits or rolls back with its row (no orphan files).
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[Created]


class Code(Base):
    """One printed code: an item (GTIN+lot+serial), the batch's own code, or a logistic unit (SSCC)."""

    __tablename__ = "codes"
    __table_args__ = (
        UniqueConstraint("batch_id", "serial"),
        Index("ix_codes_holder_status", "holder_org_id", "status"),
    )

    id: Mapped[IdPK]
    kind: Mapped[CodeKind] = enum_column(CodeKind)
    batch_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("batches.id"), index=True)
    serial: Mapped[str | None] = mapped_column(String(20))
    sscc: Mapped[str | None] = mapped_column(String(18), unique=True)
    drug_trace_code: Mapped[str | None] = mapped_column(String(20), unique=True)
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("codes.id"), index=True)
    status: Mapped[CodeStatus] = enum_column(CodeStatus)
    holder_org_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("organisations.id"))
    shipment_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("shipments.id"), index=True)
    issued_by_org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"))
    # Issuer's signature over the code's Digital Link, checkable offline with the issuer's public key.
    signature: Mapped[str | None] = mapped_column(String(140))
    issue_run: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[Created]
    consumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CodeRun(Base):
    """One request to issue codes for a batch; large runs are issued by the worker and report progress here."""

    __tablename__ = "code_runs"

    id: Mapped[IdPK]
    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("batches.id"), index=True)
    org_id: Mapped[int] = mapped_column(BigId, ForeignKey("organisations.id"))
    count: Mapped[int] = mapped_column(Integer)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))  # queued, running, done, failed
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[Created]
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
