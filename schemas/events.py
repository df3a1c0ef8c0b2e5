"""The event envelope every state change is published in, and the payloads of each event type."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from schemas._errors import MkaError
from schemas.brief import PROJECT_PATTERN


class UnsupportedEventVersion(MkaError):
    """An event's major schema version is unknown to this consumer."""

    code = "unsupported_event_version"

__all__ = [
    "EVENT_SCHEMA_VERSION",
    "SUPPORTED_EVENT_MAJORS",
    "Event",
    "EventType",
    "UnsupportedEventVersion",
    "event_subject",
    "parse_event",
]

EVENT_SCHEMA_VERSION = "1.1"  # 1.1 adds sequence, key_id and signature
# Majors this code reads; 0 is the pre-freeze shape, identical to 1. A new major is a breaking change.
SUPPORTED_EVENT_MAJORS = frozenset({0, 1})


class EventType:
    """Names of the event types (dotted, lower case)."""

    JOB_SUBMITTED = "job.submitted"
    JOB_STATE_CHANGED = "job.state_changed"
    STEP_RECORDED = "step.recorded"
    ARTIFACT_STORED = "artifact.stored"
    ARTIFACT_DELETED = "artifact.deleted"
    ARTIFACT_LOST = "artifact.lost"
    ARTIFACT_HELD = "artifact.held"
    ARTIFACT_RELEASED = "artifact.released"
    ORPHAN_DELETED = "artifact.orphan_deleted"
    SWEEP_COMPLETED = "sweep.completed"
    JOB_PURGED = "job.purged"  # retention replaced the job's row with a tombstone
    EVENTS_PURGED = "retention.events_purged"  # retention deleted a project's old outbox rows (a count)
    SPANS_PURGED = "retention.spans_purged"  # retention deleted old spans from the local span file (a count)
    # Audit events (stream `audit` of each project): who (`actor`: key id or subject, never a key) did what.
    AUDIT_PROJECT_CREATED = "audit.project_created"
    AUDIT_KEY_CREATED = "audit.key_created"
    AUDIT_KEY_REVOKED = "audit.key_revoked"
    AUDIT_MEMBER_ADDED = "audit.member_added"
    AUDIT_MEMBER_REMOVED = "audit.member_removed"
    AUDIT_JOB_SUBMITTED = "audit.job_submitted"
    AUDIT_JOB_CANCELLED = "audit.job_cancelled"
    AUDIT_JOB_RESUMED = "audit.job_resumed"
    AUDIT_DOCUMENT_UPLOADED = "audit.document_uploaded"
    AUDIT_PII_REVEALED = "audit.pii_revealed"
    AUDIT_ARTIFACT_HELD = "audit.artifact_held"
    AUDIT_ARTIFACT_RELEASED = "audit.artifact_released"


class Event(BaseModel):
    """One event: ids, type, time and a payload free of PII (ids, states, counts only)."""

    id: str = Field(description="Unique event id; also the NATS `Nats-Msg-Id` used for dedup.")
    type: str = Field(pattern=r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")
    job_id: str
    project: str = Field(pattern=PROJECT_PATTERN)
    occurred_at: datetime
    schema_version: str = EVENT_SCHEMA_VERSION
    payload: dict[str, Any] = Field(default_factory=dict)
    sequence: int | None = Field(
        default=None, ge=1, description="The event's position in its store's outbox; signed, so a replay is seen.",
    )
    key_id: str | None = Field(default=None, description="Id of the Ed25519 key that signed the event (`GET /v1/signing-keys`).")
    signature: str | None = Field(
        default=None,
        description="Ed25519 signature (base64url) over the RFC 8785 canonical JSON of every other field.",
    )

    @property
    def subject(self) -> str:
        """NATS subject of this event."""
        return event_subject(self.project, self.job_id, self.type)


def parse_event(data: str | bytes | dict[str, Any]) -> Event:
    """Read an event as a consumer must: refuse unknown major schema versions clearly."""
    raw: Any = json.loads(data) if isinstance(data, (str, bytes)) else data
    version = str(raw.get("schema_version", "")) if isinstance(raw, dict) else ""
    major = version.split(".", 1)[0]
    if not major.isdigit() or int(major) not in SUPPORTED_EVENT_MAJORS:
        raise UnsupportedEventVersion(
            f"event schema version {version!r} is not supported (this consumer reads majors {sorted(SUPPORTED_EVENT_MAJORS)})"
        )
    return Event.model_validate(raw)


def event_subject(project: str, job_id: str, event_type: str) -> str:
    """Return `mka.events.<project>.<job_id>.<type>` (type dots become underscores)."""
    return f"mka.events.{project}.{job_id}.{event_type.replace('.', '_')}"
