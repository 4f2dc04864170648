"""event epcs

The EPCs each event names and their role (``event_epcs``, see ``ledger.epc_index``): an item's journey is found by
its EPC instead of by decoding every event document of its batch. Existing events are indexed here, in chunks.

Revision ID: 0010
Revises: 0005
Create Date: 2026-12-05 12:30:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from ledger.epc_index import named_epcs

revision: str = "0010"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 5_000


def upgrade() -> None:
    op.create_table(
        "event_epcs",
        sa.Column("epc", sa.Text(), nullable=False),
        sa.Column("event_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(["event_seq"], ["events.seq"], name=op.f("fk_event_epcs_event_seq_events")),
        sa.PrimaryKeyConstraint("epc", "event_seq", "role", name=op.f("pk_event_epcs")),
    )
    op.create_index("ix_event_epcs_event_role", "event_epcs", ["event_seq", "role"], unique=False)
    _index_existing_events()


def _index_existing_events() -> None:
    conn = op.get_bind()
    events = sa.table("events", sa.column("seq"), sa.column("document"))
    event_epcs = sa.table("event_epcs", sa.column("epc"), sa.column("event_seq"), sa.column("role"))
    after = 0
    while True:
        rows = conn.execute(
            sa.select(events.c.seq, events.c.document).where(events.c.seq > after).order_by(events.c.seq).limit(CHUNK)
        ).all()
        if not rows:
            return
        index = []
        for seq, document in rows:
            parsed = json.loads(document) if isinstance(document, str) else document
            index += [{"epc": epc, "event_seq": seq, "role": role} for epc, role in named_epcs(parsed)]
        if index:
            conn.execute(sa.insert(event_epcs), index)
        after = rows[-1][0]


def downgrade() -> None:
    op.drop_index("ix_event_epcs_event_role", table_name="event_epcs")
    op.drop_table("event_epcs")
