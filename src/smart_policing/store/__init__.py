"""Store: SQLAlchemy tables, Alembic migrations, bulk loading and repositories.

SQLite (a file) by default; PostgreSQL by URL. Tests run every store test on both.
"""

from smart_policing.store.engine import (
    current_revision,
    head_revision,
    make_engine,
    normalise_url,
    upgrade,
)

__all__ = ["current_revision", "head_revision", "make_engine", "normalise_url", "upgrade"]
