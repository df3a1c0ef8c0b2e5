"""The step registry drives the state machine, the runner and `mka pipeline`; a toy step joins through one entry."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from actors.orchestrator.pipeline import Pipeline, Step, StepContext, StepVerdict
from actors.orchestrator.runner import JobRunner, RunnerConfig, checkpoint_key
from actors.orchestrator.steps import default_pipeline
from actors.state_machine import PIPELINE, TRANSITIONS, default_machine
from cluster.cli import app
from schemas import (
    EventType,
    IllegalTransition,
    JobError,
    JobState,
    MergeResult,
    StepOutcome,
)
from tests.conftest import TEST_KEYRING
from tests.fakes import FakeAgents, FakeClock, MemoryJobStore, MemoryObjectStore

pytestmark = pytest.mark.unit

S = JobState


class Localized(BaseModel):
    """The toy step's output."""

    claims: int
    locale: str


class LocalizeRequest(BaseModel):
    """The toy step's input: the merge result and the brief's locale."""

    merge: MergeResult
    locale: str


class ToyLocalizer:
    """The toy step's agent: a role with an envelope-level method, like every agent."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def localize(self, envelope: Any) -> Localized:
        """Count the claims it would localize."""
        self.seen.append(envelope.job_id)
        return Localized(claims=len(envelope.payload.merge.claims), locale=envelope.payload.locale)


def localize(ctx: StepContext) -> BaseModel:
    """A toy step: reads the merge checkpoint through the registry and asks its agent by role (no port change)."""
    merged = ctx.load("merge")
    assert isinstance(merged, MergeResult)
    request = LocalizeRequest(merge=merged, locale=ctx.job.brief.locale)
    return ctx.agents.call("toy-localizer", "localize", ctx.envelope(request))  # type: ignore[no-any-return]


TOY = Step("translate", S.LOCALIZING, LocalizeRequest, Localized, "toy-localizer", localize)


def without_localize() -> Pipeline:
    """The default pipeline minus its own localize step, so a toy step can take the LOCALIZING state."""
    return Pipeline([s for s in default_pipeline().steps if s.name != "localize"])


def _env(pipeline: Pipeline):  # type: ignore[no-untyped-def]
    clock = FakeClock(start=datetime.now(timezone.utc))
    store = MemoryJobStore(keyring=TEST_KEYRING, clock=clock, machine=pipeline.machine)
    objects = MemoryObjectStore()
    config = RunnerConfig(providers=["openai", "gemini", "xai"], deadline_s=2, grace_s=0.1, retry_base_delay_s=0.01)
    agents = FakeAgents(objects)
    agents.roles["toy-localizer"] = ToyLocalizer()
    runner = JobRunner(store=store, objects=objects, agents=agents, config=config, clock=clock, pipeline=pipeline)
    return store, objects, runner


def _states(store: MemoryJobStore, job_id: str) -> list[str]:
    return [str(m.event.payload["to_state"]) for m in store.events(job_id) if m.event.type == EventType.JOB_STATE_CHANGED]


def test_the_state_machine_is_the_registry_in_order() -> None:
    steps = default_pipeline().steps
    assert PIPELINE == (S.SUBMITTED, *[s.state for s in steps], S.COMPLETED)
    assert TRANSITIONS[S.MERGING] == {S.LOCALIZING, S.FAILED, S.CANCELLED}
    assert TRANSITIONS[S.LOCALIZING] == {S.RENDERING, S.FAILED, S.CANCELLED}
    assert TRANSITIONS[S.RENDERING] == {S.EXPORTING, S.FAILED, S.CANCELLED}
    assert TRANSITIONS[S.EXPORTING] == {S.COMPLETED, S.FAILED, S.CANCELLED}
    assert TRANSITIONS[S.FAILED] == {s.state for s in steps}
    assert not default_machine().is_legal(S.MERGING, S.RENDERING)  # localize runs between them
    assert not without_localize().machine.is_legal(S.MERGING, S.LOCALIZING)  # no step runs there


def test_a_toy_step_joins_through_one_registry_entry(make_brief) -> None:  # type: ignore[no-untyped-def]
    pipeline = without_localize().with_step(TOY, after="merge")
    store, objects, runner = _env(pipeline)
    job = store.submit(make_brief())
    final = runner.run(job.id)
    assert final.state == S.COMPLETED
    assert _states(store, job.id) == [
        "validating", "redacting", "collecting", "analyzing", "merging", "localizing", "rendering", "exporting",
        "completed",
    ]
    assert [s.step for s in store.steps(job.id)] == pipeline.names()
    toy = Localized.model_validate_json(objects.get(checkpoint_key(job.project, job.id, "translate")))
    assert toy.claims > 0 and toy.locale == "en_US"
    assert runner.agents.roles["toy-localizer"].seen == [job.id]  # type: ignore[attr-defined]
    assert pipeline.describe(3)[5] == {
        "step": "translate", "state": "localizing", "actor": "toy-localizer", "input": "LocalizeRequest",
        "output": "Localized", "idempotent": True, "retries": 2,
    }


def test_the_default_store_refuses_a_state_its_pipeline_has_no_step_for(make_brief) -> None:  # type: ignore[no-untyped-def]
    store = MemoryJobStore(keyring=TEST_KEYRING, machine=without_localize().machine)
    job = store.submit(make_brief())
    for to in (S.VALIDATING, S.REDACTING, S.COLLECTING, S.ANALYZING, S.MERGING):
        job = store.transition(job.id, to, expected_version=job.version)
    with pytest.raises(IllegalTransition):
        store.transition(job.id, S.LOCALIZING, expected_version=job.version)


class Judged(BaseModel):
    """An output that judges the job, as the analyze step's quorum does."""

    fine: bool

    def verdict(self) -> StepVerdict:
        """Fail the job unless fine; degrade it either way."""
        return StepVerdict(degraded=True, reason="toy judged", error=None if self.fine else JobError("toy says no"))


@pytest.mark.parametrize("fine", [True, False])
def test_a_steps_result_decides_degraded_and_failed_without_the_runner_knowing_the_step(make_brief, fine: bool) -> None:  # type: ignore[no-untyped-def]
    judge = Step("judge", S.LOCALIZING, MergeResult, Judged, "toy", lambda ctx: Judged(fine=fine), max_attempts=1)
    store, objects, runner = _env(without_localize().with_step(judge, after="merge"))
    job = store.submit(make_brief())
    final = runner.run(job.id)
    [attempt] = [s for s in store.steps(job.id) if s.step == "judge"]
    assert objects.exists(checkpoint_key(job.project, job.id, "judge"))  # checkpointed either way
    if fine:
        assert final.state == S.COMPLETED and final.degraded and attempt.outcome == StepOutcome.SUCCEEDED
        moved = [m.event.payload for m in store.events(job.id) if m.event.payload.get("to_state") == "rendering"]
        assert moved[0]["reason"] == "toy judged" and moved[0]["degraded"] is True
    else:
        assert final.state == S.FAILED and final.error and final.error["code"] == "job_error"
        assert final.error["step"] == "judge" and attempt.outcome == StepOutcome.FAILED


def test_a_pipeline_refuses_repeated_names_and_states() -> None:
    steps = default_pipeline().steps
    with pytest.raises(ValueError, match="repeat"):
        Pipeline([*steps, steps[0]])
    with pytest.raises(ValueError, match="own"):
        Pipeline([*steps, Step("again", S.MERGING, MergeResult, Localized, "x", localize)])


def test_mka_pipeline_json_is_the_registry() -> None:
    result = CliRunner().invoke(app, ["pipeline", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["step"] for r in rows] == default_pipeline().names()
    assert all(set(r) == {"step", "state", "actor", "input", "output", "idempotent", "retries"} for r in rows)
    analyze = next(r for r in rows if r["step"] == "analyze")
    assert (analyze["state"], analyze["idempotent"], analyze["output"]) == ("analyzing", False, "AnalyzeOutput")


def test_a_pipeline_starts_at_its_own_first_step(make_brief) -> None:  # type: ignore[no-untyped-def]
    store, _, runner = _env(Pipeline(default_pipeline().steps[1:]))  # no validate step
    job = store.submit(make_brief())
    assert runner.run(job.id).state == S.COMPLETED
    assert _states(store, job.id)[:2] == ["redacting", "collecting"]
    assert "validate" not in [s.step for s in store.steps(job.id)]
