"""shipment lines by batch

Opening a recall asks which units of the recalled batches are still in transit, by batch; the primary key
(shipment_id, batch_id) cannot answer that without reading every shipment line.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 12:05:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_shipment_lines_batch", "shipment_lines", ["batch_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_shipment_lines_batch", table_name="shipment_lines")
