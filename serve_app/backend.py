"""What the portal needs from the system, and its implementation over the client (Ray + store)."""

from __future__ import annotations

import abc
from typing import Any

from actors.job_store import OutboxMessage
from schemas import Artifact, Brief, JobRecord, StepRecord
from schemas.pipeline import ProvidersScript
from schemas.summary import JobSummary

__all__ = ["ClientBackend", "PortalBackend"]


class PortalBackend(abc.ABC):
    """The portal's port: submit jobs, read jobs, events and artifacts."""

    @abc.abstractmethod
    def submit(self, brief: Brief, *, idempotency_key: str | None, script: ProvidersScript | None) -> str:
        """Submit a validated brief; return the job id."""

    @abc.abstractmethod
    def job(self, job_id: str) -> tuple[JobRecord, list[StepRecord], JobSummary]:
        """The job, its steps and its run summary."""

    @abc.abstractmethod
    def events(self, job_id: str) -> list[OutboxMessage]:
        """The job's events in order."""

    @abc.abstractmethod
    def artifact(self, artifact_id: str) -> tuple[Artifact, bytes]:
        """An artifact's metadata and content."""

    @abc.abstractmethod
    def cancel(self, job_id: str) -> str:
        """Cancel a job; return its state."""

    @abc.abstractmethod
    def resume(self, job_id: str) -> None:
        """Resume a job that failed on infrastructure."""


class ClientBackend(PortalBackend):
    """The portal backend over `MkaClient` (orchestrator actor, job store, object store)."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def submit(self, brief: Brief, *, idempotency_key: str | None, script: ProvidersScript | None) -> str:
        """Submit through the orchestrator actor."""
        return self.client.submit(brief, idempotency_key=idempotency_key, script=script)

    def job(self, job_id: str) -> tuple[JobRecord, list[StepRecord], JobSummary]:
        """Read the job from the store."""
        job = self.client.get(job_id)
        return job, self.client.store.steps(job_id), self.client.summary(job_id)

    def events(self, job_id: str) -> list[OutboxMessage]:
        """Read the job's events from the outbox."""
        self.client.get(job_id)
        return self.client.store.events(job_id)

    def artifact(self, artifact_id: str) -> tuple[Artifact, bytes]:
        """Read an artifact from the object store."""
        art = self.client.store.get_artifact(artifact_id)
        return art, self.client.objects.get(art.key)

    def cancel(self, job_id: str) -> str:
        """Cancel through the orchestrator actor."""
        return self.client.cancel(job_id)

    def resume(self, job_id: str) -> None:
        """Resume through the orchestrator actor."""
        self.client.resume(job_id)
