"""Projects, API keys and memberships: the records, the store port (SQL in `cluster/identity_store.py`), and the
operations the CLI and the portal share (each one audited)."""

from __future__ import annotations

import abc
import re
from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from actors.clock import Clock, SystemClock
from schemas import AlreadyExists, InvalidInput, NotFound
from schemas.brief import PROJECT_PATTERN
from serve_app.auth.keys import hash_secret, new_key
from serve_app.auth.rbac import Role

__all__ = ["SUBJECT_PATTERN", "IdentityStore", "KeyRecord", "Membership", "ProjectRecord", "add_member",
           "create_key", "create_project", "remove_member", "revoke_key"]

SUBJECT_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9@._:|+-]{0,254}$"


class ProjectRecord(BaseModel):
    """A tenant: every job, event, artifact, template, document, key and membership belongs to one."""

    name: str = Field(pattern=PROJECT_PATTERN)
    created_at: datetime


class KeyRecord(BaseModel):
    """An API key's row: the argon2 hash, never the key; `key_id` is the lookup prefix inside the key."""

    key_id: str
    project: str = Field(pattern=PROJECT_PATTERN)
    role: Role
    pii_reader: bool = False
    deployment_admin: bool = False
    name: str = Field(default="", max_length=200)
    created_at: datetime
    expires_at: datetime | None = None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    key_hash: str = Field(default="", exclude=True, repr=False)

    def problem(self, now: datetime) -> str | None:
        """Why the key cannot be used now (`revoked`, `expired`), or None."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return None


class Membership(BaseModel):
    """A JWT subject's role in one project (`pii_reader` grants re-identification there)."""

    project: str = Field(pattern=PROJECT_PATTERN)
    subject: str = Field(pattern=SUBJECT_PATTERN)
    role: Role
    pii_reader: bool = False
    created_at: datetime


class IdentityStore(abc.ABC):
    """Where projects, keys and memberships live; each write commits with its audit event."""

    @abc.abstractmethod
    def add_project(self, project: ProjectRecord, *, actor: str) -> None:
        """Insert a project (`AlreadyExists` when taken)."""

    @abc.abstractmethod
    def get_project(self, name: str) -> ProjectRecord | None:
        """The project, or None."""

    @abc.abstractmethod
    def projects(self) -> list[ProjectRecord]:
        """Every project, by name."""

    @abc.abstractmethod
    def add_key(self, key: KeyRecord, *, actor: str) -> None:
        """Insert a key row."""

    @abc.abstractmethod
    def get_key(self, key_id: str) -> KeyRecord | None:
        """The key row (with its hash), or None."""

    @abc.abstractmethod
    def keys(self, project: str | None = None) -> list[KeyRecord]:
        """Key rows, of one project or all, oldest first."""

    @abc.abstractmethod
    def set_revoked(self, key_id: str, when: datetime, *, actor: str) -> bool:
        """Mark a key revoked (False when no such key)."""

    @abc.abstractmethod
    def touch_key(self, key_id: str, when: datetime) -> None:
        """Record a key's last use."""

    @abc.abstractmethod
    def put_member(self, member: Membership, *, actor: str) -> None:
        """Insert or update a membership."""

    @abc.abstractmethod
    def delete_member(self, project: str, subject: str, *, actor: str) -> bool:
        """Remove a membership (False when there was none)."""

    @abc.abstractmethod
    def members(self, project: str) -> list[Membership]:
        """A project's memberships, by subject."""

    @abc.abstractmethod
    def memberships(self, subject: str) -> list[Membership]:
        """A subject's memberships, by project."""

    @abc.abstractmethod
    def audit(self, event_type: str, *, actor: str, project: str, target: str) -> None:
        """Record who (key id or subject) did what to which id, on the project's `audit` stream."""


def create_project(store: IdentityStore, name: str, *, actor: str, clock: Clock | None = None) -> ProjectRecord:
    """Create a project (`InvalidInput` for a bad name, `AlreadyExists`)."""
    if not re.fullmatch(PROJECT_PATTERN, name):
        raise InvalidInput(f"a project name matches {PROJECT_PATTERN} (lower case, digits, dashes)")
    if store.get_project(name) is not None:
        raise AlreadyExists(f"project {name!r} exists")
    record = ProjectRecord(name=name, created_at=(clock or SystemClock()).now())
    store.add_project(record, actor=actor)
    return record


def create_key(
    store: IdentityStore, *, project: str, role: Role | str, actor: str, pii_reader: bool = False,
    deployment_admin: bool = False, expires_in: timedelta | None = None, name: str = "", clock: Clock | None = None,
) -> tuple[KeyRecord, str]:
    """Issue a key for an existing project; returns the row and the key, which is never shown again."""
    if store.get_project(project) is None:
        raise NotFound(f"no project {project!r} (create it first: mka projects create {project})")
    now = (clock or SystemClock()).now()
    key_id, api_key = new_key()
    record = KeyRecord(key_id=key_id, project=project, role=Role(role), pii_reader=pii_reader,
                       deployment_admin=deployment_admin, name=name, created_at=now,
                       expires_at=now + expires_in if expires_in else None, key_hash=hash_secret(api_key))
    store.add_key(record, actor=actor)
    return record, api_key


def revoke_key(store: IdentityStore, key_id: str, *, actor: str, project: str | None = None,
               clock: Clock | None = None) -> KeyRecord:
    """Revoke a key (of `project` when given: another project's key is `NotFound`)."""
    found = store.get_key(key_id)
    if found is None or (project is not None and found.project != project):
        raise NotFound(f"no key {key_id!r}")
    if found.revoked_at is None:
        store.set_revoked(key_id, (clock or SystemClock()).now(), actor=actor)
    return store.get_key(key_id) or found


def add_member(store: IdentityStore, *, project: str, subject: str, role: Role | str, actor: str,
               pii_reader: bool = False, clock: Clock | None = None) -> Membership:
    """Give a subject a role in an existing project (replacing its earlier one)."""
    if store.get_project(project) is None:
        raise NotFound(f"no project {project!r}")
    if not re.fullmatch(SUBJECT_PATTERN, subject):
        raise InvalidInput(f"a subject matches {SUBJECT_PATTERN}")
    member = Membership(project=project, subject=subject, role=Role(role), pii_reader=pii_reader,
                        created_at=(clock or SystemClock()).now())
    store.put_member(member, actor=actor)
    return member


def remove_member(store: IdentityStore, *, project: str, subject: str, actor: str) -> None:
    """Take a subject's role in a project away (`NotFound` when it had none)."""
    if not re.fullmatch(SUBJECT_PATTERN, subject) or not store.delete_member(project, subject, actor=actor):
        raise NotFound(f"no member {subject!r} in project {project!r}")

