"""The job runner: walks a job through the pipeline, checkpointing each step before moving on.

A state is entered when its step starts. A step's result is written to object storage and its
step record marked succeeded before the transition that follows, so a runner that dies anywhere
resumes at the first step without a succeeded record and never repeats a finished one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, Field, ValidationError

from actors.clock import Clock, SystemClock
from actors.job_store import JobStore
from actors.orchestrator.observe import Metrics, Tracer
from actors.pii.briefs import is_masked
from actors.pii.guard import EgressBlocked, guard_registry
from actors.quorum import outcome_summary
from actors.orchestrator.ports import (
    Agents,
    AnalyzeOutput,
    CollectOutput,
    RedactOutput,
    RenderOutput,
    ValidateOutput,
)
from actors.retry import Attempt, RetryPolicy
from schemas import (
    AdapterError,
    AgentRequest,
    Brief,
    IllegalTransition,
    RetriesExhausted,
    JobError,
    JobRecord,
    JobState,
    MergeResult,
    MkaError,
    StaleJobVersion,
    StepOutcome,
    StepRecord,
    parse_brief,
)
from schemas.pipeline import AnalysisRequest, CollectRequest, ProvidersScript, ReportInput

__all__ = ["BelowQuorum", "JobRunner", "RunnerConfig", "STEPS", "checkpoint_key", "script_key"]

M = TypeVar("M", bound=BaseModel)

S = JobState
STEPS: tuple[tuple[JobState, str], ...] = (
    (S.VALIDATING, "validate"),
    (S.REDACTING, "redact"),
    (S.COLLECTING, "collect"),
    (S.ANALYZING, "analyze"),
    (S.MERGING, "merge"),
    (S.RENDERING, "render"),
)
STEP_OF = dict(STEPS)
NEXT_STATE = {state: STEPS[i + 1][0] if i + 1 < len(STEPS) else S.COMPLETED for i, (state, _) in enumerate(STEPS)}


class BriefTooLong(JobError):
    """Placeholders made a brief field longer than its limit; the user must shorten it (never retried)."""

    code = "pseudonymized_brief_too_long"
    retryable = False


class BelowQuorum(JobError):
    """Fewer providers answered than the quorum needs; `outcomes` names each provider's outcome kind."""

    code = "below_quorum"

    def __init__(self, message: str, *, outcomes: str = "") -> None:
        super().__init__(message)
        self.outcomes = outcomes


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


def checkpoint_key(job_id: str, step: str) -> str:
    """Object key of a step's checkpointed result."""
    return f"jobs/{job_id}/steps/{step}.json"


def script_key(job_id: str) -> str:
    """Object key of a job's provider script (stub behaviour and quorum overrides)."""
    return f"jobs/{job_id}/providers_script.json"


def vault_key(job_id: str) -> str:
    """Object key of a job's encrypted PII vault."""
    return f"jobs/{job_id}/vault.bin"


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
    ) -> None:
        self.store = store
        self.objects = objects
        self.agents = agents
        self.config = config
        self.clock = clock or SystemClock()
        self.tracer = tracer or Tracer()
        self.metrics = metrics or Metrics()
        self._handlers: dict[str, Callable[[JobRecord, Callable[[Any], AgentRequest[Any]]], BaseModel]] = {
            "validate": self._validate,
            "redact": self._redact,
            "collect": self._collect,
            "analyze": self._analyze,
            "merge": self._merge,
            "render": self._render,
        }

    # --- driving the state machine ----------------------------------------------------------

    def run(self, job_id: str) -> JobRecord:
        """Run (or resume) a job until it is terminal; return its final record.

        Database or storage outages between steps are waited out (backoff, up to
        `infra_patience_s`); within a step they count against the step's retries.
        """
        outage_started: float | None = None
        failures = 0
        job: JobRecord | None = None
        while job is None or not job.terminal:
            try:
                job = self.store.get(job_id) if job is None else job
                if job.terminal:
                    break
                if job.state == S.SUBMITTED:
                    job = self._move(job, S.VALIDATING)
                else:
                    step = STEP_OF[job.state]
                    if not self._succeeded(job.id, step):
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
        return job

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

    def _advance(self, job: JobRecord, step: str) -> JobRecord:
        degraded, reason = None, ""
        if step == "analyze":
            quorum = self._load(job.id, "analyze", AnalyzeOutput).quorum
            degraded, reason = quorum.degraded, outcome_summary(quorum)
        return self._move(job, NEXT_STATE[job.state], degraded=degraded, reason=reason)

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
            **error.to_dict(),
            "step": STEP_OF.get(current.state),
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

    def _succeeded(self, job_id: str, step: str) -> bool:
        return any(s.step == step and s.outcome == StepOutcome.SUCCEEDED for s in self.store.steps(job_id))

    # --- one step, with retries and a checkpoint --------------------------------------------

    def _run_step(self, job: JobRecord, step: str) -> None:
        earlier = max((s.attempt for s in self.store.steps(job.id) if s.step == step), default=0)
        policy = RetryPolicy(
            max_attempts=self.config.step_max_attempts,
            base_delay_s=self.config.retry_base_delay_s,
            attempt_timeout_s=self.config.step_timeout_s,
        )

        def attempt(a: Attempt) -> None:
            number = earlier + a.number
            started = self.clock.now()
            t0 = time.monotonic()
            record = StepRecord(job_id=job.id, step=step, attempt=number, outcome=StepOutcome.RUNNING, started_at=started)
            with self.tracer.span(f"step.{step}", traceparent=job.traceparent, job_id=job.id, step=step, attempt=number) as tp:
                self.store.record_step(record, traceparent=tp)

                def envelope(payload: Any) -> AgentRequest[Any]:
                    return AgentRequest[Any](
                        correlation_id=f"{job.id}:{step}:{number}",
                        idempotency_key=f"{job.id}:{step}",
                        job_id=job.id,
                        step=step,
                        attempt=number,
                        deadline=self.clock.now() + timedelta(seconds=a.timeout_s or self.config.step_timeout_s),
                        traceparent=tp,
                        payload=payload,
                    )

                try:
                    output = self._handlers[step](job, envelope)
                except _StepFailed as failed:
                    ref = self._save(job.id, step, failed.output)
                    self._finish(record, StepOutcome.FAILED, tp, t0, ref=ref, error=failed.error)
                    raise
                except Exception as exc:
                    err = exc if isinstance(exc, MkaError) else MkaError(f"{type(exc).__name__} in {step}")
                    self._finish(record, StepOutcome.FAILED, tp, t0, error=err)
                    raise
                ref = self._save(job.id, step, output)
                self._finish(record, StepOutcome.SUCCEEDED, tp, t0, ref=ref)

        try:
            policy.call(attempt, clock=self.clock)
        except _StepFailed:
            raise
        except MkaError as exc:
            raise _StepFailed(exc, _Empty()) from exc
        except Exception as exc:  # noqa: BLE001 - an unexpected bug still fails the job clearly
            raise _StepFailed(MkaError(f"step {step} failed: {type(exc).__name__}"), _Empty()) from exc

    def _finish(
        self, record: StepRecord, outcome: StepOutcome, tp: str | None, t0: float, *, ref: str | None = None, error: MkaError | None = None
    ) -> None:
        done = record.model_copy(
            update={"outcome": outcome, "finished_at": self.clock.now(), "result_ref": ref, "error": error.to_dict() if error else None}
        )
        self.store.record_step(done, traceparent=tp)
        self.metrics.step_latency(record.step, time.monotonic() - t0, outcome.value)

    def _save(self, job_id: str, step: str, output: BaseModel) -> str:
        key = checkpoint_key(job_id, step)
        self.objects.put(key, output.model_dump_json().encode(), content_type="application/json")
        return key

    def _load(self, job_id: str, step: str, model: type[M]) -> M:
        return model.model_validate_json(self.objects.get(checkpoint_key(job_id, step)))

    # --- the steps --------------------------------------------------------------------------

    def _raw_brief(self, job: JobRecord) -> Brief:
        """The brief as submitted: its sealed copy, opened (jobs stored before sealing keep it in the record)."""
        raw = self.store.raw_brief(job.id)
        if raw is not None:
            return raw
        if is_masked(job.brief):
            raise JobError(f"the raw brief of job {job.id} was purged with its vault (retention): it cannot be redacted again")
        return job.brief

    def _validate(self, job: JobRecord, envelope: Callable[[Any], AgentRequest[Any]]) -> BaseModel:
        brief = parse_brief(self._raw_brief(job).model_dump(mode="json"))
        return ValidateOutput(markets=brief.markets, outputs=list(brief.outputs))

    def _redact(self, job: JobRecord, envelope: Callable[[Any], AgentRequest[Any]]) -> BaseModel:
        key = vault_key(job.id)
        existing = self.objects.get(key) if self.objects.exists(key) else None
        output, vault = self.agents.redact_brief(envelope(self._raw_brief(job)), existing)
        guards = guard_registry()  # vault retention, and the egress guard of this job's events/logs/spans
        self.objects.put(key, vault, content_type="application/octet-stream", metadata=guards.vault_metadata(self.clock.now()))
        guards.register_vault(job.id, vault)
        try:  # placeholders are longer than some values: the pseudonymized brief must still be a brief
            checked = RedactOutput.model_validate_json(output.model_dump_json())
        except ValidationError as exc:
            fields = ", ".join(".".join(str(p) for p in err["loc"][1:]) for err in exc.errors())
            raise BriefTooLong(f"the pseudonymized brief exceeds the limits of: {fields}; shorten those fields") from None
        self.store.set_brief(job.id, checked.brief)  # the record shows the pseudonymized brief, not the masked one
        return checked

    def _collect(self, job: JobRecord, envelope: Callable[[Any], AgentRequest[Any]]) -> BaseModel:
        brief = self._load(job.id, "redact", RedactOutput).brief
        evidence = self.agents.collect(envelope(CollectRequest(job_id=job.id, brief=brief)))
        allow = [brief.product.name, *brief.competitors]
        output, vault = self.agents.redact_evidence(envelope(evidence), self.objects.get(vault_key(job.id)), allow)
        guards = guard_registry()
        self.objects.put(
            vault_key(job.id), vault, content_type="application/octet-stream", metadata=guards.vault_metadata(self.clock.now())
        )
        guards.register_vault(job.id, vault)
        return output

    def _analyze(self, job: JobRecord, envelope: Callable[[Any], AgentRequest[Any]]) -> BaseModel:
        brief = self._load(job.id, "redact", RedactOutput).brief
        evidence = self._load(job.id, "collect", CollectOutput).evidence
        script = self._script(job.id)
        deadline_s = script.deadline_s or self.config.deadline_s
        grace_s = self.config.grace_s if script.grace_s is None else script.grace_s
        providers = self.config.providers
        budget = self.config.cost_budget_usd if script.cost_budget_usd is None else script.cost_budget_usd

        def own_deadline_s(provider: str) -> float:
            behaviour = script.providers.get(provider)
            own = (behaviour.deadline_s if behaviour else None) or self.config.provider_deadlines_s.get(provider)
            return min(own, deadline_s) if own else deadline_s

        envelopes = {
            p: envelope(
                AnalysisRequest(
                    job_id=job.id, provider=p, brief=brief, evidence=evidence, behaviour=script.providers.get(p),
                    cost_budget_usd=budget,
                )
            ).model_copy(update={"deadline": self.clock.now() + timedelta(seconds=own_deadline_s(p))})
            for p in providers
        }
        required = len(providers) // 2 + 1
        guards = guard_registry()  # fail closed: a request carrying a vault value fails the step (not retried)
        guards.register_vault(job.id, self.objects.get(vault_key(job.id)) if self.objects.exists(vault_key(job.id)) else None)
        for p, request in envelopes.items():
            guards.check(job.id, f"llm:{p}", request)
        output = self.agents.analyze(envelopes, required=required, deadline_s=deadline_s, grace_s=grace_s)
        for status in output.quorum.providers:
            self.metrics.provider_outcome(status.provider, status.status)
        outcome = "failed" if not output.quorum.met else "degraded" if output.quorum.degraded else "met"
        self.metrics.quorum(outcome)
        if not output.quorum.met:
            missing = ", ".join(f"{p} ({why})" for p, why in output.quorum.missing.items())
            raise _StepFailed(
                BelowQuorum(
                    f"below quorum: {len(output.quorum.received)} of {output.quorum.required} required answers; missing {missing}",
                    outcomes=outcome_summary(output.quorum),
                ),
                output,
            )
        return output

    def _merge(self, job: JobRecord, envelope: Callable[[Any], AgentRequest[Any]]) -> BaseModel:
        analysis = self._load(job.id, "analyze", AnalyzeOutput)
        evidence = self._load(job.id, "collect", CollectOutput).evidence
        return self.agents.merge(envelope(analysis), evidence)

    def _render(self, job: JobRecord, envelope: Callable[[Any], AgentRequest[Any]]) -> BaseModel:
        analysis = self._load(job.id, "analyze", AnalyzeOutput)
        report = ReportInput(
            job_id=job.id,
            brief=self._load(job.id, "redact", RedactOutput).brief,
            evidence=self._load(job.id, "collect", CollectOutput).evidence,
            answers=analysis.answers,
            quorum=analysis.quorum,
            merge=self._load(job.id, "merge", MergeResult),
            trace_id=job.trace_id,
            generated_at=self.clock.now(),
        )
        artifacts = self.agents.render(envelope(report))
        for artifact in artifacts:
            self.store.add_artifact(artifact, traceparent=job.traceparent)
        return RenderOutput(artifacts=artifacts)

    def _script(self, job_id: str) -> ProvidersScript:
        key = script_key(job_id)
        if not self.objects.exists(key):
            return ProvidersScript()
        return ProvidersScript.model_validate_json(self.objects.get(key))


class _Empty(BaseModel):
    """Placeholder output of a step that failed before producing anything."""
