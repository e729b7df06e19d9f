"""The audit log in the database: append-only, chained, tamper-evident."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from smart_policing.cli import app
from smart_policing.store.audit import append_audit, iter_audit, verify_audit


def _append(engine: Engine, n: int, actor: str = "ana") -> None:
    for i in range(n):
        append_audit(
            engine,
            actor=actor,
            roles="analyst",
            action="read",
            route="GET /api/incidents",
            records=f'{{"ids":["{i}"]}}',
            result="200",
        )


def test_rows_chain_from_one_without_gaps(engine: Engine) -> None:
    _append(engine, 5)
    rows = list(iter_audit(engine, batch=2))
    assert [e.seq for e, _ in rows] == [1, 2, 3, 4, 5]
    assert all(rows[i][0].prev_hash == rows[i - 1][1] for i in range(1, 5))
    report = verify_audit(engine)
    assert (report.ok, report.rows, report.head_seq) == (True, 5, 5)


def test_concurrent_writers_keep_one_unbroken_chain(engine: Engine) -> None:
    threads = [threading.Thread(target=_append, args=(engine, 25, f"u{i}")) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    report = verify_audit(engine)
    assert report.ok
    assert report.rows == 100


def test_the_database_refuses_updates_and_deletes(engine: Engine) -> None:
    _append(engine, 2)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'x' WHERE seq = 1"))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    assert verify_audit(engine).ok


def _drop_guard(engine: Engine) -> None:
    """What an attacker with database-owner rights would do first."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))


def _restore_guard(engine: Engine) -> None:
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log"))
            conn.execute(
                text(
                    "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
                    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
                )
            )


def test_audit_verify_detects_a_row_edited_in_the_database(engine: Engine) -> None:
    _append(engine, 6)
    url = engine.url.render_as_string(hide_password=False)
    runner = CliRunner()
    ok = runner.invoke(app, ["--db", url, "audit", "verify", "--json"])
    assert ok.exit_code == 0, ok.output
    assert '"ok": true' in ok.output
    _drop_guard(engine)
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE audit_log SET records = '{\"ids\":[]}' WHERE seq = 4"))
        broken = runner.invoke(app, ["--db", url, "audit", "verify"])
        assert broken.exit_code == 1
        assert "BROKEN at row #4" in broken.output
        assert "edited" in broken.output
    finally:
        _restore_guard(engine)


def test_audit_verify_detects_a_deleted_row(engine: Engine) -> None:
    _append(engine, 6)
    _drop_guard(engine)
    try:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
        report = verify_audit(engine)
        assert not report.ok
        assert report.first_bad_seq == 3
    finally:
        _restore_guard(engine)
