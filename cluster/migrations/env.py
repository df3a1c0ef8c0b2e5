"""Alembic environment: runs migrations on the engine handed in by `cluster.migrate` (or the URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from cluster.db import Base, make_engine

config = context.config
target_metadata = Base.metadata

# Serializes concurrent upgrades (many Ray workers starting at once) on PostgreSQL.
_ADVISORY_LOCK_ID = 7_349_112_604


def run_migrations_online() -> None:
    """Run migrations on a live connection."""
    connection = config.attributes.get("connection")
    if connection is None:
        engine = make_engine(config.get_main_option("sqlalchemy.url"))
        with engine.connect() as conn:
            _run(conn)
        engine.dispose()
    else:
        _run(connection)


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
        context.run_migrations()


run_migrations_online()
