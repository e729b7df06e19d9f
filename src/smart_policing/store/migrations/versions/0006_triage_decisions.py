"""Triage decisions: every decision made through the API, with its pack version.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triage_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("call_id", sa.String(length=64), nullable=True),
        sa.Column("pack", sa.String(length=64), nullable=False),
        sa.Column("pack_version", sa.String(length=32), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("responder", sa.String(length=64), nullable=False),
        sa.Column("responder_kind", sa.String(length=32), nullable=False),
        sa.Column("co_respond", sa.Boolean(), nullable=False),
        sa.Column("officer_sent", sa.Boolean(), nullable=False),
        sa.Column("queued", sa.Boolean(), nullable=False),
        sa.Column("alarm_site_id", sa.Integer(), nullable=True),
        sa.Column("call", sa.JSON(), nullable=False),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["alarm_site_id"],
            ["alarm_sites.id"],
            name=op.f("fk_triage_decisions_alarm_site_id_alarm_sites"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_triage_decisions")),
    )
    op.create_index(op.f("ix_triage_decisions_call_id"), "triage_decisions", ["call_id"])
    op.create_index(
        op.f("ix_triage_decisions_pack_pack_version"), "triage_decisions", ["pack", "pack_version"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_triage_decisions_pack_pack_version"), table_name="triage_decisions")
    op.drop_index(op.f("ix_triage_decisions_call_id"), table_name="triage_decisions")
    op.drop_table("triage_decisions")
