"""The event envelope every state change is published in, and the payloads of each event type."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from schemas.brief import PROJECT_PATTERN

__all__ = ["Event", "EVENT_SCHEMA_VERSION", "EventType", "event_subject"]

EVENT_SCHEMA_VERSION = "0.1"


class EventType:
    """Names of the event types (dotted, lower case)."""

    JOB_SUBMITTED = "job.submitted"
    JOB_STATE_CHANGED = "job.state_changed"
    STEP_RECORDED = "step.recorded"
    ARTIFACT_STORED = "artifact.stored"


class Event(BaseModel):
    """One event: ids, type, time and a payload free of PII (ids, states, counts only)."""

    id: str = Field(description="Unique event id; also the NATS `Nats-Msg-Id` used for dedup.")
    type: str = Field(pattern=r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")
    job_id: str
    project: str = Field(pattern=PROJECT_PATTERN)
    occurred_at: datetime
    schema_version: str = EVENT_SCHEMA_VERSION
    payload: dict[str, Any] = Field(default_factory=dict)

    @property
    def subject(self) -> str:
        """NATS subject of this event."""
        return event_subject(self.project, self.job_id, self.type)


def event_subject(project: str, job_id: str, event_type: str) -> str:
    """Return `mka.events.<project>.<job_id>.<type>` (type dots become underscores)."""
    return f"mka.events.{project}.{job_id}.{event_type.replace('.', '_')}"
