"""The pipeline as data: a step is a registry entry (name, state, models, actor role, retries, `run`), and a
pipeline is an ordered list of them from which the runner, the state machine and `mka pipeline` derive.

Adding a step means one entry plus its agent: give it a state of its own, the models it reads
and writes, and a `run(context)` that returns its output model. A step whose result decides the
job's fate (the analyze step's quorum) says so through its output's `verdict()`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

from actors.lifecycle.catalog import write_object
from actors.object_store import (
    CHECKPOINT_NAME,
    SCRIPT_NAME,
    VAULT_NAME,
    checkpoint_key,
    find_job_object,
    read_job_object,
    script_key,
    vault_key,
)
from actors.state_machine import StateMachine, machine_of
from schemas import (
    AgentRequest,
    Artifact,
    ArtifactKind,
    Brief,
    JobError,
    JobRecord,
    JobState,
    MkaError,
    StoredPii,
)
from schemas.pipeline import ProvidersScript

if TYPE_CHECKING:
    from actors.clock import Clock
    from actors.job_store import JobStore
    from actors.orchestrator.observe import Metrics
    from actors.orchestrator.ports import Agents
    from actors.orchestrator.runner import RunnerConfig
    from actors.pii.guard import GuardRegistry

__all__ = ["Pipeline", "Step", "StepContext", "StepVerdict", "checkpoint_key", "script_key", "vault_key"]

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class StepVerdict:
    """What a step's result means for the job: degraded or not, the transition's reason, or an error that fails it."""

    degraded: bool | None = None
    reason: str = ""
    error: MkaError | None = None


@runtime_checkable
class HasVerdict(Protocol):
    """An output model that judges itself (the analyze step's quorum)."""

    def verdict(self) -> StepVerdict:
        """Judge this result."""


def verdict_of(output: BaseModel) -> StepVerdict:
    """The output's own verdict, or a plain success."""
    return output.verdict() if isinstance(output, HasVerdict) else StepVerdict()


@dataclass
class StepContext:
    """What a step's `run` gets: its job, the ports, the config, an envelope factory and the checkpoints before it."""

    job: JobRecord
    step: Step
    pipeline: Pipeline
    store: JobStore
    objects: Any
    agents: Agents
    config: RunnerConfig
    clock: Clock
    metrics: Metrics
    guards: GuardRegistry
    envelope: Callable[[Any], AgentRequest[Any]]

    def load(self, step: str, model: type[M] | None = None) -> M:
        """The checkpointed output of an earlier step, as its registered output model."""
        cls = model or self.pipeline.step(step).output
        data = read_job_object(self.objects, self.job, CHECKPOINT_NAME.format(step=step))
        return cls.model_validate_json(data)  # type: ignore[return-value]

    def record(self, artifacts: list[Artifact], *, made_from: list[str]) -> list[Artifact]:
        """Commit the catalog rows of objects an agent just stored, with their lineage (the checkpoints of
        `made_from` steps that exist); return the rows as committed."""
        sources = []
        for step in made_from:
            key = find_job_object(self.objects, self.job.project, self.job.id, CHECKPOINT_NAME.format(step=step))
            row = self.store.artifact_at(key) if key else None
            if row is not None:
                sources.append(row.id)
        return [
            self.store.add_artifact(a.model_copy(update={"lineage": [f"step:{self.step.name}", *sources]}),
                                    traceparent=self.job.traceparent)
            for a in artifacts
        ]

    def raw_brief(self) -> Brief:
        """The brief as submitted: its sealed copy, opened (jobs stored before sealing keep it in the record)."""
        from actors.pii.briefs import is_masked

        raw = self.store.raw_brief(self.job.id)
        if raw is not None:
            return raw
        if is_masked(self.job.brief):
            raise JobError(
                f"the raw brief of job {self.job.id} was purged with its vault (retention): it cannot be redacted again"
            )
        return self.job.brief

    def script(self) -> ProvidersScript:
        """The job's provider script, or the empty one."""
        key = find_job_object(self.objects, self.job.project, self.job.id, SCRIPT_NAME)
        return ProvidersScript() if key is None else ProvidersScript.model_validate_json(self.objects.get(key))

    def vault(self) -> bytes | None:
        """The job's encrypted vault, if one was written."""
        key = find_job_object(self.objects, self.job.project, self.job.id, VAULT_NAME)
        return None if key is None else self.objects.get(key)

    def save_vault(self, vault: bytes) -> None:
        """Store the job's encrypted vault (with its retention) and guard the job's egress with it."""
        write_object(
            self.objects, self.store, project=self.job.project, job_id=self.job.id, name=VAULT_NAME, data=vault,
            kind=ArtifactKind.VAULT, content_type="application/octet-stream", pii_class=StoredPii.RAW_ENCRYPTED,
            step=self.step.name, created_at=self.clock.now(), metadata=self.guards.vault_metadata(self.clock.now()),
        )
        self.guards.register_vault(self.job.id, vault)


@dataclass(frozen=True)
class Step:
    """One registry entry."""

    name: str
    state: JobState
    input: type[BaseModel]
    output: type[BaseModel]
    actor: str
    run: Callable[[StepContext], BaseModel] = field(compare=False)
    idempotent: bool = True
    max_attempts: int | None = None
    """Attempts before the step fails the job; None takes the runner's `step_max_attempts`."""

    def describe(self, default_attempts: int) -> dict[str, Any]:
        """The `mka pipeline --json` row of this step."""
        attempts = self.max_attempts or default_attempts
        return {
            "step": self.name,
            "state": self.state.value,
            "actor": self.actor,
            "input": self.input.__name__,
            "output": self.output.__name__,
            "idempotent": self.idempotent,
            "retries": attempts - 1,
        }


class Pipeline:
    """Steps in order; the state machine, the runner's walk and the step list all come from here."""

    def __init__(self, steps: Sequence[Step]) -> None:
        names = [s.name for s in steps]
        if len(set(names)) != len(names):
            raise ValueError(f"step names repeat: {names}")
        self.steps: tuple[Step, ...] = tuple(steps)
        self.machine: StateMachine = machine_of([s.state for s in steps])
        self._by_name = {s.name: s for s in steps}
        self._by_state = {s.state: s for s in steps}

    def step(self, name: str) -> Step:
        """The step called `name`."""
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"no step {name!r} in the pipeline ({', '.join(self._by_name)})") from None

    def step_for(self, state: JobState) -> Step | None:
        """The step that runs in `state`, if any."""
        return self._by_state.get(state)

    def names(self) -> list[str]:
        """Step names in order."""
        return [s.name for s in self.steps]

    def with_step(self, step: Step, *, after: str) -> Pipeline:
        """A new pipeline with `step` inserted after the step called `after`."""
        at = self.names().index(self.step(after).name) + 1
        return Pipeline([*self.steps[:at], step, *self.steps[at:]])

    def describe(self, default_attempts: int) -> list[dict[str, Any]]:
        """The step list `mka pipeline --json` prints."""
        return [s.describe(default_attempts) for s in self.steps]
