"""Initial schema: imports, rejects, incidents, calls, places, boundaries.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 10:38:49.642249
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("call_id", sa.String(length=128), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("en_route_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("on_scene_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("call_type_code", sa.String(length=128), nullable=False),
        sa.Column("call_type_text", sa.Text(), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("source_channel", sa.String(length=32), nullable=False),
        sa.Column("disposition_code", sa.String(length=32), nullable=True),
        sa.Column("disposition_text", sa.Text(), nullable=True),
        sa.Column("block_address", sa.Text(), nullable=True),
        sa.Column("place_key", sa.Text(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("district", sa.String(length=64), nullable=True),
        sa.Column("beat", sa.String(length=16), nullable=True),
        sa.Column("shift", sa.String(length=8), nullable=True),
        sa.Column("unit_id", sa.String(length=32), nullable=True),
        sa.Column("call_taker_id", sa.String(length=64), nullable=True),
        sa.Column("dispatcher_id", sa.String(length=64), nullable=True),
        sa.Column("self_initiated", sa.Boolean(), nullable=False),
        sa.Column("reopened", sa.Boolean(), nullable=False),
        sa.Column("call_to_queue_s", sa.Float(), nullable=True),
        sa.Column("call_to_dispatch_s", sa.Float(), nullable=True),
        sa.Column("dispatch_to_en_route_s", sa.Float(), nullable=True),
        sa.Column("travel_s", sa.Float(), nullable=True),
        sa.Column("dispatch_to_arrival_s", sa.Float(), nullable=True),
        sa.Column("call_to_arrival_s", sa.Float(), nullable=True),
        sa.Column("on_scene_s", sa.Float(), nullable=True),
        sa.Column("total_s", sa.Float(), nullable=True),
        sa.Column("quality_flags", sa.Text(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calls")),
        sa.UniqueConstraint("source", "call_id", name=op.f("uq_calls_source_call_id")),
    )
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_calls_received_at"), ["received_at"], unique=False)

    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=True),
        sa.Column("file_bytes", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_inserted", sa.Integer(), nullable=False),
        sa.Column("rows_duplicate", sa.Integer(), nullable=False),
        sa.Column("rows_rejected", sa.Integer(), nullable=False),
        sa.Column("rows_flagged", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_imports")),
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("source_key", sa.String(length=128), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("offence_code", sa.String(length=32), nullable=False),
        sa.Column("offence_description", sa.Text(), nullable=True),
        sa.Column("weapon", sa.String(length=64), nullable=True),
        sa.Column("premise", sa.String(length=64), nullable=True),
        sa.Column("inside_outside", sa.String(length=8), nullable=True),
        sa.Column("block_address", sa.Text(), nullable=True),
        sa.Column("place_key", sa.Text(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("district", sa.String(length=64), nullable=True),
        sa.Column("post", sa.String(length=16), nullable=True),
        sa.Column("neighbourhood", sa.Text(), nullable=True),
        sa.Column("victim_count", sa.Integer(), nullable=False),
        sa.Column("quality_flags", sa.Text(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint("source", "source_key", name=op.f("uq_incidents_source_source_key")),
    )
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_incidents_occurred_at"), ["occurred_at"], unique=False)

    op.create_table(
        "places",
        sa.Column("place_key", sa.Text(), nullable=False),
        sa.Column("block_address", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("district", sa.String(length=64), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("place_key", name=op.f("pk_places")),
    )
    op.create_table(
        "boundaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("layer", sa.String(length=128), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("geometry", sa.Text(), nullable=False),
        sa.Column("source_crs", sa.String(length=64), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name=op.f("fk_boundaries_import_id_imports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_boundaries")),
        sa.UniqueConstraint("kind", "layer", "name", name=op.f("uq_boundaries_kind_layer_name")),
    )
    op.create_table(
        "rejects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("file_sha256", sa.String(length=64), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("fields", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name=op.f("fk_rejects_import_id_imports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejects")),
        sa.UniqueConstraint(
            "file_sha256", "line_number", name=op.f("uq_rejects_file_sha256_line_number")
        ),
    )


def downgrade() -> None:
    op.drop_table("rejects")
    op.drop_table("boundaries")
    op.drop_table("places")
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_incidents_occurred_at"))

    op.drop_table("incidents")
    op.drop_table("imports")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_calls_received_at"))

    op.drop_table("calls")
