"""Alembic migrations build exactly the tables the ORM declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from cluster.db import Base, make_engine
from cluster.migrate import upgrade

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrated_schema_matches_models(backend: str, tmp_path, request) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'm.db'}" if backend == "sqlite" else request.getfixturevalue("pg_url")
    engine = make_engine(url)
    upgrade(engine)
    upgrade(engine)  # idempotent
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert diff == []
    assert {"jobs", "job_steps", "outbox", "artifacts", "idempotency_keys", "alembic_version"} <= tables


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0005_backfills_the_catalog_from_existing_rows(backend: str, tmp_path, request) -> None:  # type: ignore[no-untyped-def]
    """Rows written before the catalog get their project and a kind of the enum; sealed briefs get their row."""
    import hashlib
    import uuid
    from datetime import datetime, timezone

    from sqlalchemy import text

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.db'}"
    else:  # a fresh database: the shared one is already at head
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url

        base = make_url(request.getfixturevalue("pg_url"))
        name = f"mig_{uuid.uuid4().hex[:10]}"
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = base.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine, "0004")
    now = datetime(2026, 11, 1, tzinfo=timezone.utc)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO jobs (id, project, state, version, degraded, brief, brief_sealed, created_at, "
                          "updated_at) VALUES ('j1', 'acme', 'completed', 9, false, '{}', :sealed, :now, :now)"),
                     {"sealed": b"sealed-brief", "now": now})
        for art_id, kind, file in (("a1", "report", "report.pdf"), ("a2", "html", "report.html"), ("a3", "figma", "x.fig")):
            conn.execute(text("INSERT INTO artifacts (id, job_id, kind, key, uri, content_type, size, sha256, created_at)"
                              " VALUES (:id, 'j1', :kind, :key, 'file:///x', 'application/pdf', 1, :sha, :now)"),
                         {"id": art_id, "kind": kind, "key": f"jobs/j1/{file}", "sha": "0" * 64, "now": now})
    upgrade(engine)
    from cluster.sql_store import SqlJobStore
    from tests.conftest import TEST_KEYRING

    store = SqlJobStore(engine, keyring=TEST_KEYRING)
    rows = {a.id: a for a in store.catalog(job_id="j1")}
    engine.dispose()
    if backend == "postgresql":
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}"'))
        admin.dispose()
    assert {(a.kind.value, a.project, a.status.value) for a in rows.values()} == {
        ("pdf", "acme", "stored"), ("html", "acme", "stored"), ("export", "acme", "stored"), ("raw_brief", "acme", "stored")}
    assert rows["a1"].key == "jobs/j1/report.pdf" and rows["a1"].pii_class.value == "pseudonymized"  # legacy key kept
    [raw] = [a for a in rows.values() if a.kind.value == "raw_brief"]
    assert raw.sha256 == hashlib.sha256(b"sealed-brief").hexdigest() and raw.uri == "db://jobs/j1/brief_sealed"
