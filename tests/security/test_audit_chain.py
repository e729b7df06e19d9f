"""The audit hash chain finds any edited, inserted or deleted row."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from smart_policing.security.audit_chain import (
    GENESIS_HASH,
    AuditEntry,
    entry_hash,
    verify_chain,
)


def _chain(n: int) -> list[tuple[AuditEntry, str]]:
    rows = []
    prev = GENESIS_HASH
    t0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    for i in range(1, n + 1):
        e = AuditEntry(
            seq=i,
            at=t0 + timedelta(seconds=i),
            actor=f"user{i % 3}",
            roles="analyst",
            action="read",
            route="GET /api/incidents",
            records='{"ids":["1","2"],"kind":"incidents"}',
            result="200",
            prev_hash=prev,
        )
        prev = entry_hash(e)
        rows.append((e, prev))
    return rows


def test_an_intact_chain_verifies_and_reports_its_head() -> None:
    rows = _chain(5)
    report = verify_chain(rows)
    assert report.ok
    assert (report.rows, report.head_seq, report.head_hash) == (5, 5, rows[-1][1])
    assert verify_chain([]).ok
    assert verify_chain([]).head_hash == GENESIS_HASH


def test_the_hash_is_sha256_of_a_canonical_json_array() -> None:
    e = _chain(1)[0][0]
    assert e.canonical() == (
        b'[1,"2026-11-22T09:00:01.000000Z","user1","analyst","read","GET /api/incidents",'
        b'"{\\"ids\\":[\\"1\\",\\"2\\"],\\"kind\\":\\"incidents\\"}","200",'
        b'"0000000000000000000000000000000000000000000000000000000000000000"]'
    )
    # the same instant in another zone hashes the same
    other = replace(e, at=e.at.astimezone(datetime.now().astimezone().tzinfo))
    assert entry_hash(other) == entry_hash(e)


FIELDS = ["actor", "roles", "action", "route", "records", "result"]


@given(
    index=st.integers(0, 9),
    field=st.sampled_from(FIELDS),
    text=st.text(min_size=1, max_size=20),
)
def test_any_edited_text_field_is_found_at_its_row(index: int, field: str, text: str) -> None:
    rows = _chain(10)
    entry, stored = rows[index]
    edited = replace(entry, **{field: getattr(entry, field) + text})
    rows[index] = (edited, stored)
    report = verify_chain(rows)
    assert not report.ok
    assert report.first_bad_seq == index + 1
    assert report.rows == index
    assert report.reason is not None
    assert "edited" in report.reason


def test_an_edited_time_is_found() -> None:
    rows = _chain(4)
    e, h = rows[2]
    rows[2] = (replace(e, at=e.at - timedelta(hours=1)), h)
    assert verify_chain(rows).first_bad_seq == 3


def test_a_deleted_row_is_found() -> None:
    rows = _chain(6)
    del rows[3]
    report = verify_chain(rows)
    assert not report.ok
    assert report.first_bad_seq == 5
    assert "sequence" in (report.reason or "")


def test_a_rewritten_tail_with_recomputed_hashes_is_found_by_the_next_row() -> None:
    # an attacker edits row 2 and recomputes its hash, but row 3 still points at the old one
    rows = _chain(4)
    e, _ = rows[1]
    forged = replace(e, actor="someone-else")
    rows[1] = (forged, entry_hash(forged))
    report = verify_chain(rows)
    assert report.first_bad_seq == 3
    assert "prev_hash" in (report.reason or "")
