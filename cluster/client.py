"""The client notebooks, the CLI and the portal use: `connect()`, then submit, wait, events, artifacts."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from actors.job_store import JobStore
from actors.documents.store import DocumentInfo
from actors.orchestrator.ports import AnalyzeOutput, CollectOutput
from actors.orchestrator.ray_agents import ray_result
from actors.object_store import CHECKPOINT_NAME, find_job_object
from cluster.bootstrap import build_objects, build_store
from cluster.objects import ObjectStore
from cluster.ray_runtime import connect_ray, ensure_actors
from cluster.settings import Settings, load_settings
from schemas import Artifact, Brief, Event, Evidence, JobRecord, MergeResult, StepRecord, parse_brief
from schemas.localization import LocalizedReport, LocalizeOutput
from schemas.pipeline import ProvidersScript
from schemas.summary import ArtifactLink, JobSummary, ProviderOutcome, QuorumSummary

__all__ = ["MkaClient", "connect", "job_summary", "upload_document"]


def connect(settings: Settings | None = None, *, address: str | None = None, quiet: bool = False) -> MkaClient:
    """Join the cluster `mka serve` runs for this MKA_HOME (or start one), make sure the actors exist, return a client.

    It says on stderr which cluster it is on (also `client.cluster`), unless `quiet`.

    Example:
        >>> client = connect()                                   # doctest: +SKIP
        >>> job_id = client.submit(brief)                        # doctest: +SKIP
        >>> client.wait(job_id).state                            # doctest: +SKIP
        <JobState.COMPLETED: 'completed'>
    """
    settings = settings or load_settings()
    settings = settings.model_copy(update={"home": settings.home.resolve()})  # workers run elsewhere
    how = connect_ray(settings, address=address)
    if not quiet:
        print(f"mka: {how}", file=sys.stderr)  # noqa: T201 - says which cluster a notebook or CLI is on
    handles = ensure_actors(settings)
    client = MkaClient(settings, handles, store=build_store(settings), objects=build_objects(settings))
    client.cluster = how
    return client


class MkaClient:
    """Submits briefs to the orchestrator actor and reads jobs, events and artifacts from the store."""

    def __init__(self, settings: Settings, handles: dict[str, Any], *, store: JobStore, objects: ObjectStore) -> None:
        self.settings = settings
        self.cluster = ""  # which Ray cluster `connect` joined or started, in words
        self.handles = handles
        self.store = store
        self.objects = objects

    @property
    def orchestrator(self) -> Any:
        """The orchestrator actor handle."""
        return self.handles["orchestrator"]

    def submit(
        self,
        brief: Brief | dict[str, Any],
        *,
        idempotency_key: str | None = None,
        script: ProvidersScript | dict[str, Any] | None = None,
    ) -> str:
        """Validate and submit a brief; return the job id (the same id again for a repeated key)."""
        from actors.figma.store import check_brief_template

        parsed = brief if isinstance(brief, Brief) else parse_brief(brief)
        check_brief_template(self.store, self.objects, parsed)
        raw_script = script.model_dump(mode="json") if isinstance(script, ProvidersScript) else script
        return ray_result(self.orchestrator.submit.remote(parsed, idempotency_key, raw_script))

    def get(self, job_id: str) -> JobRecord:
        """The job as stored now."""
        return self.store.get(job_id)

    def wait(
        self,
        job_id: str,
        *,
        timeout_s: float | None = None,
        poll_s: float = 0.1,
        on_change: Callable[[JobRecord, list[StepRecord]], None] | None = None,
    ) -> JobRecord:
        """Block until the job is terminal (or `timeout_s` passes); call `on_change` on progress."""
        start = time.monotonic()
        seen: tuple[int, int] | None = None
        while True:
            job = self.store.get(job_id)
            steps = self.store.steps(job_id) if on_change else []
            if on_change and (job.version, len(steps)) != seen:
                seen = (job.version, len(steps))
                on_change(job, steps)
            if job.terminal or (timeout_s is not None and time.monotonic() - start > timeout_s):
                return job
            time.sleep(poll_s)

    def events(self, job_id: str) -> list[Event]:
        """The job's events, in order."""
        return [m.event for m in self.store.events(job_id)]

    def artifacts(self, job_id: str) -> list[Artifact]:
        """The job's stored artifacts."""
        return self.store.artifacts(job_id)

    def merge_result(self, job_id: str) -> MergeResult | None:
        """The job's merge result (claims, disagreements, quorum), placeholders kept; None before the merge step."""
        job = self.store.get(job_id)
        key = find_job_object(self.objects, job.project, job.id, CHECKPOINT_NAME.format(step="merge"))
        return MergeResult.model_validate_json(self.objects.get(key)) if key else None

    def cancel(self, job_id: str) -> str:
        """Cancel the job; return its state."""
        return ray_result(self.orchestrator.cancel.remote(job_id))

    def resume(self, job_id: str) -> None:
        """Resume a job that failed on infrastructure; it runs in the background (then `wait`)."""
        ray_result(self.orchestrator.resume_job.remote(job_id))

    def summary(self, job_id: str) -> JobSummary:
        """The run summary of DESIGN.md: id, state, degraded, providers, artifacts, trace id."""
        job = self.store.get(job_id)
        key = find_job_object(self.objects, job.project, job.id, CHECKPOINT_NAME.format(step="analyze"))
        analysis = AnalyzeOutput.model_validate_json(self.objects.get(key)) if key else None
        summary = job_summary(job, self.store.artifacts(job_id), analysis)
        collected = self._collected(job)
        if collected is not None:
            summary.sources = collected.sources
        key = find_job_object(self.objects, job.project, job.id, CHECKPOINT_NAME.format(step="export"))
        if key is not None:
            from actors.orchestrator.ports import ExportOutput

            summary.warnings = ExportOutput.model_validate_json(self.objects.get(key)).warnings
        return summary

    def figma_export(self, job_id: str, *, template: str, locale: str | None = None) -> Any:
        """A completed job's Figma fill plan and SVG preview for a template of its project (egress-guarded)."""
        from actors.figma.jobs import job_export
        from cluster.bootstrap import build_guards

        return job_export(self.store, self.objects, build_guards(self.settings), job_id, template=template,
                          locale=locale)

    def evidence(self, job_id: str) -> list[Evidence]:
        """The job's evidence as collected and pseudonymized (empty before the collect step ran)."""
        collected = self._collected(self.store.get(job_id))
        return collected.evidence if collected else []

    def localized(self, job: JobRecord) -> list[LocalizedReport]:
        """The job's localized reports from its localize checkpoint (none before that step, or without locales)."""
        key = find_job_object(self.objects, job.project, job.id, CHECKPOINT_NAME.format(step="localize"))
        return LocalizeOutput.model_validate_json(self.objects.get(key)).reports if key else []

    def _collected(self, job: JobRecord) -> CollectOutput | None:
        key = find_job_object(self.objects, job.project, job.id, CHECKPOINT_NAME.format(step="collect"))
        return CollectOutput.model_validate_json(self.objects.get(key)) if key else None

    def upload_document(self, name: str, data: bytes, *, project: str) -> DocumentInfo:
        """Check, seal and catalog one document; list the returned id in a brief's `documents`."""
        return upload_document(self.settings, self.store, self.objects, name=name, data=data, project=project)


def upload_document(settings: Settings, store: JobStore, objects: ObjectStore, *, name: str, data: bytes,
                    project: str) -> DocumentInfo:
    """Store a user's document under the settings' size limit and cleanup rules (`DocumentError` when bad)."""
    import re

    from actors.documents.convert import Limits
    from actors.documents.store import check_upload_name, store_document
    from cluster.bootstrap import build_rules
    from schemas import InvalidInput
    from schemas.brief import PROJECT_PATTERN

    if not re.fullmatch(PROJECT_PATTERN, project):
        raise InvalidInput(f"project {project!r} must match {PROJECT_PATTERN} (lower-case letters, digits, - and _)")

    return store_document(store, objects, store.keyring(), project=project, name=check_upload_name(name), data=data,
                          limits=Limits(max_bytes=int(settings.max_document_mb * 1024 * 1024)),
                          now=_utcnow(), rules=build_rules(settings))


def _utcnow() -> Any:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc)


def job_summary(job: JobRecord, artifacts: list[Artifact], analysis: AnalyzeOutput | None) -> JobSummary:
    """Build the job summary printed by `mka run` (pure); its brief is masked or pseudonymized, never raw."""
    q = analysis.quorum if analysis else None
    return JobSummary(
        job_id=job.id,
        state=job.state.value,
        degraded=job.degraded,
        providers={
            p.provider: ProviderOutcome(status=p.status, error_kind=p.error_kind, reason=p.reason, model=p.model,
                                        latency_s=p.latency_s, claims=p.claims, tokens=p.tokens, cost_usd=p.cost)
            for p in (q.providers if q else [])
        },
        quorum=QuorumSummary(required=q.required, received=q.received, missing=q.missing, waited_s=q.waited_s,
                             cost_usd=q.cost_usd, cost_budget_usd=q.cost_budget_usd) if q else None,
        artifacts=[
            ArtifactLink.of(a, path=a.local_path if a.local_path and Path(a.local_path).exists() else None)
            for a in artifacts
        ],
        trace_id=job.trace_id,
        error=job.error,
        brief=job.brief.model_dump(mode="json"),
    )
