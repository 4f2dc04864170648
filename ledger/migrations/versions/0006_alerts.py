"""alerts

Counterfeit and diversion alerts (one row per kind, code or batch and subject, each recorded as a signed and
anchored event), consumers' lookups of sold codes, and webhook messages that announce an alert. See docs/alerts.md.

Revision ID: 0006
Revises: 0010
Create Date: 2026-12-05 12:27:07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.models.base

revision: str = "0006"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alerts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "settled_twice",
                "outside_chain",
                "forged_code",
                "frequent_lookups",
                "impossible_travel",
                name="alertkind",
                native_enum=False,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("dedup_key", sa.String(length=64), nullable=False),
        sa.Column(
            "status", sa.Enum("open", "investigating", name="alertstatus", native_enum=False, length=32), nullable=False
        ),
        sa.Column("code_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("owner_org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("subject_org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("scanned", sa.String(length=300), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", ledger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", ledger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("event_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("investigated_by_org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("investigated_at", ledger.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_alerts_batch_id_batches")),
        sa.ForeignKeyConstraint(["code_id"], ["codes.id"], name=op.f("fk_alerts_code_id_codes")),
        sa.ForeignKeyConstraint(["event_seq"], ["events.seq"], name=op.f("fk_alerts_event_seq_events")),
        sa.ForeignKeyConstraint(
            ["investigated_by_org_id"],
            ["organisations.id"],
            name=op.f("fk_alerts_investigated_by_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(["location_id"], ["locations.id"], name=op.f("fk_alerts_location_id_locations")),
        sa.ForeignKeyConstraint(
            ["owner_org_id"], ["organisations.id"], name=op.f("fk_alerts_owner_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["subject_org_id"], ["organisations.id"], name=op.f("fk_alerts_subject_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_alerts_dedup_key")),
        sa.UniqueConstraint("event_seq", name=op.f("uq_alerts_event_seq")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_code_id"), ["code_id"], unique=False)
        batch_op.create_index("ix_alerts_last_seen", ["last_seen_at"], unique=False)
        batch_op.create_index("ix_alerts_owner", ["owner_org_id", "last_seen_at"], unique=False)

    op.create_table(
        "code_lookups",
        sa.Column("code_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_at", ledger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_at", ledger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["code_id"], ["codes.id"], name=op.f("fk_code_lookups_code_id_codes")),
        sa.PrimaryKeyConstraint("code_id", name=op.f("pk_code_lookups")),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alert_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True))
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_alert_id"), ["alert_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_webhook_deliveries_alert_id_alerts"), "alerts", ["alert_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_webhook_deliveries_alert_id_alerts"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_alert_id"))
        batch_op.drop_column("alert_id")

    op.drop_table("code_lookups")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_alerts_owner")
        batch_op.drop_index("ix_alerts_last_seen")
        batch_op.drop_index(batch_op.f("ix_alerts_code_id"))

    op.drop_table("alerts")
