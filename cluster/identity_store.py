"""The SQLAlchemy identity store: projects, API keys and memberships, each write committed with its audit event."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timezone

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from actors.clock import Clock, SystemClock
from actors.job_store import Signer, stream_event
from cluster.db import ApiKeyRow, MembershipRow, ProjectRow, transaction
from cluster.sql_store import write_event
from schemas import AlreadyExists, EventType
from serve_app.auth.identity import IdentityStore, KeyRecord, Membership, ProjectRecord

__all__ = ["SqlIdentityStore"]

AUDIT_STREAM = "audit"


class SqlIdentityStore(IdentityStore):
    """`IdentityStore` on the job store's database (SQLite or PostgreSQL, tables from migration 0006).

    Example:
        >>> identity = SqlIdentityStore(job_store.engine, signer=job_store.signer)  # doctest: +SKIP
        >>> create_key(identity, project="default", role="admin", actor="cli")  # doctest: +SKIP
    """

    def __init__(
        self, engine: Engine, *, clock: Clock | None = None, new_id: Callable[[], str] | None = None,
        signer: Signer | None = None,
    ) -> None:
        """Use an engine whose database is migrated (the job store migrates it on construction); `signer` signs audit events."""
        self._signer = signer
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._clock = clock or SystemClock()
        self._new_id = new_id or (lambda: str(uuid.uuid4()))

    def _tx(self) -> AbstractContextManager[Session]:
        return transaction(self._sessions)

    def _audit(self, s: Session, event_type: str, *, actor: str, project: str, target: str) -> None:
        event, headers = stream_event(event_id=self._new_id(), stream=AUDIT_STREAM, project=project,
                                      event_type=event_type, payload={"actor": actor, "target": target},
                                      now=self._clock.now())
        write_event(s, event, headers, self._signer)

    def audit(self, event_type: str, *, actor: str, project: str, target: str) -> None:
        """Write one audit event to the outbox."""
        with self._tx() as s:
            self._audit(s, event_type, actor=actor, project=project, target=target)

    # --- projects ---------------------------------------------------------------------------

    def add_project(self, project: ProjectRecord, *, actor: str) -> None:
        """Insert the project with its audit event."""
        try:
            with self._tx() as s:
                s.add(ProjectRow(name=project.name, created_at=project.created_at))
                s.flush()
                self._audit(s, EventType.AUDIT_PROJECT_CREATED, actor=actor, project=project.name, target=project.name)
        except IntegrityError:
            raise AlreadyExists(f"project {project.name!r} exists") from None

    def get_project(self, name: str) -> ProjectRecord | None:
        """The project row, or None."""
        with self._tx() as s:
            row = s.get(ProjectRow, name)
            return ProjectRecord(name=row.name, created_at=_utc(row.created_at)) if row else None

    def projects(self) -> list[ProjectRecord]:
        """Every project, by name."""
        with self._tx() as s:
            rows = s.scalars(select(ProjectRow).order_by(ProjectRow.name)).all()
            return [ProjectRecord(name=r.name, created_at=_utc(r.created_at)) for r in rows]

    # --- keys -------------------------------------------------------------------------------

    def add_key(self, key: KeyRecord, *, actor: str) -> None:
        """Insert the key row (hash only) with its audit event."""
        with self._tx() as s:
            s.add(ApiKeyRow(key_id=key.key_id, project=key.project, role=key.role.value, pii_reader=key.pii_reader,
                            deployment_admin=key.deployment_admin, name=key.name, key_hash=key.key_hash,
                            created_at=key.created_at, expires_at=key.expires_at, last_used_at=None, revoked_at=None))
            self._audit(s, EventType.AUDIT_KEY_CREATED, actor=actor, project=key.project, target=key.key_id)

    def get_key(self, key_id: str) -> KeyRecord | None:
        """The key row, or None."""
        with self._tx() as s:
            row = s.get(ApiKeyRow, key_id)
            return _key(row) if row else None

    def keys(self, project: str | None = None) -> list[KeyRecord]:
        """Key rows, oldest first."""
        query = select(ApiKeyRow).order_by(ApiKeyRow.created_at, ApiKeyRow.key_id)
        if project is not None:
            query = query.where(ApiKeyRow.project == project)
        with self._tx() as s:
            return [_key(r) for r in s.scalars(query).all()]

    def set_revoked(self, key_id: str, when: datetime, *, actor: str) -> bool:
        """Revoke the key with its audit event."""
        with self._tx() as s:
            row = s.get(ApiKeyRow, key_id)
            if row is None:
                return False
            row.revoked_at = when
            self._audit(s, EventType.AUDIT_KEY_REVOKED, actor=actor, project=row.project, target=key_id)
            return True

    def touch_key(self, key_id: str, when: datetime) -> None:
        """Set the key's last use."""
        with self._tx() as s:
            s.execute(update(ApiKeyRow).where(ApiKeyRow.key_id == key_id).values(last_used_at=when)
                      .execution_options(synchronize_session=False))

    # --- memberships ------------------------------------------------------------------------

    def put_member(self, member: Membership, *, actor: str) -> None:
        """Insert or replace the membership with its audit event (a concurrent insert of the same one is updated)."""
        for attempt in (1, 2):
            try:
                with self._tx() as s:
                    row = s.get(MembershipRow, (member.project, member.subject))
                    if row is None:
                        s.add(MembershipRow(project=member.project, subject=member.subject, role=member.role.value,
                                            pii_reader=member.pii_reader, created_at=member.created_at))
                        s.flush()
                    else:
                        row.role, row.pii_reader = member.role.value, member.pii_reader
                    self._audit(s, EventType.AUDIT_MEMBER_ADDED, actor=actor, project=member.project,
                                target=member.subject)
                return
            except IntegrityError:
                if attempt == 2:
                    raise

    def delete_member(self, project: str, subject: str, *, actor: str) -> bool:
        """Delete the membership with its audit event."""
        with self._tx() as s:
            row = s.get(MembershipRow, (project, subject))
            if row is None:
                return False
            s.delete(row)
            self._audit(s, EventType.AUDIT_MEMBER_REMOVED, actor=actor, project=project, target=subject)
            return True

    def members(self, project: str) -> list[Membership]:
        """The project's memberships."""
        query = select(MembershipRow).where(MembershipRow.project == project).order_by(MembershipRow.subject)
        with self._tx() as s:
            return [_member(r) for r in s.scalars(query).all()]

    def memberships(self, subject: str) -> list[Membership]:
        """The subject's memberships."""
        query = select(MembershipRow).where(MembershipRow.subject == subject).order_by(MembershipRow.project)
        with self._tx() as s:
            return [_member(r) for r in s.scalars(query).all()]


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)  # SQLite returns naive datetimes


def _opt(value: datetime | None) -> datetime | None:
    return None if value is None else _utc(value)


def _key(row: ApiKeyRow) -> KeyRecord:
    return KeyRecord(key_id=row.key_id, project=row.project, role=row.role, pii_reader=row.pii_reader,
                     deployment_admin=row.deployment_admin, name=row.name, created_at=_utc(row.created_at),
                     expires_at=_opt(row.expires_at), last_used_at=_opt(row.last_used_at),
                     revoked_at=_opt(row.revoked_at), key_hash=row.key_hash)


def _member(row: MembershipRow) -> Membership:
    return Membership(project=row.project, subject=row.subject, role=row.role, pii_reader=row.pii_reader,
                      created_at=_utc(row.created_at))
