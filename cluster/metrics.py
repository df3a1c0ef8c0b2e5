"""Adapters for the orchestrator's observation ports: Ray metrics (Prometheus) and OpenTelemetry spans."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from actors.orchestrator.observe import Metrics, Tracer
from cluster.tracing import current_traceparent, span

__all__ = ["OtelTracer", "RayMetrics"]

_LATENCY_BOUNDS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120]
_JOB_BOUNDS = [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600]


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
        self._duration = Histogram(
            "mka_job_duration_seconds", description="Submit to end of a job, by outcome.",
            boundaries=_JOB_BOUNDS, tag_keys=("outcome",),
        )
        self._quorum_wait = Histogram("mka_quorum_wait_seconds", description="The analysis step's wait for answers.",
                                      boundaries=_LATENCY_BOUNDS)
        self._tokens = Counter("mka_llm_tokens", description="LLM tokens used, by provider.", tag_keys=("provider",))
        self._cost = Counter("mka_llm_cost_usd", description="LLM spend in USD, by provider.", tag_keys=("provider",))
        self._states = Gauge("mka_jobs", description="Jobs in each state (from the job store).", tag_keys=("state",))
        self._backlog = Gauge("mka_outbox_backlog", description="Outbox rows waiting for the relay.")
        self._lag = Gauge("mka_relay_lag_seconds", description="Age of the oldest outbox row the relay has not published.")

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

    def job_finished(self, outcome: str, seconds: float) -> None:
        """Observe a job's end-to-end latency."""
        self._duration.observe(seconds, tags={"outcome": outcome})

    def quorum_wait(self, seconds: float) -> None:
        """Observe the analysis step's wait."""
        self._quorum_wait.observe(seconds)

    def llm_usage(self, provider: str, tokens: int, cost_usd: float) -> None:
        """Count a provider's tokens and spend."""
        if tokens:
            self._tokens.inc(tokens, tags={"provider": provider})
        if cost_usd:
            self._cost.inc(cost_usd, tags={"provider": provider})

    def jobs_in_state(self, counts: dict[str, int]) -> None:
        """Set the jobs-per-state gauge."""
        for state, count in counts.items():
            self._states.set(count, tags={"state": state})

    def outbox(self, backlog: int, lag_s: float) -> None:
        """Set the outbox backlog and relay lag gauges."""
        self._backlog.set(backlog)
        self._lag.set(lag_s)
