"""The one fan-out over both primitives: Ray actors (`RayCalls`, `ray.wait`) and in-process futures (`LocalCalls`).

The same scripted stub providers, the same budget and per-provider deadlines: both must decide alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import ray

from actors.clock import SystemClock
from actors.llm import StubLlmAgent
from actors.orchestrator.fanout import analyze_providers
from actors.orchestrator.local_agents import LocalCalls, LoopThread
from actors.orchestrator.ray_agents import RayCalls
from schemas import AgentRequest
from schemas.pipeline import AnalysisRequest, ProviderBehaviour

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]

PROVIDERS = ["openai", "gemini", "xai"]


class PricedStub(StubLlmAgent):
    """A stub provider whose calls are estimated at a fixed price."""

    def __init__(self, provider: str, price: float) -> None:
        super().__init__(provider)
        self.fixed_price = price

    def estimate_cost(self, request: AnalysisRequest) -> float:
        """The fixed price."""
        return self.fixed_price


@pytest.fixture(scope="module")
def ray_llms() -> Iterator[dict[str, Any]]:
    """One Ray actor per provider around the priced stub."""
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, namespace=f"mka-fanout-{uuid.uuid4().hex[:8]}", log_to_driver=False)
    actor = ray.remote(PricedStub)
    handles = {p: actor.options(num_cpus=0).remote(p, 0.01) for p in PROVIDERS}
    ray.get([h.__ray_ready__.remote() for h in handles.values()])  # started, so timings measure the fan-out
    yield handles
    if started:
        ray.shutdown()


@pytest.fixture(params=["local", "ray"])
def calls(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The fan-out primitive under test."""
    if request.param == "ray":
        yield RayCalls(request.getfixturevalue("ray_llms"))
        return
    loop = LoopThread("test-fanout")
    yield LocalCalls({p: PricedStub(p, 0.01) for p in PROVIDERS}, loop.submit)
    loop.close()


def _ask(calls: Any, make_brief: Any, behaviour: dict[str, ProviderBehaviour], **kwargs: Any) -> Any:
    brief, clock = make_brief(), SystemClock()
    budget = kwargs.pop("budget", None)
    envelopes = {
        p: AgentRequest[AnalysisRequest](
            correlation_id=f"j:analyze:{p}", idempotency_key="j:analyze", job_id="j", step="analyze", attempt=1,
            deadline=clock.now() + timedelta(seconds=30),
            payload=AnalysisRequest(job_id="j", provider=p, brief=brief, evidence=[], behaviour=behaviour.get(p),
                                    cost_budget_usd=budget),
        )
        for p in PROVIDERS
    }
    return analyze_providers(calls, envelopes, required=2, clock=clock, **kwargs)


def test_quorum_then_grace_cancels_a_hanging_provider(calls: Any, make_brief: Any) -> None:
    answers, q = _ask(calls, make_brief, {"xai": ProviderBehaviour(hang=True)}, deadline_s=5, grace_s=0.3)
    assert [a.provider for a in answers] == ["openai", "gemini"] and q.met and q.degraded
    assert q.missing["xai"].startswith("cancelled: no answer within the 5s deadline plus 0.3s grace")
    assert q.waited_s < 3


def test_own_deadline_cuts_the_slow_provider_not_the_job(calls: Any, make_brief: Any) -> None:
    behaviour = {"gemini": ProviderBehaviour(latency_s=0.8), "xai": ProviderBehaviour(latency_s=10)}
    answers, q = _ask(calls, make_brief, behaviour, deadline_s=5, grace_s=0, deadlines={"xai": 0.4})
    assert [a.provider for a in answers] == ["openai", "gemini"] and q.met
    assert q.missing == {"xai": "no answer by its own 0.4s deadline"}
    assert 0.7 < q.waited_s < 3


def test_budget_skips_what_it_cannot_afford(calls: Any, make_brief: Any) -> None:
    answers, q = _ask(calls, make_brief, {}, deadline_s=5, grace_s=0.2, budget=0.045)
    assert [a.provider for a in answers] == ["openai", "gemini"] and q.cost_budget_usd == 0.045
    assert q.missing["xai"].startswith("skipped: its estimated $0.0200") and q.met


def test_below_quorum_at_the_deadline(calls: Any, make_brief: Any) -> None:
    behaviour = {"gemini": ProviderBehaviour(hang=True), "xai": ProviderBehaviour(hang=True)}
    answers, q = _ask(calls, make_brief, behaviour, deadline_s=0.6, grace_s=0.2)
    assert [a.provider for a in answers] == ["openai"] and not q.met
    assert q.missing == {"gemini": "no answer by the 0.6s deadline", "xai": "no answer by the 0.6s deadline"}
