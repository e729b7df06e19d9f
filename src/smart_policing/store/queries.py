"""Read-side queries used by the CLI and the web app (plain data out)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, desc, func, select

from smart_policing.store import tables as t

__all__ = ["list_imports", "list_rejects", "record_counts"]


def record_counts(engine: Engine) -> dict[str, int]:
    """Rows per record table (calls, incidents, places, boundaries, imports, rejects)."""
    tables = {
        "calls": t.calls,
        "incidents": t.incidents,
        "places": t.places,
        "boundaries": t.boundaries,
        "imports": t.imports,
        "rejects": t.rejects,
    }
    with engine.connect() as conn:
        return {
            name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in tables.items()
        }


def list_imports(engine: Engine, limit: int = 20) -> list[dict[str, Any]]:
    """The most recent imports, newest first."""
    i = t.imports
    with engine.connect() as conn:
        rows = conn.execute(select(i).order_by(desc(i.c.id)).limit(limit)).mappings().all()
    return [dict(r) for r in rows]


def list_rejects(
    engine: Engine,
    *,
    import_id: int | None = None,
    file_name: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """Rejected rows (total matching, one page), in file order."""
    r = t.rejects
    where = []
    if import_id is not None:
        where.append(r.c.import_id == import_id)
    if file_name is not None:
        where.append(r.c.file_name == file_name)
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(r).where(*where)).scalar_one())
        rows = (
            conn.execute(
                select(r)
                .where(*where)
                .order_by(r.c.import_id, r.c.line_number)
                .limit(limit)
                .offset(offset)
            )
            .mappings()
            .all()
        )
    return total, [dict(x) for x in rows]
