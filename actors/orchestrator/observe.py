"""Ports for observing the pipeline: step spans and metrics (no-op defaults; cluster supplies real ones)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

__all__ = ["Metrics", "Tracer", "sample"]


class Tracer:
    """Opens a span per step; the default records nothing and hands the parent context on."""

    @contextmanager
    def span(self, name: str, *, traceparent: str | None, **attrs: Any) -> Iterator[str | None]:
        """Open a child span of `traceparent`; yield the traceparent to hand to agents."""
        yield traceparent


class Metrics:
    """Counts and timings the orchestrator reports; the default drops them."""

    def job_state(self, state: str) -> None:
        """A job entered `state`."""

    def step_latency(self, step: str, seconds: float, outcome: str) -> None:
        """One step attempt took `seconds`."""

    def provider_outcome(self, provider: str, status: str) -> None:
        """A provider's answer ended with `status`."""

    def quorum(self, outcome: str) -> None:
        """A quorum decision: met, degraded or failed."""

    def running(self, count: int) -> None:
        """Jobs running in this orchestrator now."""

    def job_finished(self, outcome: str, seconds: float) -> None:
        """A job this orchestrator ran ended after `seconds` from its submit: `completed`, `degraded`, `cancelled`,
        `below_quorum` (failed because too few providers answered) or `failed` (any other failure)."""

    def quorum_wait(self, seconds: float) -> None:
        """The analysis step waited `seconds` for its providers' answers."""

    def llm_usage(self, provider: str, tokens: int, cost_usd: float) -> None:
        """A provider's answers in one job used `tokens` and cost `cost_usd`."""

    def jobs_in_state(self, counts: dict[str, int]) -> None:
        """How many jobs are in each state now (every state of the pipeline, zeros included)."""

    def outbox(self, backlog: int, lag_s: float) -> None:
        """Outbox rows waiting for the relay, and the age of the oldest (0 when none waits)."""


def sample(store: Any, metrics: Metrics, now: datetime, states: list[str]) -> tuple[int, float]:
    """Read the store's gauges (jobs per state, the outbox backlog and the relay's lag) into `metrics` at `now`;
    return the backlog and the lag in seconds."""
    counts = store.job_counts()
    metrics.jobs_in_state({state: counts.get(state, 0) for state in states})
    backlog, oldest = store.outbox_backlog()
    lag = max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0
    metrics.outbox(backlog, lag)
    return backlog, lag
