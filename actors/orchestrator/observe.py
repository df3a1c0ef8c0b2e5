"""Ports for observing the pipeline: step spans and metrics (no-op defaults; cluster supplies real ones)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["Metrics", "Tracer"]


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
