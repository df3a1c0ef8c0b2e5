"""The orchestrator's metrics port: job latency by outcome (once per job), the quorum's wait, provider usage."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from actors.orchestrator.observe import Metrics
from actors.orchestrator.runner import JobRunner, RunnerConfig
from schemas import JobState
from schemas.pipeline import ProvidersScript
from tests.conftest import TEST_KEYRING
from tests.fakes import FakeAgents, FakeClock, MemoryJobStore, MemoryObjectStore

pytestmark = pytest.mark.unit


class Recording(Metrics):
    """Keeps every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def job_finished(self, outcome: str, seconds: float) -> None:
        self.calls.append(("job_finished", (outcome, seconds)))

    def quorum_wait(self, seconds: float) -> None:
        self.calls.append(("quorum_wait", (seconds,)))

    def llm_usage(self, provider: str, tokens: int, cost_usd: float) -> None:
        self.calls.append(("llm_usage", (provider, tokens, cost_usd)))

    def named(self, name: str) -> list[tuple[Any, ...]]:
        return [args for n, args in self.calls if n == name]


def _runner(metrics: Metrics) -> tuple[JobRunner, MemoryJobStore, FakeClock]:
    clock = FakeClock(start=datetime.now(timezone.utc))  # the agents' deadlines run on the wall clock
    store, objects = MemoryJobStore(keyring=TEST_KEYRING, clock=clock), MemoryObjectStore(clock=clock)
    config = RunnerConfig(providers=["openai", "gemini", "xai"], deadline_s=2, grace_s=0.2, retry_base_delay_s=0.01)
    return JobRunner(store=store, objects=objects, agents=FakeAgents(objects), config=config, clock=clock,
                     metrics=metrics), store, clock


def test_a_job_is_timed_once_by_outcome_with_its_quorum_wait(make_brief) -> None:  # type: ignore[no-untyped-def]
    metrics = Recording()
    runner, store, _ = _runner(metrics)
    job = runner.run(store.submit(make_brief()).id)
    assert job.state == JobState.COMPLETED
    [(outcome, seconds)] = metrics.named("job_finished")
    assert outcome in ("completed", "degraded") and seconds >= 0
    assert len(metrics.named("quorum_wait")) == 1 and metrics.named("quorum_wait")[0][0] >= 0
    runner.run(job.id)  # a job already ended is not counted again
    assert len(metrics.named("job_finished")) == 1


def test_a_job_without_enough_answers_is_told_apart(make_brief) -> None:  # type: ignore[no-untyped-def]
    metrics = Recording()
    runner, store, _ = _runner(metrics)
    job = store.submit(make_brief())
    runner.save_script(job, ProvidersScript.model_validate(
        {"providers": {p: {"error": "auth"} for p in ("openai", "gemini", "xai")}}))
    final = runner.run(job.id)
    assert final.state == JobState.FAILED and (final.error or {}).get("code") == "below_quorum"
    assert [o for o, _ in metrics.named("job_finished")] == ["below_quorum"]


class Gauges(Metrics):
    """Keeps the last gauge values."""

    def __init__(self) -> None:
        self.states: dict[str, int] = {}
        self.backlog: tuple[int, float] | None = None

    def jobs_in_state(self, counts: dict[str, int]) -> None:
        self.states = counts

    def outbox(self, backlog: int, lag_s: float) -> None:
        self.backlog = (backlog, lag_s)


def test_the_gauges_sample_jobs_per_state_and_the_relays_lag(make_brief) -> None:  # type: ignore[no-untyped-def]
    from actors.orchestrator.observe import sample

    clock = FakeClock(start=datetime(2026, 6, 1, tzinfo=timezone.utc))
    store = MemoryJobStore(keyring=TEST_KEYRING, clock=clock)
    gauges = Gauges()
    states = [s.value for s in JobState]
    assert sample(store, gauges, clock.now(), states) == (0, 0.0)
    assert set(gauges.states) == set(states) and not any(gauges.states.values())  # every state, zeros included
    first = store.submit(make_brief())
    clock.advance(30)
    second = store.submit(make_brief())
    store.transition(second.id, JobState.VALIDATING, expected_version=second.version)
    clock.advance(15)
    assert sample(store, gauges, clock.now(), states) == (3, 45.0)  # oldest unpublished: the first submit
    assert gauges.states["submitted"] == 1 and gauges.states["validating"] == 1
    store.mark_published([m.event.id for m in store.events(first.id)])
    assert sample(store, gauges, clock.now(), states) == (2, 15.0)
    store.mark_published([m.event.id for m in store.pending_events(limit=100)])
    assert sample(store, gauges, clock.now(), states) == (0, 0.0) and gauges.backlog == (0, 0.0)
