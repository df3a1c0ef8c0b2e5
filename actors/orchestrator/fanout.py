"""The one quorum fan-out: ask every provider within the budget, wait for a majority by the deadline, then a grace.

The waiting is written once, over an injected primitive (`ProviderCalls`: start a call, wait for
any of them, read or cancel one). Ray (`ray.wait`) and in-process (an event loop) are two thin
implementations of that primitive, so budgets and per-provider deadlines behave the same in both.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any, Generic, TypeVar

from actors.clock import Clock, SystemClock
from actors.quorum import decide_quorum, plan_budget
from schemas import AgentError, AgentRequest, ModelAnswer
from schemas.pipeline import AnalysisRequest, QuorumDecision

__all__ = ["CallFailed", "FanOut", "ProviderCalls", "analyze_providers", "fan_out"]

H = TypeVar("H")


class CallFailed(AgentError):
    """A provider call ended without an answer; the message is the reason the quorum records."""


class ProviderCalls(abc.ABC, Generic[H]):
    """The primitive under the fan-out: provider calls that can be started, awaited together, read and cancelled."""

    @abc.abstractmethod
    def configured(self, provider: str) -> bool:
        """True when an agent answers for this provider."""

    @abc.abstractmethod
    def estimate(self, provider: str, request: AnalysisRequest) -> float:
        """Upper cost estimate (USD) of one call; 0 when the agent cannot say."""

    @abc.abstractmethod
    def start(self, provider: str, envelope: AgentRequest[AnalysisRequest]) -> H:
        """Start the call; return its handle."""

    @abc.abstractmethod
    def wait(self, handles: Sequence[H], num_returns: int, timeout_s: float) -> list[H]:
        """Block until `num_returns` of the handles are done or `timeout_s` passes; return the done ones."""

    @abc.abstractmethod
    def result(self, handle: H) -> ModelAnswer:
        """The answer of a done call; raise `CallFailed` with the reason when there is none."""

    @abc.abstractmethod
    def cancel(self, handle: H) -> None:
        """Cancel a call still running."""


class FanOut(Generic[H]):
    """The waiting of one fan-out; `run` returns the answers, a reason per provider without one, and the time waited."""

    def __init__(
        self, calls: ProviderCalls[H], pending: dict[H, str], *, clock: Clock, required: int, deadline_s: float,
        grace_s: float, deadlines: Mapping[str, float],
    ) -> None:
        self.calls, self.pending, self.clock = calls, pending, clock
        self.required, self.deadline_s, self.grace_s = required, deadline_s, grace_s
        self.own = {p: d for p, d in deadlines.items() if p in pending.values() and d < deadline_s}
        self.answers: dict[str, ModelAnswer] = {}
        self.reasons: dict[str, str] = {}
        self.start = clock.monotonic()

    def elapsed(self) -> float:
        """Seconds since the fan-out began (on the injected clock)."""
        return self.clock.monotonic() - self.start

    def ok(self) -> int:
        """Answers that count toward the quorum."""
        return sum(1 for a in self.answers.values() if a.status == "ok")

    def _take(self, ready: list[H]) -> None:
        for handle in ready:
            provider = self.pending.pop(handle)
            try:
                self.answers[provider] = self.calls.result(handle)
            except CallFailed as failed:
                self.reasons[provider] = str(failed)

    def _expire(self) -> None:
        now = self.elapsed()
        for handle, provider in list(self.pending.items()):
            if provider in self.own and now >= self.own[provider]:
                self.pending.pop(handle)
                self.calls.cancel(handle)
                self.reasons[provider] = f"no answer by its own {self.own[provider]:g}s deadline"

    def _wait(self, limit: float, num_returns: int) -> list[H]:
        cut = min([limit] + [self.own[p] for p in self.pending.values() if p in self.own]) - self.elapsed()
        ready = self.calls.wait(list(self.pending), min(num_returns, len(self.pending)), max(0.0, cut))
        self._take(ready)
        self._expire()
        return ready

    def run(self) -> tuple[dict[str, ModelAnswer], dict[str, str], float]:
        """Wait for `required` ok answers by the deadline, then up to the grace for the rest; cancel stragglers."""
        while self.pending and self.ok() < self.required:
            if self.deadline_s - self.elapsed() <= 0:
                break
            if not self._wait(self.deadline_s, self.required - self.ok()) and self.elapsed() >= self.deadline_s:
                break
        grace_end = self.elapsed() + self.grace_s
        while self.pending and self.ok() >= self.required and self.grace_s > 0 and self.elapsed() < grace_end:
            self._wait(grace_end, len(self.pending))
        met = self.ok() >= self.required
        for handle, provider in self.pending.items():
            self.calls.cancel(handle)
            self.reasons[provider] = (
                f"cancelled: no answer within the {self.deadline_s:g}s deadline plus {self.grace_s:g}s grace after quorum"
                if met else f"no answer by the {self.deadline_s:g}s deadline"
            )
        return self.answers, self.reasons, self.elapsed()


def fan_out(
    calls: ProviderCalls[H], handles: Mapping[str, H], *, required: int, deadline_s: float, grace_s: float,
    deadlines: Mapping[str, float] | None = None, clock: Clock | None = None,
) -> tuple[dict[str, ModelAnswer], dict[str, str], float]:
    """Wait on started calls (provider → handle) for the quorum; see `FanOut.run`."""
    pending = {handle: provider for provider, handle in handles.items()}
    return FanOut(
        calls, pending, clock=clock or SystemClock(), required=required, deadline_s=deadline_s, grace_s=grace_s,
        deadlines=deadlines or {},
    ).run()


def analyze_providers(
    calls: ProviderCalls[Any],
    envelopes: Mapping[str, AgentRequest[AnalysisRequest]],
    *,
    required: int,
    deadline_s: float,
    grace_s: float,
    deadlines: Mapping[str, float] | None = None,
    clock: Clock | None = None,
) -> tuple[list[ModelAnswer], QuorumDecision]:
    """Ask every configured provider within the job's cost budget, wait for the quorum, and decide on it.

    `deadlines` gives providers a shorter deadline of their own (seconds from the start): past it,
    that provider's call is cancelled and it counts as timed out, whatever the others do.
    """
    reasons = {p: "not configured" for p in envelopes if not calls.configured(p)}
    sending = {p: e for p, e in envelopes.items() if p not in reasons}
    budget = next((e.payload.cost_budget_usd for e in envelopes.values() if e.payload.cost_budget_usd is not None), None)
    if budget is not None:
        estimates = {p: calls.estimate(p, e.payload) for p, e in sending.items()}
        allowances, skipped = plan_budget(list(sending), estimates, budget)
        reasons.update(skipped)
        sending = {
            p: e.model_copy(update={"payload": e.payload.model_copy(update={"cost_budget_usd": allowances[p]})})
            for p, e in sending.items() if p in allowances
        }
    handles = {p: calls.start(p, e) for p, e in sending.items()}
    answers, missed, waited = fan_out(
        calls, handles, required=required, deadline_s=deadline_s, grace_s=grace_s, deadlines=deadlines, clock=clock
    )
    decision = decide_quorum(
        providers=list(envelopes), answers=answers, missing_reasons={**reasons, **missed}, required=required,
        deadline_s=deadline_s, grace_s=grace_s, waited_s=waited, cost_budget_usd=budget,
    )
    return [answers[p] for p in envelopes if p in answers], decision
