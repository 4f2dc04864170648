"""verify checkpoints

The checkpoints of clean full verifications that `lotline verify --since-checkpoint` resumes from: the last event
verified, each organisation's last nonce then, and an HMAC of the row under a key derived from LOTLINE_SECRET_KEY.
See docs/anchoring.md.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 12:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.models.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "verify_checkpoints",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("last_event_seq", sa.BigInteger(), nullable=False),
        sa.Column("nonces", sa.JSON(), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=False),
        sa.Column("created_at", ledger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verify_checkpoints")),
    )


def downgrade() -> None:
    op.drop_table("verify_checkpoints")
