"""False-alarm registry (R4): alarm sites, alarm events, status changes and notices.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alarm_sites",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_key", sa.Text(), nullable=False),
        sa.Column("display_address", sa.Text(), nullable=False),
        sa.Column("permit_number", sa.String(length=64), nullable=True),
        sa.Column("permit_holder", sa.Text(), nullable=True),
        sa.Column("permit_expires", sa.Date(), nullable=True),
        sa.Column("alarm_company", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_sites")),
        sa.UniqueConstraint("address_key", name=op.f("uq_alarm_sites_address_key")),
    )
    op.create_table(
        "alarm_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("verified_by", sa.String(length=16), nullable=False),
        sa.Column("source_call_id", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["site_id"], ["alarm_sites.id"], name=op.f("fk_alarm_events_site_id_alarm_sites")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_events")),
        sa.UniqueConstraint("source_call_id", name=op.f("uq_alarm_events_source_call_id")),
    )
    op.create_index(
        op.f("ix_alarm_events_site_id_occurred_at"), "alarm_events", ["site_id", "occurred_at"]
    )
    op.create_table(
        "alarm_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("false_count", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["alarm_events.id"],
            name=op.f("fk_alarm_status_changes_event_id_alarm_events"),
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["alarm_sites.id"],
            name=op.f("fk_alarm_status_changes_site_id_alarm_sites"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alarm_status_changes")),
    )
    op.create_index(
        op.f("ix_alarm_status_changes_site_id_year"), "alarm_status_changes", ["site_id", "year"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_alarm_status_changes_site_id_year"), table_name="alarm_status_changes")
    op.drop_table("alarm_status_changes")
    op.drop_index(op.f("ix_alarm_events_site_id_occurred_at"), table_name="alarm_events")
    op.drop_table("alarm_events")
    op.drop_table("alarm_sites")
