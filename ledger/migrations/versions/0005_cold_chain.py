"""cold chain

Temperature logs and their readings (a time series keyed by log and epoch milliseconds), what brought each reading
(a logger file, an event's sensor data, a gateway's batch) and the event that anchors it, each profile's evaluation
state per log, excursions and the goods they hold, vaccine vial monitor observations, and the profile a product's
owner chose. See docs/cold-chain.md.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import ledger.models.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "temperature_readings",
        sa.Column("log_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("taken_ms", sa.BigInteger(), nullable=False),
        sa.Column("value_c", sa.Float(), nullable=True),
        sa.Column("min_c", sa.Float(), nullable=True),
        sa.Column("max_c", sa.Float(), nullable=True),
        sa.Column("ingest_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.PrimaryKeyConstraint("log_id", "taken_ms", name=op.f("pk_temperature_readings")),
    )
    op.create_table(
        "product_profiles",
        sa.Column("product_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("profile", sa.String(length=40), nullable=False),
        sa.Column("chosen_by_org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("created_at", ledger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chosen_by_org_id"], ["organisations.id"], name=op.f("fk_product_profiles_chosen_by_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_product_profiles_product_id_products")),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_product_profiles")),
    )
    op.create_table(
        "vvm_observations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("event_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("stage", sa.SmallInteger(), nullable=False),
        sa.Column("observed_at", ledger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_vvm_observations_batch_id_batches")),
        sa.ForeignKeyConstraint(["event_seq"], ["events.seq"], name=op.f("fk_vvm_observations_event_seq_events")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_vvm_observations_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vvm_observations")),
    )
    with op.batch_alter_table("vvm_observations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vvm_observations_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_vvm_observations_event_seq"), ["event_seq"], unique=False)

    op.create_table(
        "temperature_logs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("device_id", sa.String(length=200), nullable=False),
        sa.Column(
            "scope",
            sa.Enum("shipment", "location", "holding", name="logscope", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("scope_key", sa.String(length=40), nullable=False),
        sa.Column("shipment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("holder_org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("interval_s", sa.Integer(), nullable=False),
        sa.Column("reading_count", sa.BigInteger(), nullable=False),
        sa.Column("first_ms", sa.BigInteger(), nullable=True),
        sa.Column("last_ms", sa.BigInteger(), nullable=True),
        sa.Column("created_at", ledger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_temperature_logs_batch_id_batches")),
        sa.ForeignKeyConstraint(
            ["holder_org_id"], ["organisations.id"], name=op.f("fk_temperature_logs_holder_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_temperature_logs_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_temperature_logs_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["shipment_id"], ["shipments.id"], name=op.f("fk_temperature_logs_shipment_id_shipments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_temperature_logs")),
        sa.UniqueConstraint(
            "org_id", "device_id", "scope_key", name=op.f("uq_temperature_logs_org_id_device_id_scope_key")
        ),
    )
    with op.batch_alter_table("temperature_logs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_temperature_logs_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_temperature_logs_holder_org_id"), ["holder_org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_temperature_logs_location_id"), ["location_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_temperature_logs_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_temperature_logs_shipment_id"), ["shipment_id"], unique=False)

    op.create_table(
        "excursions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("log_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("profile_key", sa.String(length=60), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("hot", "cold", "data_gap", "vvm", name="excursionkind", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("started_at", ledger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ended_at", ledger.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.BigInteger(), nullable=False),
        sa.Column("min_c", sa.Float(), nullable=True),
        sa.Column("max_c", sa.Float(), nullable=True),
        sa.Column("holder_org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("recorded_by_org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shipment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("location_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("event_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "released", "destroyed", name="excursionstatus", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("acknowledged_at", ledger.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by_org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("candidate_at", ledger.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("candidate_by_org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("disposed_at", ledger.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("disposed_by_org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("disposition_reason", sa.Text(), nullable=True),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=True),
        sa.Column("evidence_filename", sa.String(length=255), nullable=True),
        sa.Column("evidence_content_type", sa.String(length=100), nullable=True),
        sa.Column("evidence", sa.LargeBinary(), nullable=True),
        sa.Column("disposition_event_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_at", ledger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["acknowledged_by_org_id"],
            ["organisations.id"],
            name=op.f("fk_excursions_acknowledged_by_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["candidate_by_org_id"], ["organisations.id"], name=op.f("fk_excursions_candidate_by_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["disposed_by_org_id"], ["organisations.id"], name=op.f("fk_excursions_disposed_by_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["disposition_event_seq"], ["events.seq"], name=op.f("fk_excursions_disposition_event_seq_events")
        ),
        sa.ForeignKeyConstraint(["event_seq"], ["events.seq"], name=op.f("fk_excursions_event_seq_events")),
        sa.ForeignKeyConstraint(
            ["holder_org_id"], ["organisations.id"], name=op.f("fk_excursions_holder_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(["location_id"], ["locations.id"], name=op.f("fk_excursions_location_id_locations")),
        sa.ForeignKeyConstraint(
            ["log_id"], ["temperature_logs.id"], name=op.f("fk_excursions_log_id_temperature_logs")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_org_id"], ["organisations.id"], name=op.f("fk_excursions_recorded_by_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipments.id"], name=op.f("fk_excursions_shipment_id_shipments")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_excursions")),
        sa.UniqueConstraint(
            "log_id", "profile_key", "kind", "started_at", name=op.f("uq_excursions_log_id_profile_key_kind_started_at")
        ),
        sa.UniqueConstraint("number", name=op.f("uq_excursions_number")),
    )
    with op.batch_alter_table("excursions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_excursions_log_id"), ["log_id"], unique=False)
        batch_op.create_index("ix_excursions_status_holder", ["status", "holder_org_id"], unique=False)

    op.create_table(
        "log_evaluations",
        sa.Column("log_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("profile_key", sa.String(length=60), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("last_ms", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", ledger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["log_id"], ["temperature_logs.id"], name=op.f("fk_log_evaluations_log_id_temperature_logs")
        ),
        sa.PrimaryKeyConstraint("log_id", "profile_key", name=op.f("pk_log_evaluations")),
    )
    op.create_table(
        "reading_ingests",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("log_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("org_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "kind", sa.Enum("file", "epcis", "gateway", name="ingestkind", native_enum=False, length=32), nullable=False
        ),
        sa.Column("event_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("reading_count", sa.Integer(), nullable=False),
        sa.Column("duplicate_count", sa.Integer(), nullable=False),
        sa.Column("first_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_ms", sa.BigInteger(), nullable=False),
        sa.Column("created_at", ledger.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["event_seq"], ["events.seq"], name=op.f("fk_reading_ingests_event_seq_events")),
        sa.ForeignKeyConstraint(
            ["log_id"], ["temperature_logs.id"], name=op.f("fk_reading_ingests_log_id_temperature_logs")
        ),
        sa.ForeignKeyConstraint(["org_id"], ["organisations.id"], name=op.f("fk_reading_ingests_org_id_organisations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reading_ingests")),
    )
    with op.batch_alter_table("reading_ingests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reading_ingests_event_seq"), ["event_seq"], unique=False)
        batch_op.create_index(batch_op.f("ix_reading_ingests_log_id"), ["log_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_reading_ingests_sha256"), ["sha256"], unique=False)

    op.create_table(
        "excursion_goods",
        sa.Column("excursion_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("hold_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batches.id"], name=op.f("fk_excursion_goods_batch_id_batches")),
        sa.ForeignKeyConstraint(
            ["excursion_id"], ["excursions.id"], name=op.f("fk_excursion_goods_excursion_id_excursions")
        ),
        sa.ForeignKeyConstraint(["hold_id"], ["holds.id"], name=op.f("fk_excursion_goods_hold_id_holds")),
        sa.PrimaryKeyConstraint("excursion_id", "batch_id", name=op.f("pk_excursion_goods")),
        sa.UniqueConstraint("hold_id", name=op.f("uq_excursion_goods_hold_id")),
    )
    with op.batch_alter_table("excursion_goods", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_excursion_goods_batch_id"), ["batch_id"], unique=False)

    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("excursion_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True)
        )
        batch_op.alter_column(
            "recall_id", existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        )
        batch_op.create_index(batch_op.f("ix_webhook_deliveries_excursion_id"), ["excursion_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_webhook_deliveries_excursion_id_excursions"), "excursions", ["excursion_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_webhook_deliveries_excursion_id_excursions"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_webhook_deliveries_excursion_id"))
        batch_op.alter_column(
            "recall_id", existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        )
        batch_op.drop_column("excursion_id")

    with op.batch_alter_table("excursion_goods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_excursion_goods_batch_id"))

    op.drop_table("excursion_goods")
    with op.batch_alter_table("reading_ingests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reading_ingests_sha256"))
        batch_op.drop_index(batch_op.f("ix_reading_ingests_log_id"))
        batch_op.drop_index(batch_op.f("ix_reading_ingests_event_seq"))

    op.drop_table("reading_ingests")
    op.drop_table("log_evaluations")
    with op.batch_alter_table("excursions", schema=None) as batch_op:
        batch_op.drop_index("ix_excursions_status_holder")
        batch_op.drop_index(batch_op.f("ix_excursions_log_id"))

    op.drop_table("excursions")
    with op.batch_alter_table("temperature_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_temperature_logs_shipment_id"))
        batch_op.drop_index(batch_op.f("ix_temperature_logs_org_id"))
        batch_op.drop_index(batch_op.f("ix_temperature_logs_location_id"))
        batch_op.drop_index(batch_op.f("ix_temperature_logs_holder_org_id"))
        batch_op.drop_index(batch_op.f("ix_temperature_logs_batch_id"))

    op.drop_table("temperature_logs")
    with op.batch_alter_table("vvm_observations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vvm_observations_event_seq"))
        batch_op.drop_index(batch_op.f("ix_vvm_observations_batch_id"))

    op.drop_table("vvm_observations")
    op.drop_table("product_profiles")
    op.drop_table("temperature_readings")
