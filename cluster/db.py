"""Database tables (SQLAlchemy 2 typed ORM) and engine creation for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from cluster.private_files import private_file, tighten

__all__ = ["ApiKeyRow", "ArtifactRow", "Base", "IdempotencyRow", "JobRow", "JobTombstoneRow", "MembershipRow", "OutboxRow",
           "ProjectRow",
           "StepRow", "make_engine", "transaction"]

_SQLITE_SIDE_FILES = ("-journal", "-wal", "-shm")


class Base(DeclarativeBase):
    """Declarative base of every table."""

    type_annotation_map = {dict[str, Any]: JSON, datetime: DateTime(timezone=True)}


class JobRow(Base):
    """A job; `version` is bumped on every update and checked by writers."""

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project: Mapped[str] = mapped_column(String(63), index=True)
    state: Mapped[str] = mapped_column(String(32), index=True)
    version: Mapped[int] = mapped_column(Integer)
    degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    brief: Mapped[dict[str, Any]]  # masked until the redact step writes the pseudonymized brief
    brief_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)  # the raw brief, sealed with the job's key
    idempotency_key: Mapped[str | None] = mapped_column(String(256))
    trace_id: Mapped[str | None] = mapped_column(String(32))
    traceparent: Mapped[str | None] = mapped_column(String(55))
    error: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_jobs_project_created", "project", "created_at", "id"),)  # the portal's job pages


class StepRow(Base):
    """One attempt of one step of a job."""

    __tablename__ = "job_steps"
    __table_args__ = (UniqueConstraint("job_id", "step", "attempt", name="uq_job_steps_attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    step: Mapped[str] = mapped_column(String(64))
    attempt: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    result_ref: Mapped[str | None] = mapped_column(Text)
    error: Mapped[dict[str, Any] | None]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class OutboxRow(Base):
    """An event waiting to be relayed; `published_at` is set only after the broker acked it."""

    __tablename__ = "outbox"
    # AUTOINCREMENT on SQLite: a seq (an event's signed sequence) is never reused after retention deleted rows.
    __table_args__ = (Index("ix_outbox_pending", "published_at", "seq"), {"sqlite_autoincrement": True})

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(36), unique=True)
    job_id: Mapped[str] = mapped_column(String(36), index=True)
    project: Mapped[str] = mapped_column(String(63))
    type: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(255))
    event: Mapped[dict[str, Any]]
    headers: Mapped[dict[str, Any]]
    occurred_at: Mapped[datetime]
    published_at: Mapped[datetime | None]


class ArtifactRow(Base):
    """The catalog row of a stored object (report export, checkpoint, vault, raw brief, script, ...)."""

    __tablename__ = "artifacts"
    __table_args__ = (
        Index("ix_artifacts_key", "key", unique=True),
        Index("ix_artifacts_project_kind", "project", "kind"),
        Index("ix_artifacts_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job_id: Mapped[str | None] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True, nullable=True)
    project: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(64))
    step: Mapped[str | None] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(Text)
    uri: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    retention_until: Mapped[datetime | None]
    local_path: Mapped[str | None] = mapped_column(Text)
    locale: Mapped[str | None] = mapped_column(String(35))
    pii_class: Mapped[str] = mapped_column(String(16), default="none")
    retention_class: Mapped[str] = mapped_column(String(32), default="")
    legal_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_reason: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="stored")
    deleted_at: Mapped[datetime | None]
    deletion_reason: Mapped[str | None] = mapped_column(Text)
    lineage: Mapped[list[str]] = mapped_column(JSON, default=list)


class IdempotencyRow(Base):
    """Maps (project, idempotency key) to the job it created; the primary key makes submits race-safe."""

    __tablename__ = "idempotency_keys"

    project: Mapped[str] = mapped_column(String(63), primary_key=True)
    key: Mapped[str] = mapped_column(String(256), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    request_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class JobTombstoneRow(Base):
    """What stays of a job whose row retention removed: id, project, state and times; no brief, error or steps."""

    __tablename__ = "job_tombstones"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project: Mapped[str] = mapped_column(String(63), index=True)
    state: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    purged_at: Mapped[datetime]


class ProjectRow(Base):
    """A project (tenant); `default` exists from the migration on."""

    __tablename__ = "projects"

    name: Mapped[str] = mapped_column(String(63), primary_key=True)
    created_at: Mapped[datetime]


class ApiKeyRow(Base):
    """An API key: its argon2 hash (never the key), project, role, grants, expiry, last use and revocation."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project: Mapped[str] = mapped_column(ForeignKey("projects.name"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    pii_reader: Mapped[bool] = mapped_column(Boolean, default=False)
    deployment_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str] = mapped_column(String(200), default="")
    key_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class MembershipRow(Base):
    """A JWT subject's role in a project."""

    __tablename__ = "memberships"

    project: Mapped[str] = mapped_column(ForeignKey("projects.name"), primary_key=True)
    subject: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16))
    pii_reader: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


@contextmanager
def transaction(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One session in one transaction: committed on leaving, rolled back on an exception.

    A dropped connection or a database that is down becomes a retryable `AdapterError` (the pool replaces dead
    connections); constraint errors stay as they are.
    """
    from schemas import AdapterError

    try:
        with sessions() as session, session.begin():
            yield session
    except (OperationalError, InterfaceError) as exc:
        raise AdapterError(f"database unavailable ({type(exc.orig or exc).__name__})") from exc


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """Create an engine; SQLite gets WAL, a busy timeout and foreign keys, PostgreSQL a checked pool.

    Error messages never show bound values (`hide_parameters`): a failed insert names no brief,
    vault or key. A SQLite file is created 0600 (its directory 0700); SQLite gives its journal,
    WAL and shared-memory files the database file's mode.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
        if path and path != ":memory:":
            private_file(Path(path))
            for suffix in _SQLITE_SIDE_FILES:  # made before this rule: no longer readable by others
                tighten(Path(path + suffix))
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA secure_delete=ON")  # deleted rows are zeroed, not left in free pages (retention)
            cur.close()

        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True, hide_parameters=True)
