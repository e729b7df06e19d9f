"""Compstat (R17): population table and the incident summary tables (day, month, year).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _summary(name: str, period: str, kind: sa.types.TypeEngine[Any]) -> None:
    op.create_table(
        name,
        sa.Column(period, kind, nullable=False),
        sa.Column("district", sa.String(length=64), nullable=False),
        sa.Column("offence_code", sa.String(length=32), nullable=False),
        sa.Column("incidents", sa.Integer(), nullable=False),
        sa.Column("victims", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(period, "district", "offence_code", name=op.f(f"pk_{name}")),
    )


def upgrade() -> None:
    op.create_table(
        "population",
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("city", "year", name=op.f("pk_population")),
    )
    _summary("compstat_daily", "day", sa.Date())
    _summary("compstat_monthly", "month", sa.Date())
    _summary("compstat_yearly", "year", sa.Integer())
    with op.batch_alter_table("compstat_monthly", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compstat_monthly_offence_code_month"), ["offence_code", "month"]
        )
    op.create_table(
        "compstat_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("imports_finished", sa.Integer(), nullable=False),
        sa.Column("last_import_id", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("incidents", sa.Integer(), nullable=False),
        sa.Column("victims", sa.Integer(), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=True),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("districts", sa.JSON(), nullable=False),
        sa.Column("built_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_compstat_state")),
    )


def downgrade() -> None:
    op.drop_table("compstat_state")
    op.drop_table("compstat_yearly")
    with op.batch_alter_table("compstat_monthly", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compstat_monthly_offence_code_month"))
    op.drop_table("compstat_monthly")
    op.drop_table("compstat_daily")
    op.drop_table("population")
