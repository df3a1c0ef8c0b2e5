"""Nothing raw at rest on PostgreSQL: masked brief, sealed raw brief, keyed hash; errors without bound values."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from actors.pii.briefs import WITHHELD, open_brief
from cluster.sql_store import SqlJobStore
from schemas import Brief
from tests.conftest import TEST_KEYRING, brief_data

pytestmark = pytest.mark.integration

NAME = "Henrik Vogel"
EMAIL = "henrik.vogel@example.net"


def test_no_row_of_a_submitted_job_holds_the_raw_brief(pg_store: SqlJobStore) -> None:
    brief = Brief.model_validate(brief_data(notes=f"Ask {NAME} at {EMAIL}", audience=f"Clients of {NAME} ({EMAIL})"))
    job = pg_store.submit(brief, idempotency_key="at-rest-1")
    with pg_store.engine.connect() as conn:
        rows = [
            conn.execute(text("SELECT brief::text, encode(brief_sealed, 'escape') FROM jobs WHERE id = :id"), {"id": job.id}).one(),
            *conn.execute(text("SELECT event::text, headers::text FROM outbox WHERE job_id = :id"), {"id": job.id}),
            *conn.execute(text("SELECT key, request_hash FROM idempotency_keys WHERE job_id = :id"), {"id": job.id}),
        ]
        sealed = conn.scalar(text("SELECT brief_sealed FROM jobs WHERE id = :id"), {"id": job.id})
    stored = json.dumps([list(r) for r in rows])
    assert WITHHELD in stored and NAME not in stored and EMAIL not in stored
    assert open_brief(TEST_KEYRING, job.id, bytes(sealed)) == brief == pg_store.raw_brief(job.id)
    assert pg_store.purge_raw_brief(job.id) and pg_store.sealed_brief(job.id) is None


def test_postgres_errors_do_not_show_bound_values(pg_store: SqlJobStore) -> None:
    job = pg_store.submit(Brief.model_validate(brief_data()))
    insert = text(
        "INSERT INTO jobs (id, project, state, version, degraded, brief, created_at, updated_at) "
        "VALUES (:id, 'p', 'submitted', 1, false, CAST(:brief AS json), now(), now())"
    )
    with pytest.raises(IntegrityError) as integrity, pg_store.engine.begin() as conn:
        conn.execute(insert, {"id": job.id, "brief": json.dumps({"notes": EMAIL})})
    with pytest.raises(OperationalError) as operational, pg_store.engine.begin() as conn:
        conn.execute(text("SET LOCAL statement_timeout = 50"))
        conn.execute(text("SELECT pg_sleep(5), CAST(:email AS text)"), {"email": EMAIL})
    for exc in (integrity.value, operational.value):
        assert EMAIL not in str(exc) and "hide_parameters" in str(exc)
