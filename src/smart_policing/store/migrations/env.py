"""Alembic environment: runs migrations on the engine handed in by
:func:`smart_policing.store.engine.upgrade` (no ini file, no global URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from smart_policing.store.tables import metadata

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through smart_policing.store.engine.upgrade(engine)")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
