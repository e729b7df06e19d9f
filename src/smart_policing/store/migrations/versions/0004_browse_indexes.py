"""Indexes for the records browser's filtered, newest-first pages.

Without them a filter on a rare value (a homicide code, a quiet district) scans
every incident before it can say "no more rows": seconds on a million rows.
Each costs bulk loads some throughput (measured in the issue note), so only the
filters users reach for first are indexed.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_INDEXES = [
    ("ix_incidents_district_occurred_at", "incidents", ["district", "occurred_at"]),
    ("ix_incidents_offence_code_occurred_at", "incidents", ["offence_code", "occurred_at"]),
    ("ix_calls_district_received_at", "calls", ["district", "received_at"]),
    ("ix_calls_call_type_code_received_at", "calls", ["call_type_code", "received_at"]),
    ("ix_calls_priority_received_at", "calls", ["priority", "received_at"]),
]


def upgrade() -> None:
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
