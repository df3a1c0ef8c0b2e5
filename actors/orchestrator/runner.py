"""The job runner: walks a job through the pipeline, checkpointing each step before moving on.

A state is entered when its step starts. A step's result is written to object storage and its
step record marked succeeded before the transition that follows, so a runner that dies anywhere
resumes at the first step without a succeeded record and never repeats a finished one.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, Field

from actors.clock import Clock, SystemClock
from actors.job_store import JobStore
from actors.lifecycle.catalog import write_object
from actors.lifecycle.rules import JobFacts, job_schedule
from actors.object_store import CHECKPOINT_NAME, SCRIPT_NAME, read_job_object
from actors.orchestrator.observe import Metrics, Tracer
from actors.orchestrator.outside_errors import clean_error
from actors.orchestrator.pipeline import (
    Pipeline,
    Step,
    StepContext,
    StepVerdict,
    checkpoint_key,
    script_key,
    vault_key,
    verdict_of,
)
from actors.orchestrator.ports import Agents
from actors.orchestrator.steps import default_pipeline
from actors.pii.guard import EgressBlocked, GuardRegistry, guard_registry
from actors.retry import Attempt, RetryPolicy
from schemas import (
    AdapterError,
    AgentRequest,
    ArtifactKind,
    BelowQuorum,
    IllegalTransition,
    JobRecord,
    JobState,
    MkaError,
    RetriesExhausted,
    StaleJobVersion,
    StepOutcome,
    StepRecord,
    StoredPii,
)
from schemas.lifecycle import CleanupRules

__all__ = ["JobRunner", "RunnerConfig", "checkpoint_key", "script_key", "vault_key"]

log = logging.getLogger("mka.runner")

S = JobState


class RunnerConfig(BaseModel):
    """Pipeline knobs, taken from settings."""

    providers: list[str]
    deadline_s: float = 60.0
    grace_s: float = 1.0
    step_max_attempts: int = 3
    step_timeout_s: float = 120.0
    retry_base_delay_s: float = 0.5
    infra_patience_s: float = 300.0
    provider_deadlines_s: dict[str, float] = Field(default_factory=dict, description="Per-provider deadlines.")
    cost_budget_usd: float | None = Field(default=None, description="Per-job LLM cost budget (USD).")
    glossary: list[str] = Field(default_factory=list, description="Terms translations keep as written (MKA_GLOSSARY).")
    cleanup: CleanupRules = Field(default_factory=CleanupRules, description="Dates each stored object's deletion.")


class _StepFailed(Exception):
    """A step ran but its outcome fails the job; the output is still checkpointed."""

    def __init__(self, error: MkaError, output: BaseModel) -> None:
        super().__init__(error.message)
        self.error = error
        self.output = output


class JobRunner:
    """Runs jobs to a terminal state over a job store, an object store and the agents."""

    def __init__(
        self,
        *,
        store: JobStore,
        objects: Any,
        agents: Agents,
        config: RunnerConfig,
        clock: Clock | None = None,
        tracer: Tracer | None = None,
        metrics: Metrics | None = None,
        pipeline: Pipeline | None = None,
        guards: GuardRegistry | None = None,
    ) -> None:
        self.store = store
        self.objects = objects
        self.agents = agents
        self.config = config
        self.clock = clock or SystemClock()
        self.tracer = tracer or Tracer()
        self.metrics = metrics or Metrics()
        self.pipeline = pipeline or default_pipeline()
        self.guards = guards or guard_registry()

    # --- driving the state machine ----------------------------------------------------------

    def run(self, job_id: str) -> JobRecord:
        """Run (or resume) a job until it is terminal; return its final record.

        Database or storage outages between steps are waited out (backoff, up to
        `infra_patience_s`); within a step they count against the step's retries.
        """
        outage_started: float | None = None
        failures = 0
        job: JobRecord | None = None
        ended_before: bool | None = None  # a job already terminal when this run read it is not counted again
        while job is None or not job.terminal:
            try:
                job = self.store.get(job_id) if job is None else job
                ended_before = job.terminal if ended_before is None else ended_before
                if job.terminal:
                    break
                if job.state == S.SUBMITTED:  # into the first step's state, whichever step that is
                    job = self._move(job, self.pipeline.steps[0].state)
                else:
                    step = self._step_of(job.state)
                    if not self._succeeded(job.id, step.name):
                        self._run_step(job, step)
                    job = self._advance(job, step)
                outage_started, failures = None, 0
            except StaleJobVersion:
                job = None  # cancelled or moved by someone else: re-read, decide again
            except _StepFailed as failed:
                job = self._fail(job_id, failed.error)
            except EgressBlocked as blocked:  # an event between steps carried a vault value: final
                job = self._fail(job_id, blocked)
            except AdapterError:
                outage_started = self.clock.monotonic() if outage_started is None else outage_started
                if self.clock.monotonic() - outage_started > self.config.infra_patience_s:
                    raise
                failures += 1
                self.clock.sleep(min(10.0, self.config.retry_base_delay_s * 2 ** min(failures, 10)))
                job = None
            except MkaError as exc:  # anything else between steps fails the job: never a non-terminal state
                job = self._fail(job_id, exc)
            except Exception as exc:  # noqa: BLE001 - a bug between steps still ends the job, with its kind only
                job = self._fail(job_id, MkaError(f"{type(exc).__name__} between steps"))
        self.metrics.job_state(job.state.value)
        if not ended_before and job.created_at is not None and job.updated_at is not None:
            self.metrics.job_finished(_outcome(job), max(0.0, (job.updated_at - job.created_at).total_seconds()))
        self._schedule(job)
        return job

    def _schedule(self, job: JobRecord) -> None:
        """Date the finished job's objects (`retention_until`); the sweeper redoes it if this fails."""
        try:
            rows = self.store.catalog(job_id=job.id)
            self.store.set_retention(job_schedule(rows, JobFacts.of(job), self.config.cleanup))
        except MkaError:
            log.warning("could not date the objects of a finished job", extra={"fields": {"job_id": job.id}})

    def reopen(self, job_id: str) -> JobRecord:
        """Move a job that failed on infrastructure back to the step that failed (not run yet)."""
        job = self.store.get(job_id)
        if job.state != S.FAILED or not (job.error or {}).get("resumable"):
            raise IllegalTransition(
                f"job {job_id} is {job.state.value}; only jobs failed by infrastructure (storage, database) resume"
            )
        state = JobState(str(job.error["state"]))  # type: ignore[index]
        return self._move(job, state, reason="resumed")

    def resume(self, job_id: str) -> JobRecord:
        """Reopen a job that failed on infrastructure and run it to the end."""
        self.reopen(job_id)
        return self.run(job_id)

    def _move(self, job: JobRecord, to: JobState, **kwargs: Any) -> JobRecord:
        moved = self.store.transition(
            job.id, to, expected_version=job.version, traceparent=job.traceparent, **kwargs
        )
        self.metrics.job_state(to.value)
        return moved

    def _step_of(self, state: JobState) -> Step:
        step = self.pipeline.step_for(state)
        if step is None:
            raise IllegalTransition(f"no step of this pipeline runs in state {state.value}")
        return step

    def _advance(self, job: JobRecord, step: Step) -> JobRecord:
        verdict = StepVerdict()
        if hasattr(step.output, "verdict"):  # the step's result judges the job (the analyze step's quorum)
            verdict = verdict_of(self._load(job, step))
        to = self.pipeline.machine.next_state(job.state)
        assert to is not None  # a step's state is never terminal
        degraded = None if job.degraded and verdict.degraded is False else verdict.degraded  # degraded stays degraded
        return self._move(job, to, degraded=degraded, reason=verdict.reason)

    def _fail(self, job_id: str, error: MkaError) -> JobRecord:
        """Move the job to `failed` with the error's details; a job already terminal stays as it is.

        A guard block in the job store (an event carrying a vault value) fails the job there, with
        the event scrubbed, and raises `EgressBlocked`: the job is terminal then, and so returned.
        """
        current = self.store.get(job_id)
        if current.terminal:
            return current
        root = error.__cause__ if isinstance(error, RetriesExhausted) and isinstance(error.__cause__, MkaError) else error
        details = {
            **self._error_dict(job_id, error),
            "step": step.name if (step := self.pipeline.step_for(current.state)) else None,
            "state": current.state.value,
            # Infrastructure that was down may come back: such a failure can be resumed.
            "resumable": isinstance(root, AdapterError),
        }
        reason = f"{error.code}: {error.outcomes}" if isinstance(error, BelowQuorum) and error.outcomes else error.code
        try:
            return self._move(current, S.FAILED, error=details, reason=reason)
        except EgressBlocked:
            failed = self.store.get(job_id)
            if not failed.terminal:
                raise
            return failed

    def _error_dict(self, job_id: str, error: MkaError) -> dict[str, Any]:
        """The error as stored (job, step record, events): its message may quote an agent's or a provider's text, so
        it is cleaned (secrets masked, the job's vault values blocked) first."""
        data = error.to_dict()
        data["message"] = clean_error(data.get("message"), self.guards.guard(job_id))
        return data

    def _succeeded(self, job_id: str, step: str) -> bool:
        return any(s.step == step and s.outcome == StepOutcome.SUCCEEDED for s in self.store.steps(job_id))

    # --- one step, with retries and a checkpoint --------------------------------------------

    def step_context(
        self, job: JobRecord, entry: Step, *, attempt: int = 1, timeout_s: float | None = None,
        traceparent: str | None = None, key: str | None = None,
    ) -> StepContext:
        """The context a step's `run` gets (also for work on a finished job, e.g. `mka localize`; `key` then names
        that work in the envelopes' correlation and idempotency keys)."""
        name = key or entry.name

        def envelope(payload: Any) -> AgentRequest[Any]:
            return AgentRequest[Any](
                correlation_id=f"{job.id}:{name}:{attempt}",
                idempotency_key=f"{job.id}:{name}",
                job_id=job.id,
                step=entry.name,
                attempt=attempt,
                deadline=self.clock.now() + timedelta(seconds=timeout_s or self.config.step_timeout_s),
                traceparent=traceparent,
                payload=payload,
            )

        return StepContext(
            job=job, step=entry, pipeline=self.pipeline, store=self.store, objects=self.objects, agents=self.agents,
            config=self.config, clock=self.clock, metrics=self.metrics, guards=self.guards, envelope=envelope,
        )

    def _run_step(self, job: JobRecord, entry: Step) -> None:
        step = entry.name
        earlier = max((s.attempt for s in self.store.steps(job.id) if s.step == step), default=0)
        policy = RetryPolicy(
            max_attempts=entry.max_attempts or self.config.step_max_attempts,
            base_delay_s=self.config.retry_base_delay_s,
            attempt_timeout_s=self.config.step_timeout_s,
        )

        def attempt(a: Attempt) -> None:
            number = earlier + a.number
            started = self.clock.now()
            t0 = self.clock.monotonic()
            record = StepRecord(job_id=job.id, step=step, attempt=number, outcome=StepOutcome.RUNNING, started_at=started)
            with self.tracer.span(f"step.{step}", traceparent=job.traceparent, job_id=job.id, step=step, attempt=number) as tp:
                self.store.record_step(record, traceparent=tp)

                ctx = self.step_context(job, entry, attempt=number, timeout_s=a.timeout_s, traceparent=tp)
                try:
                    output = entry.run(ctx)
                    verdict = verdict_of(output)
                    if verdict.error is not None:  # the result fails the job; it is still checkpointed
                        raise _StepFailed(verdict.error, output)
                except _StepFailed as failed:
                    ref = self._save(job, step, failed.output)
                    self._finish(record, StepOutcome.FAILED, tp, t0, ref=ref, error=failed.error)
                    raise
                except Exception as exc:
                    err = exc if isinstance(exc, MkaError) else MkaError(f"{type(exc).__name__} in {step}")
                    self._finish(record, StepOutcome.FAILED, tp, t0, error=err)
                    raise
                ref = self._save(job, step, output)
                self._finish(record, StepOutcome.SUCCEEDED, tp, t0, ref=ref)

        try:
            policy.call(attempt, clock=self.clock)
        except _StepFailed:
            raise
        except MkaError as exc:
            raise _StepFailed(exc, _Empty()) from exc
        except Exception as exc:
            raise _StepFailed(MkaError(f"step {step} failed: {type(exc).__name__}"), _Empty()) from exc

    def _finish(
        self, record: StepRecord, outcome: StepOutcome, tp: str | None, t0: float, *, ref: str | None = None, error: MkaError | None = None
    ) -> None:
        done = record.model_copy(
            update={"outcome": outcome, "finished_at": self.clock.now(), "result_ref": ref,
                    "error": self._error_dict(record.job_id, error) if error else None}
        )
        self.store.record_step(done, traceparent=tp)
        self.metrics.step_latency(record.step, self.clock.monotonic() - t0, outcome.value)

    def save_script(self, job: JobRecord, script: BaseModel) -> None:
        """Store a job's provider script (before it runs) with its catalog row."""
        write_object(
            self.objects, self.store, project=job.project, job_id=job.id, name=SCRIPT_NAME,
            data=script.model_dump_json().encode(), kind=ArtifactKind.PROVIDERS_SCRIPT, content_type="application/json",
            pii_class=StoredPii.NONE, step="submit", created_at=job.created_at,
        )

    def _save(self, job: JobRecord, step: str, output: BaseModel) -> str:
        row = write_object(
            self.objects, self.store, project=job.project, job_id=job.id, name=CHECKPOINT_NAME.format(step=step),
            data=output.model_dump_json().encode(), kind=ArtifactKind.CHECKPOINT, content_type="application/json",
            pii_class=StoredPii.PSEUDONYMIZED, step=step, created_at=self.clock.now(),
        )
        return row.key

    def _load(self, job: JobRecord, step: Step) -> BaseModel:
        return step.output.model_validate_json(read_job_object(self.objects, job, CHECKPOINT_NAME.format(step=step.name)))


class _Empty(BaseModel):
    """Placeholder output of a step that failed before producing anything."""


def _outcome(job: JobRecord) -> str:
    """The job-latency label of a finished job; a failure for want of answers is told apart (the SLO excludes it)."""
    if job.state == S.COMPLETED:
        return "degraded" if job.degraded else "completed"
    if job.state == S.FAILED and (job.error or {}).get("code") == "below_quorum":
        return "below_quorum"
    return job.state.value
