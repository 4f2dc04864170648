"""tamper evidence

Outbox rows the anchoring worker refused (an event whose signature does not verify against its organisation's
address, or whose nonce or deadline is out of order): when and why, so the row is quarantined rather than anchored
and `lotline verify` reports it. See docs/anchoring.md.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-05 12:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.models.base

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("refused_at", ledger.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("refusal", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("refusal")
        batch_op.drop_column("refused_at")
