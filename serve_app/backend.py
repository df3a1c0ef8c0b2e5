"""What the portal needs from the system, and its implementation over the client (Ray + store)."""

from __future__ import annotations

import abc
from typing import Any

from actors.job_store import OutboxMessage
from actors.documents.store import DocumentInfo
from schemas import Artifact, ArtifactNotFound, Brief, Evidence, JobRecord, StepRecord
from schemas.artifacts import ArtifactKind
from schemas.figma import FigmaExport
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
        """A deliverable's catalog row and content, checked (`ArtifactGone` once deleted, `IntegrityFailure`)."""

    @abc.abstractmethod
    def artifact_meta(self, artifact_id: str) -> Artifact:
        """A deliverable's catalog row, deleted ones too (`ArtifactNotFound` for internal kinds)."""

    @abc.abstractmethod
    def job_artifacts(self, job_id: str) -> list[Artifact]:
        """A job's deliverables with their metadata, deleted ones included (`JobNotFound`)."""

    @abc.abstractmethod
    def upload_document(self, project: str, name: str, data: bytes) -> DocumentInfo:
        """Check, seal and catalog a document (`DocumentError` when bad)."""

    @abc.abstractmethod
    def max_document_bytes(self) -> int:
        """The largest document an upload may carry."""

    @abc.abstractmethod
    def evidence(self, job_id: str) -> list[Evidence]:
        """The job's evidence, pseudonymized (`JobNotFound`)."""

    @abc.abstractmethod
    def figma_export(self, job_id: str, template: str, locale: str | None) -> FigmaExport:
        """A completed job's fill plan and preview for a template of its project (`ArtifactNotFound`, `InvalidInput`)."""

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
        """Read a deliverable from the object store, its sha256 checked against the catalog."""
        from actors.lifecycle.catalog import read_artifact

        self.artifact_meta(artifact_id)
        return read_artifact(self.client.store, self.client.objects, artifact_id)

    def artifact_meta(self, artifact_id: str) -> Artifact:
        """A deliverable's catalog row; the pipeline's own objects (checkpoints, vault, raw brief) are not served."""
        from actors.lifecycle.catalog import ANNOUNCED_KINDS

        art = self.client.store.get_artifact(artifact_id)
        if art.kind not in ANNOUNCED_KINDS or art.kind == ArtifactKind.DOCUMENT:  # documents are raw user data
            raise ArtifactNotFound(f"no artifact {artifact_id}")
        return art

    def job_artifacts(self, job_id: str) -> list[Artifact]:
        """The job's deliverables from the catalog, deleted ones included."""
        from actors.lifecycle.catalog import ANNOUNCED_KINDS

        self.client.get(job_id)
        return self.client.store.catalog(job_id=job_id, kinds=sorted(ANNOUNCED_KINDS, key=str), include_deleted=True)

    def upload_document(self, project: str, name: str, data: bytes) -> DocumentInfo:
        """Store the document through the client (the job store's keyring seals it)."""
        return self.client.upload_document(name, data, project=project)  # type: ignore[no-any-return]

    def max_document_bytes(self) -> int:
        """MKA_MAX_DOCUMENT_MB in bytes."""
        return int(self.client.settings.max_document_mb * 1024 * 1024)

    def evidence(self, job_id: str) -> list[Evidence]:
        """The collect step's checkpoint."""
        return self.client.evidence(job_id)  # type: ignore[no-any-return]

    def figma_export(self, job_id: str, template: str, locale: str | None) -> FigmaExport:
        """From the job's stored plan, or filled again from its checkpoints."""
        return self.client.figma_export(job_id, template=template, locale=locale)  # type: ignore[no-any-return]

    def cancel(self, job_id: str) -> str:
        """Cancel through the orchestrator actor."""
        return self.client.cancel(job_id)

    def resume(self, job_id: str) -> None:
        """Resume through the orchestrator actor."""
        self.client.resume(job_id)
