"""Job record, job states and step records: what the job store keeps about a run."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import BaseModel, Field

from schemas.brief import Brief

__all__ = ["JobState", "JobRecord", "StepOutcome", "StepRecord", "TERMINAL_STATES"]


class JobState(str, Enum):
    """Where a job is; the pipeline states run in this order, the last three are terminal."""

    SUBMITTED = "submitted"
    VALIDATING = "validating"
    REDACTING = "redacting"
    COLLECTING = "collecting"
    ANALYZING = "analyzing"
    MERGING = "merging"
    LOCALIZING = "localizing"
    RENDERING = "rendering"
    EXPORTING = "exporting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


TERMINAL_STATES = frozenset({JobState.COMPLETED, JobState.FAILED, JobState.CANCELLED})


class JobRecord(BaseModel):
    """One job as stored; `version` grows by one with every change (optimistic locking)."""

    id: str
    project: str
    state: JobState
    version: int = Field(ge=1)
    degraded: bool = False
    brief: Brief
    idempotency_key: str | None = None
    trace_id: str | None = Field(default=None, description="W3C trace id (32 hex) of the job's trace.")
    traceparent: str | None = Field(default=None, description="W3C traceparent of the job's root span.")
    error: dict[str, object] | None = Field(default=None, description="Why the job failed (MkaError.to_dict).")
    created_at: datetime
    updated_at: datetime

    @property
    def terminal(self) -> bool:
        """True once the job can no longer change state."""
        return self.state in TERMINAL_STATES


class StepOutcome(str, Enum):
    """How one attempt of a step ended."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


class StepRecord(BaseModel):
    """One attempt of one pipeline step; `result_ref` points at the checkpointed result."""

    job_id: str
    step: str = Field(min_length=1, max_length=64)
    attempt: int = Field(ge=1)
    outcome: StepOutcome
    result_ref: str | None = Field(default=None, description="Object-store key of the step result.")
    error: dict[str, object] | None = None
    started_at: datetime
    finished_at: datetime | None = None
