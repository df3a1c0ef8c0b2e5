"""The job runner on fakes: full pipeline, checkpoints, resume without re-running, quorum outcomes, cancel."""

from __future__ import annotations

import pytest

from actors.orchestrator.runner import STEPS, JobRunner, RunnerConfig, script_key
from cluster.objects import FsObjectStore
from schemas import AgentError, EventType, JobState, ProviderError, StepOutcome
from schemas.pipeline import ProviderBehaviour, ProvidersScript
from tests.fakes import Crash, FakeAgents

pytestmark = pytest.mark.unit


@pytest.fixture
def env(sqlite_store, tmp_path):  # type: ignore[no-untyped-def]
    """Store, object store, fake agents and a runner."""
    objects = FsObjectStore(tmp_path / "objects")
    agents = FakeAgents(objects)
    config = RunnerConfig(providers=["openai", "gemini", "xai"], deadline_s=2, grace_s=0.2, retry_base_delay_s=0.01)
    runner = JobRunner(store=sqlite_store, objects=objects, agents=agents, config=config)
    return sqlite_store, objects, agents, runner


def test_job_runs_through_every_step(env, make_brief) -> None:  # type: ignore[no-untyped-def]
    store, objects, agents, runner = env
    job = store.submit(make_brief(audience="Fans of ana.secret@example.com"))
    final = runner.run(job.id)
    assert final.state == JobState.COMPLETED and not final.degraded
    steps = store.steps(job.id)
    assert [s.step for s in steps] == [name for _, name in STEPS]
    assert all(s.outcome == StepOutcome.SUCCEEDED and s.result_ref for s in steps)
    states = [m.event.payload["to_state"] for m in store.events(job.id) if m.event.type == EventType.JOB_STATE_CHANGED]
    assert states == ["validating", "redacting", "collecting", "analyzing", "merging", "rendering", "completed"]
    assert [a.kind for a in store.artifacts(job.id)] == ["report"]
    # PII never reached an LLM request.
    assert agents.sent_to_llm and all("ana.secret" not in e.model_dump_json() for e in agents.sent_to_llm)


@pytest.mark.parametrize("crash_step", ["collect", "analyze", "merge", "render"])
def test_resume_after_crash_does_not_rerun_finished_steps(env, make_brief, crash_step: str) -> None:  # type: ignore[no-untyped-def]
    store, objects, agents, runner = env
    job = store.submit(make_brief())
    agents.crash_on[crash_step] = 1
    with pytest.raises(Crash):
        runner.run(job.id)
    assert not store.get(job.id).terminal
    final = runner.run(job.id)  # a restarted orchestrator resumes
    assert final.state == JobState.COMPLETED
    for name, count in agents.calls.items():
        assert count == (2 if name == crash_step else 1), (name, count)
    attempts = [(s.step, s.attempt, s.outcome) for s in store.steps(job.id) if s.step == crash_step]
    assert attempts == [(crash_step, 1, StepOutcome.RUNNING), (crash_step, 2, StepOutcome.SUCCEEDED)]


def test_degraded_when_one_provider_hangs(env, make_brief) -> None:  # type: ignore[no-untyped-def]
    store, objects, agents, runner = env
    job = store.submit(make_brief())
    script = ProvidersScript(deadline_s=0.5, grace_s=0.1, providers={"xai": ProviderBehaviour(hang=True)})
    objects.put(script_key(job.id), script.model_dump_json().encode(), content_type="application/json")
    final = runner.run(job.id)
    assert final.state == JobState.COMPLETED and final.degraded
    degraded_events = [m.event.payload for m in store.events(job.id) if m.event.payload.get("to_state") == "merging"]
    assert degraded_events[0]["degraded"] is True


def test_below_quorum_fails_with_clear_reason(env, make_brief) -> None:  # type: ignore[no-untyped-def]
    store, objects, agents, runner = env
    job = store.submit(make_brief())
    script = ProvidersScript(providers={"gemini": ProviderBehaviour(error="auth"), "xai": ProviderBehaviour(error="bad_output")})
    objects.put(script_key(job.id), script.model_dump_json().encode(), content_type="application/json")
    final = runner.run(job.id)
    assert final.state == JobState.FAILED
    assert final.error and final.error["code"] == "below_quorum"
    assert "gemini (auth" in final.error["message"] and "xai (bad_output" in final.error["message"]
    analyze = [s for s in store.steps(job.id) if s.step == "analyze"]
    assert len(analyze) == 1 and analyze[0].outcome == StepOutcome.FAILED and analyze[0].result_ref
    assert agents.calls["merge"] == 0


def test_retryable_agent_error_is_retried_then_fails_clearly(env, make_brief) -> None:  # type: ignore[no-untyped-def]
    store, objects, agents, runner = env
    job = store.submit(make_brief())
    agents.fail_on["collect"] = AgentError("broker down", retryable=True)
    final = runner.run(job.id)
    assert final.state == JobState.FAILED
    assert final.error and final.error["code"] == "retries_exhausted"
    assert agents.calls["collect"] == 3
    assert [s.outcome for s in store.steps(job.id) if s.step == "collect"] == [StepOutcome.FAILED] * 3


def test_non_retryable_error_fails_at_once(env, make_brief) -> None:  # type: ignore[no-untyped-def]
    store, objects, agents, runner = env
    job = store.submit(make_brief())
    agents.fail_on["render"] = ProviderError("auth", "no key")
    final = runner.run(job.id)
    assert final.state == JobState.FAILED and agents.calls["render"] == 1
    assert final.error and final.error["code"] == "provider_error"


def test_cancelled_job_stops_at_the_next_step(env, make_brief) -> None:  # type: ignore[no-untyped-def]
    store, objects, agents, runner = env
    job = store.submit(make_brief())
    agents.crash_on["collect"] = 1
    with pytest.raises(Crash):
        runner.run(job.id)
    current = store.get(job.id)
    store.transition(job.id, JobState.CANCELLED, expected_version=current.version)
    final = runner.run(job.id)
    assert final.state == JobState.CANCELLED
    assert agents.calls["analyze"] == 0
