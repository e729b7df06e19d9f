"""Report intake: reports, their property items, transitions, idempotency keys,
case-number sequences and counted screening refusals.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_number", sa.String(length=16), nullable=False),
        sa.Column("case_year", sa.Integer(), nullable=False),
        sa.Column("case_seq", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("call_type", sa.String(length=32), nullable=False),
        sa.Column("occurred_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurred_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("address", sa.Text(), nullable=False),
        sa.Column("address_key", sa.Text(), nullable=False),
        sa.Column("block_address", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("contact", sa.JSON(), nullable=True),
        sa.Column("pack", sa.String(length=64), nullable=False),
        sa.Column("pack_version", sa.String(length=32), nullable=False),
        sa.Column("submitted_by", sa.String(length=64), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reports")),
        sa.UniqueConstraint("case_number", name=op.f("uq_reports_case_number")),
        sa.UniqueConstraint("case_year", "case_seq", name=op.f("uq_reports_case_year_case_seq")),
    )
    op.create_index(
        op.f("ix_reports_status_case_year_case_seq"),
        "reports",
        ["status", "case_year", "case_seq"],
    )
    op.create_index(
        op.f("ix_reports_submitted_by_case_year_case_seq"),
        "reports",
        ["submitted_by", "case_year", "case_seq"],
    )
    op.create_table(
        "report_items",
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("value_cents", sa.Integer(), nullable=False),
        sa.Column("serial_number", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_items_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("report_id", "position", name=op.f("pk_report_items")),
    )
    op.create_table(
        "report_transitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_transitions_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_transitions")),
    )
    op.create_index(
        op.f("ix_report_transitions_report_id_id"), "report_transitions", ["report_id", "id"]
    )
    op.create_table(
        "report_idempotency",
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("request_sha256", sa.String(length=64), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_idempotency_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("actor", "key", name=op.f("pk_report_idempotency")),
    )
    op.create_table(
        "report_sequences",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_report_sequences")),
    )
    op.create_table(
        "report_refusals",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("signs", sa.String(length=128), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "channel", "signs", name=op.f("pk_report_refusals")),
    )


def downgrade() -> None:
    op.drop_table("report_refusals")
    op.drop_table("report_sequences")
    op.drop_table("report_idempotency")
    op.drop_index(op.f("ix_report_transitions_report_id_id"), table_name="report_transitions")
    op.drop_table("report_transitions")
    op.drop_table("report_items")
    op.drop_index(op.f("ix_reports_submitted_by_case_year_case_seq"), table_name="reports")
    op.drop_index(op.f("ix_reports_status_case_year_case_seq"), table_name="reports")
    op.drop_table("reports")
