"""The records browser's filtered pages are served by an index, not a scan.

Timing belongs in benchmarks; what a test can pin down is the plan: SQLite must
walk the (filter, time) index newest-first, so a rare value costs what a common
one does (on 1.2 million incidents: ~1 ms instead of ~4.6 s when nothing matches).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, Select

from smart_policing.store import make_engine, upgrade
from smart_policing.store import records as r


def _plan(engine: Engine, query: Select[Any]) -> str:
    compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
    return " | ".join(str(row[-1]) for row in rows)


@pytest.mark.parametrize(
    ("kind", "filters", "index"),
    [
        ("incidents", {"offence_code": "9S"}, "ix_incidents_offence_code_occurred_at"),
        ("incidents", {"district": "WESTERN"}, "ix_incidents_district_occurred_at"),
        ("calls", {"call_type_code": "SHOOTING"}, "ix_calls_call_type_code_received_at"),
        ("calls", {"priority": 1}, "ix_calls_priority_received_at"),
        ("calls", {"district": "EASTERN"}, "ix_calls_district_received_at"),
    ],
)
def test_filtered_pages_walk_an_index_without_sorting(
    tmp_path: Any, kind: str, filters: dict[str, Any], index: str
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'plan.db'}")
    upgrade(engine)
    query = r.page_query(kind, r.RecordFilters(equals=filters), timezone="UTC", limit=50)
    plan = _plan(engine, query)
    assert index in plan
    assert "TEMP B-TREE" not in plan  # rows come out in page order, no sort of all matches
    engine.dispose()
