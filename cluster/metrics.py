"""Adapters for the orchestrator's observation ports: Ray metrics (Prometheus) and OpenTelemetry spans."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from actors.orchestrator.observe import Metrics, Tracer
from cluster.tracing import current_traceparent, span

__all__ = ["OtelTracer", "RayMetrics"]

_LATENCY_BOUNDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120]


class OtelTracer(Tracer):
    """Step spans through `cluster.tracing` (attributes allow-listed there)."""

    @contextmanager
    def span(self, name: str, *, traceparent: str | None, **attrs: Any) -> Iterator[str | None]:
        """Open a child span of the job's root span; yield its traceparent."""
        with span(name, traceparent=traceparent, **attrs):
            yield current_traceparent()


class RayMetrics(Metrics):
    """Metrics on Ray's Prometheus endpoint (`ray.util.metrics`)."""

    def __init__(self) -> None:
        from ray.util.metrics import Counter, Gauge, Histogram

        self._jobs = Counter("mka_job_transitions", description="Jobs entering a state.", tag_keys=("state",))
        self._steps = Histogram(
            "mka_step_latency_seconds", description="Pipeline step attempt latency.",
            boundaries=_LATENCY_BOUNDS, tag_keys=("step", "outcome"),
        )
        self._providers = Counter("mka_provider_outcomes", description="LLM provider outcomes.", tag_keys=("provider", "status"))
        self._quorum = Counter("mka_quorum_decisions", description="Quorum decisions.", tag_keys=("outcome",))
        self._running = Gauge("mka_jobs_running", description="Jobs running in the orchestrator.")

    def job_state(self, state: str) -> None:
        """Count a job entering `state`."""
        self._jobs.inc(tags={"state": state})

    def step_latency(self, step: str, seconds: float, outcome: str) -> None:
        """Observe one step attempt."""
        self._steps.observe(seconds, tags={"step": step, "outcome": outcome})

    def provider_outcome(self, provider: str, status: str) -> None:
        """Count a provider outcome."""
        self._providers.inc(tags={"provider": provider, "status": status})

    def quorum(self, outcome: str) -> None:
        """Count a quorum decision."""
        self._quorum.inc(tags={"outcome": outcome})

    def running(self, count: int) -> None:
        """Set the running-jobs gauge."""
        self._running.set(count)
