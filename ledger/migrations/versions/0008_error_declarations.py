"""error declarations

EPCIS 2.0 error declarations kept beside the event they declare erroneous (the CBV 2.0 hash ignores
``errorDeclaration``, so a declaration has its original's id). See docs/events.md.

Revision ID: 0008
Revises: 0010
Create Date: 2026-12-05 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.models.base

revision: str = "0008"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "error_declarations",
        sa.Column("event_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("declared_by_org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("declaration_time", ledger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=256), nullable=True),
        sa.Column("corrective_event_ids", sa.JSON(), nullable=False),
        sa.Column("declaration", sa.JSON(), nullable=False),
        sa.Column("recorded_at", ledger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["declared_by_org_id"],
            ["organisations.id"],
            name=op.f("fk_error_declarations_declared_by_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(["event_seq"], ["events.seq"], name=op.f("fk_error_declarations_event_seq_events")),
        sa.PrimaryKeyConstraint("event_seq", name=op.f("pk_error_declarations")),
    )
    op.create_index(
        op.f("ix_error_declarations_declared_by_org_id"), "error_declarations", ["declared_by_org_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_error_declarations_declared_by_org_id"), table_name="error_declarations")
    op.drop_table("error_declarations")
