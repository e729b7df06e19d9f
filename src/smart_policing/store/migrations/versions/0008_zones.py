"""Zones: zone sets, their zones, and the proactive-activity log (R8, R9).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "zone_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("source_crs", sa.String(length=64), nullable=False),
        sa.Column("projected_crs", sa.String(length=64), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"], ["imports.id"], name=op.f("fk_zone_sets_import_id_imports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zone_sets")),
        sa.UniqueConstraint("name", name=op.f("uq_zone_sets_name")),
    )
    op.create_table(
        "zones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("zone_key", sa.String(length=128), nullable=False),
        sa.Column("district", sa.String(length=64), nullable=True),
        sa.Column("geometry", sa.Text(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("min_lon", sa.Float(), nullable=False),
        sa.Column("min_lat", sa.Float(), nullable=False),
        sa.Column("max_lon", sa.Float(), nullable=False),
        sa.Column("max_lat", sa.Float(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["set_id"], ["zone_sets.id"], name=op.f("fk_zones_set_id_zone_sets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zones")),
        sa.UniqueConstraint("set_id", "zone_key", name=op.f("uq_zones_set_id_zone_key")),
    )
    op.create_table(
        "zone_activities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("zone_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("officer", sa.String(length=64), nullable=False),
        sa.Column("unit_id", sa.String(length=32), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["zone_id"], ["zones.id"], name=op.f("fk_zone_activities_zone_id_zones")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_zone_activities")),
    )
    op.create_index(
        op.f("ix_zone_activities_zone_id_started_at"),
        "zone_activities",
        ["zone_id", "started_at"],
    )
    op.create_index(
        op.f("ix_zone_activities_started_at_id"), "zone_activities", ["started_at", "id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_zone_activities_started_at_id"), table_name="zone_activities")
    op.drop_index(op.f("ix_zone_activities_zone_id_started_at"), table_name="zone_activities")
    op.drop_table("zone_activities")
    op.drop_table("zones")
    op.drop_table("zone_sets")
