"""Alembic environment: migrations run on the engine :func:`api.db.migrate` passes in.

Several server processes may start at once; on PostgreSQL an advisory lock makes them migrate
one after the other (SQLite's BEGIN IMMEDIATE does the same there).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from api.tables import Base

_MIGRATION_LOCK = 72_616_001

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})"))
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
