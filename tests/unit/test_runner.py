"""The job runner on fakes: full pipeline, checkpoints, resume without re-running, quorum outcomes, cancel."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from actors.clock import SystemClock
from actors.orchestrator.runner import JobRunner, RunnerConfig
from actors.orchestrator.steps import default_pipeline
from schemas import AgentError, EventType, JobState, ProviderError, StepOutcome
from schemas.pipeline import ProviderBehaviour, ProvidersScript
from tests.conftest import TEST_KEYRING
from tests.fakes import Crash, FakeAgents, FakeClock, MemoryJobStore, MemoryObjectStore

pytestmark = pytest.mark.unit


@pytest.fixture
def env():  # type: ignore[no-untyped-def]
    """In-memory store and object store, fake agents, a fake clock and a runner."""
    # Starts at the wall time: the stub LLM agents run on the system clock and read the envelopes' deadlines.
    clock = FakeClock(start=datetime.now(timezone.utc))
    store, objects = MemoryJobStore(keyring=TEST_KEYRING, clock=clock), MemoryObjectStore()
    agents = FakeAgents(objects)
    config = RunnerConfig(providers=["openai", "gemini", "xai"], deadline_s=2, grace_s=0.2, retry_base_delay_s=0.01)
    runner = JobRunner(store=store, objects=objects, agents=agents, config=config, clock=clock)
    return store, objects, agents, runner


def test_job_runs_through_every_step(env, make_brief) -> None:  # type: ignore[no-untyped-def]
    store, objects, agents, runner = env
    job = store.submit(make_brief(audience="Fans of ana.secret@example.com"))
    final = runner.run(job.id)
    assert final.state == JobState.COMPLETED and not final.degraded
    steps = store.steps(job.id)
    assert [s.step for s in steps] == default_pipeline().names()
    assert all(s.outcome == StepOutcome.SUCCEEDED and s.result_ref for s in steps)
    states = [m.event.payload["to_state"] for m in store.events(job.id) if m.event.type == EventType.JOB_STATE_CHANGED]
    assert states == ["validating", "redacting", "collecting", "analyzing", "merging", "localizing", "rendering",
                      "exporting", "completed"]
    assert [a.kind for a in store.artifacts(job.id)] == ["export"]
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
    runner.save_script(job, script)
    final = runner.run(job.id)
    assert final.state == JobState.COMPLETED and final.degraded
    degraded_events = [m.event.payload for m in store.events(job.id) if m.event.payload.get("to_state") == "merging"]
    assert degraded_events[0]["degraded"] is True


def test_below_quorum_fails_with_clear_reason(env, make_brief) -> None:  # type: ignore[no-untyped-def]
    store, objects, agents, runner = env
    job = store.submit(make_brief())
    script = ProvidersScript(providers={"gemini": ProviderBehaviour(error="auth"), "xai": ProviderBehaviour(error="bad_output")})
    runner.save_script(job, script)
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


def test_storage_down_fails_clearly_then_resumes(env, make_brief) -> None:  # type: ignore[no-untyped-def]
    from schemas import IllegalTransition, StorageError

    store, objects, agents, runner = env
    job = store.submit(make_brief())
    agents.fail_on["render"] = StorageError("S3 endpoint refused the connection")
    failed = runner.run(job.id)
    assert failed.state == JobState.FAILED and agents.calls["render"] == 3  # bounded retries
    assert failed.error and failed.error["resumable"] is True and failed.error["state"] == "rendering"
    assert "S3 endpoint" in failed.error["message"]
    del agents.fail_on["render"]  # storage is back
    done = runner.resume(job.id)
    assert done.state == JobState.COMPLETED
    assert [s.attempt for s in store.steps(job.id) if s.step == "render"] == [1, 2, 3, 4]
    assert [s.attempt for s in store.steps(job.id) if s.step == "collect"] == [1]
    with pytest.raises(IllegalTransition):
        runner.resume(job.id)


def test_non_infrastructure_failures_do_not_resume(env, make_brief) -> None:  # type: ignore[no-untyped-def]
    from schemas import IllegalTransition

    store, objects, agents, runner = env
    job = store.submit(make_brief())
    agents.fail_on["render"] = ProviderError("auth", "no key")
    assert runner.run(job.id).error["resumable"] is False  # type: ignore[index]
    with pytest.raises(IllegalTransition, match="only jobs failed by infrastructure"):
        runner.resume(job.id)


class FlakyStore:
    """Wraps a store; `get` raises a database outage the first `outages` times."""

    def __init__(self, inner, outages: int) -> None:  # type: ignore[no-untyped-def]
        self.inner = inner
        self.outages = outages

    def get(self, job_id: str):  # type: ignore[no-untyped-def]
        from schemas import AdapterError

        if self.outages:
            self.outages -= 1
            raise AdapterError("database unavailable (OperationalError)")
        return self.inner.get(job_id)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.inner, name)


class RecordingClock(SystemClock):
    """Real time (agents compare deadlines with the wall clock), but sleeps are recorded, not slept."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def test_database_outage_between_steps_is_waited_out(env, make_brief) -> None:  # type: ignore[no-untyped-def]
    store, objects, agents, runner = env
    job = store.submit(make_brief())
    clock = RecordingClock()
    flaky = JobRunner(store=FlakyStore(store, outages=4), objects=objects, agents=agents, config=runner.config, clock=clock)
    assert flaky.run(job.id).state == JobState.COMPLETED
    assert len(clock.sleeps) == 4 and clock.sleeps == sorted(clock.sleeps)


def test_database_outage_longer_than_patience_gives_up(env, make_brief) -> None:  # type: ignore[no-untyped-def]
    from schemas import AdapterError
    from tests.fakes import FakeClock

    store, objects, agents, runner = env
    job = store.submit(make_brief())
    config = runner.config.model_copy(update={"infra_patience_s": 20})
    clock = FakeClock()  # nothing reaches an agent: only the patience is measured
    flaky = JobRunner(store=FlakyStore(store, outages=10_000), objects=objects, agents=agents, config=config, clock=clock)
    with pytest.raises(AdapterError):
        flaky.run(job.id)
    assert 20 < clock.monotonic() <= 20 + 10


def test_a_pseudonymized_brief_over_its_limits_fails_the_job_instead_of_stranding_it(env, make_brief) -> None:  # type: ignore[no-untyped-def]
    store, objects, agents, runner = env
    notes = ("a@b.de " * 1200)[:7990].strip()  # each 6-character email becomes a longer placeholder
    job = store.submit(make_brief(notes=notes))
    final = runner.run(job.id)
    assert final.state == JobState.FAILED
    assert final.error and final.error["code"] == "pseudonymized_brief_too_long" and "notes" in final.error["message"]
    assert "a@b.de" not in final.error["message"]
    assert runner.run(job.id).state == JobState.FAILED  # terminal: a rerun does not raise


def test_an_unexpected_error_between_steps_fails_the_job(env, make_brief, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    store, objects, agents, runner = env
    job = store.submit(make_brief())

    def broken(job, step):  # type: ignore[no-untyped-def]
        raise KeyError("bug")

    monkeypatch.setattr(runner, "_advance", broken)
    final = runner.run(job.id)
    assert final.state == JobState.FAILED and "KeyError" in final.error["message"]


class _SourcesFail(FakeAgents):
    """Collection where one required page and one optional document failed."""

    def collect(self, envelope):  # type: ignore[no-untyped-def]
        from schemas.pipeline import SourceReport

        result = super().collect(envelope)
        result.sources += [
            SourceReport(source="https://x.org/p", source_type="web", label="x.org", status="failed", required=True,
                         error="404"),
            SourceReport(source="doc://doc-0000000000000001", source_type="document", label="doc-0000000000000001",
                         status="failed", error="encrypted: password-protected"),
        ]
        return result


@pytest.mark.parametrize(("mode", "state"), [("continue", JobState.COMPLETED), ("fail", JobState.FAILED)])
def test_failed_sources_degrade_or_fail_the_job(make_brief, mode: str, state: JobState) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(start=datetime.now(timezone.utc))
    store, objects = MemoryJobStore(keyring=TEST_KEYRING, clock=clock), MemoryObjectStore()
    config = RunnerConfig(providers=["openai", "gemini", "xai"], deadline_s=2, grace_s=0.2, retry_base_delay_s=0.01)
    runner = JobRunner(store=store, objects=objects, agents=_SourcesFail(objects), config=config, clock=clock)
    job = store.submit(make_brief(on_source_error=mode))
    final = runner.run(job.id)
    assert final.state == state
    if mode == "continue":  # a full quorum later does not clear the degradation a required source caused
        assert final.degraded is True
        reasons = [m.event.payload.get("reason", "") for m in store.events(job.id)]
        assert any("required source(s) failed: x.org" in r for r in reasons)
    else:
        assert final.error and final.error["code"] == "source_failed" and "x.org: 404" in final.error["message"]


def test_the_models_never_see_the_users_urls_or_paths(make_brief) -> None:  # type: ignore[no-untyped-def]
    from schemas import Evidence

    clock = FakeClock(start=datetime.now(timezone.utc))
    store, objects = MemoryJobStore(keyring=TEST_KEYRING, clock=clock), MemoryObjectStore()
    evidence = [Evidence(id="web-1-c1", source="https://crm.example/contacts?email=jonas.becker@example.org#c1",
                         text="Oat drinks hold 52% in Germany.", source_type="web"),
                Evidence(id="ev-fs-1-c1", source="mcp://documents/read_text_file?path=%2Fhome%2Fjonas%2Fplan.md#c1",
                         text="Plan: 300 cafes.", source_type="document")]
    agents = FakeAgents(objects, evidence=evidence)
    config = RunnerConfig(providers=["openai", "gemini", "xai"], deadline_s=2, grace_s=0.2, retry_base_delay_s=0.01)
    runner = JobRunner(store=store, objects=objects, agents=agents, config=config, clock=clock)
    brief = make_brief(sources=["https://crm.example/contacts?email=jonas.becker@example.org"])
    final = runner.run(store.submit(brief).id)
    assert final.state == JobState.COMPLETED
    sent = " ".join(e.model_dump_json() for e in agents.sent_to_llm)
    assert "jonas" not in sent and "contacts" not in sent
    assert "https://crm.example#c1" in sent and "mcp://documents/read_text_file#c1" in sent


def test_a_script_tightens_the_operators_limits_but_never_loosens_them(env, make_brief) -> None:  # type: ignore[no-untyped-def]
    store, objects, agents, runner = env
    runner.config = runner.config.model_copy(update={"cost_budget_usd": 0.5, "provider_deadlines_s": {"xai": 1.0}})
    loose = store.submit(make_brief())
    runner.save_script(loose, ProvidersScript(deadline_s=3600, grace_s=600, cost_budget_usd=50.0,
                                              providers={"xai": ProviderBehaviour(deadline_s=50)}))
    runner.run(loose.id)
    from actors.object_store import CHECKPOINT_NAME, find_job_object

    key = find_job_object(objects, loose.project, loose.id, CHECKPOINT_NAME.format(step="analyze"))
    quorum = json.loads(objects.get(key))["quorum"]
    assert (quorum["deadline_s"], quorum["grace_s"]) == (2, 0.2)  # the operator's, not the script's
    tight = store.submit(make_brief())
    runner.save_script(tight, ProvidersScript(deadline_s=1, cost_budget_usd=0.1))
    runner.run(tight.id)
    budgets = [e.payload.cost_budget_usd for e in agents.sent_to_llm]
    assert budgets == [0.5] * 3 + [0.1] * 3  # min(operator, request)
    created = {j.id: j.created_at for j in (store.get(loose.id), store.get(tight.id))}
    waits = [(e.deadline - created[e.job_id]).total_seconds() for e in agents.sent_to_llm]
    assert all(w <= 2.5 for w in waits[:3])  # the operator's 2 s, not the script's 3600 s
    xai = [w for e, w in zip(agents.sent_to_llm[:3], waits[:3], strict=True) if e.payload.provider == "xai"]
    assert xai and xai[0] <= 1.5  # the operator's 1 s for xai, not the script's 50 s
    assert all(w <= 1.5 for w in waits[3:])  # a shorter deadline is kept
