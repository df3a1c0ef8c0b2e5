"""The one quorum fan-out on a scripted primitive and a fake clock: quorum, grace, own deadlines, budget, failures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import pytest

from actors.orchestrator.fanout import CallFailed, ProviderCalls, analyze_providers
from schemas import AgentRequest, ModelAnswer
from schemas.pipeline import AnalysisRequest
from tests.fakes import FakeClock

pytestmark = pytest.mark.unit


@dataclass
class Scripted:
    """When a provider's call finishes (seconds after it starts; None never) and how."""

    at: float | None
    fails: str | None = None
    status: str = "ok"
    cost: float = 0.0


class ScriptedCalls(ProviderCalls[str]):
    """Calls that finish at scripted times on a fake clock; `wait` moves the clock instead of sleeping."""

    def __init__(self, clock: FakeClock, script: dict[str, Scripted]) -> None:
        self.clock, self.script = clock, script
        self.started: dict[str, float] = {}
        self.cancelled: list[str] = []
        self.sent: dict[str, AgentRequest[AnalysisRequest]] = {}

    def configured(self, provider: str) -> bool:
        return provider in self.script

    def estimate(self, provider: str, request: AnalysisRequest) -> float:
        return self.script[provider].cost

    def start(self, provider: str, envelope: AgentRequest[AnalysisRequest]) -> str:
        self.started[provider] = self.clock.monotonic()
        self.sent[provider] = envelope
        return provider

    def _finish(self, handle: str) -> float | None:
        at = self.script[handle].at
        return None if at is None else self.started[handle] + at

    def wait(self, handles: Sequence[str], num_returns: int, timeout_s: float) -> list[str]:
        until = self.clock.monotonic() + timeout_s
        times = sorted(t for h in handles if (t := self._finish(h)) is not None)
        target = times[num_returns - 1] if len(times) >= num_returns else until
        self.clock.advance(max(0.0, min(target, until) - self.clock.monotonic()))
        return [h for h in handles if (t := self._finish(h)) is not None and t <= self.clock.monotonic()]

    def result(self, handle: str) -> ModelAnswer:
        s = self.script[handle]
        if s.fails:
            raise CallFailed(s.fails)
        return ModelAnswer(  # type: ignore[arg-type]
            provider=handle, model=f"{handle}-m", status=s.status, latency_s=s.at or 0.0,
            error=None if s.status == "ok" else "auth: no key",
        )

    def cancel(self, handle: str) -> None:
        self.cancelled.append(handle)


def _envelopes(clock: FakeClock, providers: list[str], make_brief, budget: float | None = None):  # type: ignore[no-untyped-def]
    brief = make_brief()
    return {
        p: AgentRequest[AnalysisRequest](
            correlation_id=f"j:analyze:{p}", idempotency_key="j:analyze", job_id="j", step="analyze", attempt=1,
            deadline=clock.now() + timedelta(seconds=60),
            payload=AnalysisRequest(job_id="j", provider=p, brief=brief, evidence=[], cost_budget_usd=budget),
        )
        for p in providers
    }


def _run(script: dict[str, Scripted], make_brief, *, providers: list[str] | None = None, budget: float | None = None,  # type: ignore[no-untyped-def]
         deadline_s: float = 10, grace_s: float = 1, deadlines: dict[str, float] | None = None):
    clock = FakeClock()
    calls = ScriptedCalls(clock, script)
    envelopes = _envelopes(clock, providers or list(script), make_brief, budget)
    answers, decision = analyze_providers(
        calls, envelopes, required=2, deadline_s=deadline_s, grace_s=grace_s, deadlines=deadlines, clock=clock
    )
    return calls, clock, answers, decision


def test_two_of_three_then_grace_cancels_the_straggler(make_brief) -> None:  # type: ignore[no-untyped-def]
    calls, clock, answers, q = _run({"a": Scripted(1), "b": Scripted(2), "c": Scripted(None)}, make_brief)
    assert [a.provider for a in answers] == ["a", "b"] and q.met and q.degraded
    assert q.missing["c"].startswith("cancelled: no answer within the 10s deadline plus 1s grace")
    assert calls.cancelled == ["c"] and clock.monotonic() == pytest.approx(3.0) and q.waited_s == pytest.approx(3.0)


def test_a_late_answer_inside_the_grace_is_kept(make_brief) -> None:  # type: ignore[no-untyped-def]
    _, clock, answers, q = _run({"a": Scripted(1), "b": Scripted(2), "c": Scripted(2.5)}, make_brief)
    assert len(answers) == 3 and q.met and not q.degraded and clock.monotonic() == pytest.approx(2.5)


def test_below_quorum_at_the_deadline(make_brief) -> None:  # type: ignore[no-untyped-def]
    calls, clock, answers, q = _run({"a": Scripted(1), "b": Scripted(None), "c": Scripted(30)}, make_brief)
    assert not q.met and [a.provider for a in answers] == ["a"]
    assert q.missing == {"b": "no answer by the 10s deadline", "c": "no answer by the 10s deadline"}
    assert sorted(calls.cancelled) == ["b", "c"] and clock.monotonic() == pytest.approx(10.0)


def test_own_deadline_cuts_one_provider_while_the_quorum_waits(make_brief) -> None:  # type: ignore[no-untyped-def]
    calls, clock, answers, q = _run(
        {"a": Scripted(1), "b": Scripted(4), "c": Scripted(5)}, make_brief, deadlines={"c": 3.0}, grace_s=0
    )
    assert [a.provider for a in answers] == ["a", "b"] and q.met
    assert q.missing == {"c": "no answer by its own 3s deadline"} and calls.cancelled == ["c"]
    status = {p.provider: p for p in q.providers}
    assert status["c"].status == "timeout" and status["c"].error_kind == "timeout"
    assert clock.monotonic() == pytest.approx(4.0)


def test_budget_skips_the_provider_that_would_exceed_it_and_shares_allowances(make_brief) -> None:  # type: ignore[no-untyped-def]
    script = {"a": Scripted(1, cost=0.01), "b": Scripted(1, cost=0.01), "c": Scripted(1, cost=0.01)}
    calls, _, answers, q = _run(script, make_brief, budget=0.045)
    assert sorted(calls.started) == ["a", "b"] and q.cost_budget_usd == 0.045
    assert q.missing["c"].startswith("skipped: its estimated $0.0200 would exceed the $0.0050 left")
    assert {p.provider: p.status for p in q.providers}["c"] == "skipped"
    assert calls.sent["a"].payload.cost_budget_usd == pytest.approx(0.02)


def test_failures_unconfigured_and_error_answers_are_reasons_not_exceptions(make_brief) -> None:  # type: ignore[no-untyped-def]
    script = {"a": Scripted(1), "b": Scripted(1, fails="agent actor died during the call"), "c": Scripted(1, status="error")}
    _, _, answers, q = _run(script, make_brief, providers=["a", "b", "c", "d"])
    assert not q.met and [a.provider for a in answers] == ["a", "c"]
    status = {p.provider: p for p in q.providers}
    assert status["b"].error_kind == "actor_died" and status["c"].error_kind == "auth"
    assert status["d"].status == "not_configured"
