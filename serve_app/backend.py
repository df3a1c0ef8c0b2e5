"""What the portal needs from the system, and its implementation over the client (Ray + store); every read and
write is scoped by the caller's project, so another project's ids answer 404."""

from __future__ import annotations

import abc
from datetime import datetime
from typing import Any

from actors.job_store import OutboxMessage
from actors.documents.store import DocumentInfo
from schemas import Artifact, ArtifactNotFound, Brief, Evidence, JobRecord, JobState, MkaError, StepRecord
from schemas.artifacts import ArtifactKind
from schemas.figma import FigmaExport, TemplateInfo
from schemas.pipeline import ProvidersScript
from schemas.summary import JobSummary

__all__ = ["ClientBackend", "PortalBackend"]

_KEYS_TTL_S = 60.0


class PortalBackend(abc.ABC):
    """The portal's port: submit jobs, read jobs, events and artifacts, each within one project."""

    @abc.abstractmethod
    def submit(self, brief: Brief, *, idempotency_key: str | None, script: ProvidersScript | None) -> str:
        """Submit a validated brief (its `project` is the caller's); return the job id."""

    @abc.abstractmethod
    def job(self, job_id: str, *, project: str) -> tuple[JobRecord, list[StepRecord], JobSummary]:
        """The job, its steps and its run summary (`JobNotFound`, also for another project's job)."""

    @abc.abstractmethod
    def list_jobs(self, *, project: str, states: list[JobState] | None, limit: int,
                  before: tuple[datetime, str] | None) -> list[JobRecord]:
        """The project's jobs, newest first (ties by id), after the cursor `before` (created_at, id)."""

    @abc.abstractmethod
    def events(self, job_id: str, *, project: str) -> list[OutboxMessage]:
        """The job's events in order."""

    @abc.abstractmethod
    def localizations(self, job_id: str, *, project: str) -> list[dict[str, Any]]:
        """The job's localized reports: locale, language, rtl, status, reason, translated_by and `artifacts`
        (catalog rows), one per locale (`JobNotFound`)."""

    @abc.abstractmethod
    def templates(self, *, project: str) -> list[TemplateInfo]:
        """The project's Figma templates, every version."""

    @abc.abstractmethod
    def documents(self, *, project: str) -> list[Artifact]:
        """The project's uploaded documents' catalog rows (their names are sealed with them)."""

    @abc.abstractmethod
    def artifact(self, artifact_id: str, *, project: str) -> tuple[Artifact, bytes]:
        """A deliverable's catalog row and content, checked (`ArtifactGone` once deleted, `IntegrityFailure`)."""

    @abc.abstractmethod
    def artifact_meta(self, artifact_id: str, *, project: str) -> Artifact:
        """A deliverable's catalog row, deleted ones too (`ArtifactNotFound` for internal kinds)."""

    @abc.abstractmethod
    def job_artifacts(self, job_id: str, *, project: str) -> list[Artifact]:
        """A job's deliverables with their metadata, deleted ones included (`JobNotFound`)."""

    @abc.abstractmethod
    def upload_document(self, project: str, name: str, data: bytes) -> DocumentInfo:
        """Check, seal and catalog a document (`DocumentError` when bad)."""

    @abc.abstractmethod
    def max_document_bytes(self) -> int:
        """The largest document an upload may carry."""

    @abc.abstractmethod
    def evidence(self, job_id: str, *, project: str) -> list[Evidence]:
        """The job's evidence, pseudonymized (`JobNotFound`)."""

    @abc.abstractmethod
    def merge(self, job_id: str, *, project: str, reveal: bool) -> dict[str, Any]:
        """The job's merge result as JSON, placeholders re-identified only when `reveal` (`ArtifactNotFound` before
        the merge step)."""

    @abc.abstractmethod
    def figma_export(self, job_id: str, template: str, locale: str | None, *, project: str) -> FigmaExport:
        """A completed job's fill plan and preview for a template of its project (`ArtifactNotFound`, `InvalidInput`)."""

    @abc.abstractmethod
    def cancel(self, job_id: str, *, project: str) -> str:
        """Cancel a job; return its state."""

    @abc.abstractmethod
    def resume(self, job_id: str, *, project: str) -> None:
        """Resume a job that failed on infrastructure."""

    @abc.abstractmethod
    def hold(self, artifact_id: str, reason: str, *, project: str) -> Artifact:
        """Put a legal hold on a deliverable."""

    @abc.abstractmethod
    def release(self, artifact_id: str, *, project: str) -> Artifact:
        """Release a deliverable's legal hold."""

    @abc.abstractmethod
    def ready(self) -> dict[str, str]:
        """Each part the portal depends on and whether it answers (`ok`, or what is wrong)."""

    @abc.abstractmethod
    def signing_keys(self) -> Any:
        """The deployment's event-signing public keys (`cluster.signing.KeySet`: `ids`, `check`, `jwks`)."""

    def verification(self, messages: list[OutboxMessage]) -> list[str]:
        """Each stored event's verification status: `verified`, or why not (`cluster.events.check_stored`)."""
        from cluster.events import check_stored

        try:
            keys = self.signing_keys()
        except MkaError:  # no key set where the portal runs: say so per event rather than break the stream
            return ["unverifiable (no signing keys here)"] * len(messages)
        return [check_stored(m, keys).status for m in messages]


class ClientBackend(PortalBackend):
    """The portal backend over `MkaClient` (orchestrator actor, job store, object store)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self._keys: tuple[float, Any] | None = None

    def signing_keys(self) -> Any:
        """The keys of the client's settings, read again after a minute (a rotation reaches the portal that fast)."""
        import time

        from cluster.signing import load_keyset

        if self._keys is None or time.monotonic() - self._keys[0] > _KEYS_TTL_S:
            self._keys = (time.monotonic(), load_keyset(self.client.settings))
        return self._keys[1]

    def _job(self, job_id: str, project: str) -> JobRecord:
        return self.client.store.get(job_id, project=project)  # type: ignore[no-any-return]

    def submit(self, brief: Brief, *, idempotency_key: str | None, script: ProvidersScript | None) -> str:
        """Submit through the orchestrator actor."""
        return self.client.submit(brief, idempotency_key=idempotency_key, script=script)  # type: ignore[no-any-return]

    def job(self, job_id: str, *, project: str) -> tuple[JobRecord, list[StepRecord], JobSummary]:
        """Read the job from the store."""
        job = self._job(job_id, project)
        return job, self.client.store.steps(job_id, project=project), self.client.summary(job_id)

    def list_jobs(self, *, project: str, states: list[JobState] | None, limit: int,
                  before: tuple[datetime, str] | None) -> list[JobRecord]:
        """One page of the store's jobs."""
        return self.client.store.list_jobs(project=project, states=states, limit=limit,  # type: ignore[no-any-return]
                                           before=before)

    def localizations(self, job_id: str, *, project: str) -> list[dict[str, Any]]:
        """The localize checkpoint's reports with their catalog rows; a locale with deliverables but no checkpoint
        entry (added by `mka localize` later) is listed too."""
        from actors.lifecycle.catalog import ANNOUNCED_KINDS

        job = self._job(job_id, project)
        found = {r.locale: {"locale": r.locale, "language": r.language, "rtl": r.rtl, "status": r.status,
                            "reason": r.reason, "translated_by": r.translated_by, "artifacts": []}
                 for r in self.client.localized(job)}
        rows = self.client.store.catalog(job_id=job_id, project=project, kinds=sorted(ANNOUNCED_KINDS, key=str))
        for art in rows:
            if art.locale:
                found.setdefault(art.locale, {"locale": art.locale, "artifacts": []})["artifacts"].append(art)
        return [found[k] for k in sorted(found)]

    def templates(self, *, project: str) -> list[TemplateInfo]:
        """The figma template store's versions."""
        from actors.figma.store import list_templates

        return list_templates(self.client.store, self.client.objects, project=project)

    def documents(self, *, project: str) -> list[Artifact]:
        """The catalog's document rows, deleted ones included."""
        return self.client.store.catalog(project=project, kinds=[ArtifactKind.DOCUMENT],  # type: ignore[no-any-return]
                                         include_deleted=True)

    def events(self, job_id: str, *, project: str) -> list[OutboxMessage]:
        """Read the job's events from the outbox."""
        self._job(job_id, project)
        return self.client.store.events(job_id, project=project)  # type: ignore[no-any-return]

    def artifact(self, artifact_id: str, *, project: str) -> tuple[Artifact, bytes]:
        """Read a deliverable from the object store, its sha256 checked against the catalog."""
        from actors.lifecycle.catalog import read_artifact

        self.artifact_meta(artifact_id, project=project)
        return read_artifact(self.client.store, self.client.objects, artifact_id)

    def artifact_meta(self, artifact_id: str, *, project: str) -> Artifact:
        """A deliverable's catalog row; the pipeline's own objects (checkpoints, vault, raw brief) are not served."""
        from actors.lifecycle.catalog import ANNOUNCED_KINDS

        art = self.client.store.get_artifact(artifact_id, project=project)
        if art.kind not in ANNOUNCED_KINDS or art.kind == ArtifactKind.DOCUMENT:  # documents are raw user data
            raise ArtifactNotFound(f"no artifact {artifact_id}")
        return art  # type: ignore[no-any-return]

    def job_artifacts(self, job_id: str, *, project: str) -> list[Artifact]:
        """The job's deliverables from the catalog, deleted ones included."""
        from actors.lifecycle.catalog import ANNOUNCED_KINDS

        self._job(job_id, project)
        return self.client.store.catalog(  # type: ignore[no-any-return]
            job_id=job_id, project=project, kinds=sorted(ANNOUNCED_KINDS, key=str), include_deleted=True)

    def upload_document(self, project: str, name: str, data: bytes) -> DocumentInfo:
        """Store the document through the client (the job store's keyring seals it)."""
        return self.client.upload_document(name, data, project=project)  # type: ignore[no-any-return]

    def max_document_bytes(self) -> int:
        """MKA_MAX_DOCUMENT_MB in bytes."""
        return int(self.client.settings.max_document_mb * 1024 * 1024)

    def evidence(self, job_id: str, *, project: str) -> list[Evidence]:
        """The collect step's checkpoint."""
        self._job(job_id, project)
        return self.client.evidence(job_id)  # type: ignore[no-any-return]

    def merge(self, job_id: str, *, project: str, reveal: bool) -> dict[str, Any]:
        """The merge checkpoint; re-identified with the job's vault only when asked (nothing revealed is stored)."""
        from actors.pii import load_job_vault, load_keyring, reveal_model

        job = self._job(job_id, project)
        result = self.client.merge_result(job_id)
        if result is None:
            raise ArtifactNotFound(f"job {job_id} has no merge result yet")
        if reveal:
            vault = load_job_vault(job, objects=self.client.objects, keyring=load_keyring(self.client.settings))
            result = reveal_model(result, vault, allow_pii=True)
        return result.model_dump(mode="json")  # type: ignore[no-any-return]

    def figma_export(self, job_id: str, template: str, locale: str | None, *, project: str) -> FigmaExport:
        """From the job's stored plan, or filled again from its checkpoints."""
        self._job(job_id, project)
        return self.client.figma_export(job_id, template=template, locale=locale)  # type: ignore[no-any-return]

    def cancel(self, job_id: str, *, project: str) -> str:
        """Cancel through the orchestrator actor."""
        self._job(job_id, project)
        return self.client.cancel(job_id)  # type: ignore[no-any-return]

    def resume(self, job_id: str, *, project: str) -> None:
        """Resume through the orchestrator actor."""
        self._job(job_id, project)
        self.client.resume(job_id)

    def hold(self, artifact_id: str, reason: str, *, project: str) -> Artifact:
        """Hold through the catalog (the object store's hold too, where it has one)."""
        from actors.lifecycle.catalog import hold

        self.artifact_meta(artifact_id, project=project)
        return hold(self.client.store, self.client.objects, artifact_id, reason.strip())

    def release(self, artifact_id: str, *, project: str) -> Artifact:
        """Release through the catalog."""
        from actors.lifecycle.catalog import release

        self.artifact_meta(artifact_id, project=project)
        return release(self.client.store, self.client.objects, artifact_id)

    def ready(self) -> dict[str, str]:
        """The database, the object store and the orchestrator actor, each asked once."""
        checks: dict[str, str] = {}
        for name, probe in (("database", lambda: self.client.store.list_jobs(limit=1)),
                            ("objects", lambda: self.client.objects.exists("health/ready-probe")),
                            ("orchestrator", self._ping)):
            try:
                probe()
                checks[name] = "ok"
            except MkaError as exc:
                checks[name] = exc.code
            except Exception as exc:  # a probe must answer, whatever broke
                checks[name] = type(exc).__name__
        return checks

    def _ping(self) -> None:
        import ray

        ray.get(self.client.orchestrator.ping.remote(), timeout=5)
