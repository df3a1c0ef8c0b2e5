"""The orchestrator's agents as Ray actor handles: calls with timeouts, the quorum fan-out over `ray.wait`."""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from typing import Any

import ray
from ray.exceptions import (
    GetTimeoutError,
    RayActorError,
    RayTaskError,
    TaskCancelledError,
)

from actors.clock import Clock, SystemClock
from actors.orchestrator.fanout import CallFailed, ProviderCalls, analyze_providers
from actors.orchestrator.ports import (
    Agents,
    AnalyzeOutput,
    CollectOutput,
    RedactOutput,
    merge_analysis,
)
from schemas import (
    AgentError,
    AgentRequest,
    Artifact,
    Brief,
    Evidence,
    MergeResult,
    MkaError,
    ModelAnswer,
)
from schemas.pipeline import AnalysisRequest, CollectRequest, ReportInput

__all__ = ["RayAgents", "RayCalls", "ray_result", "unwrap_ray_error"]


def unwrap_ray_error(exc: BaseException) -> BaseException | None:
    """The exception a Ray task raised inside the worker (a `RayTaskError`'s cause), or None."""
    cause = getattr(exc, "cause", None)
    return cause if isinstance(cause, BaseException) else None


def ray_result(ref: ray.ObjectRef, *, timeout: float | None = None) -> Any:
    """`ray.get` that raises the remote side's own `MkaError` rather than Ray's wrapper of it."""
    try:
        return ray.get(ref, timeout=timeout)
    except RayTaskError as exc:
        cause = unwrap_ray_error(exc)
        if isinstance(cause, MkaError):
            raise cause from None
        raise


def _get(ref: ray.ObjectRef, envelope: AgentRequest[Any], clock: Clock) -> Any:
    """`ray.get` bounded by the envelope's deadline (on the clock that set it); Ray failures become agent errors."""
    timeout = max(0.01, (envelope.deadline - clock.now()).total_seconds())
    try:
        return ray.get(ref, timeout=timeout)
    except GetTimeoutError as exc:
        ray.cancel(ref)
        raise AgentError(f"{envelope.step} did not answer within {timeout:.1f}s", retryable=True) from exc
    except RayTaskError as exc:
        cause = unwrap_ray_error(exc)
        if isinstance(cause, MkaError):
            raise cause from exc
        raise AgentError(f"{envelope.step} agent failed: {type(cause or exc).__name__}", retryable=True) from exc
    except RayActorError as exc:
        raise AgentError(f"{envelope.step} agent died; it restarts and the step retries", retryable=True) from exc


class RayCalls(ProviderCalls[ray.ObjectRef]):
    """The fan-out primitive on Ray: LLM actor calls as object refs, waited on with `ray.wait`."""

    def __init__(self, llms: Mapping[str, Any]) -> None:
        self.llms = llms

    def configured(self, provider: str) -> bool:
        """True when the provider has an actor."""
        return provider in self.llms

    def estimate(self, provider: str, request: AnalysisRequest) -> float:
        """The actor's upper cost estimate of one call (0 when it cannot say in time)."""
        try:
            return float(ray.get(self.llms[provider].estimate_cost.remote(request), timeout=10))
        except (GetTimeoutError, RayActorError, RayTaskError, AttributeError):
            return 0.0

    def start(self, provider: str, envelope: AgentRequest[AnalysisRequest]) -> ray.ObjectRef:
        """Call the provider's actor."""
        return self.llms[provider].analyze.remote(envelope)

    def wait(self, handles: Sequence[ray.ObjectRef], num_returns: int, timeout_s: float) -> list[ray.ObjectRef]:
        """`ray.wait` for `num_returns` refs or the timeout."""
        ready, _ = ray.wait(list(handles), num_returns=num_returns, timeout=timeout_s)
        return list(ready)

    def result(self, handle: ray.ObjectRef) -> ModelAnswer:
        """The answer, or `CallFailed` with the reason."""
        try:
            return ray.get(handle)  # type: ignore[no-any-return]
        except RayActorError as exc:
            raise CallFailed("agent actor died during the call") from exc
        except TaskCancelledError as exc:
            raise CallFailed("cancelled") from exc
        except RayTaskError as exc:
            raise CallFailed(f"agent failed: {type(unwrap_ray_error(exc) or exc).__name__}") from exc

    def cancel(self, handle: ray.ObjectRef) -> None:
        """Cancel the actor call."""
        ray.cancel(handle)


class RayAgents(Agents):
    """Agents behind named Ray actor handles; merge runs in-process (pure and cheap)."""

    def __init__(
        self, *, pii: Any, collector: Any, llms: dict[str, Any], report: Any | list[Any], clock: Clock | None = None
    ) -> None:
        self.clock = clock or SystemClock()
        self.pii = pii
        self.collector = collector
        self.llms = llms
        self.reports = report if isinstance(report, list) else [report]

    def redact_brief(self, envelope: AgentRequest[Brief], vault: bytes | None) -> tuple[RedactOutput, bytes]:
        """Pseudonymize the brief on the PII actor."""
        return _get(self.pii.redact_brief.remote(envelope, vault), envelope, self.clock)

    def collect(self, envelope: AgentRequest[CollectRequest]) -> list[Evidence]:
        """Collect evidence on the data collection actor."""
        return _get(self.collector.collect.remote(envelope), envelope, self.clock)

    def redact_evidence(
        self, envelope: AgentRequest[list[Evidence]], vault: bytes, allow: list[str]
    ) -> tuple[CollectOutput, bytes]:
        """Pseudonymize evidence on the PII actor."""
        return _get(self.pii.redact_evidence.remote(envelope, vault, allow), envelope, self.clock)

    def analyze(
        self, envelopes: dict[str, AgentRequest[AnalysisRequest]], *, required: int, deadline_s: float, grace_s: float,
        deadlines: Mapping[str, float] | None = None,
    ) -> AnalyzeOutput:
        """Fan out to every configured LLM actor within the cost budget (the one fan-out, over `ray.wait`)."""
        answers, decision = analyze_providers(
            RayCalls(self.llms), envelopes, required=required, deadline_s=deadline_s, grace_s=grace_s,
            deadlines=deadlines, clock=self.clock,
        )
        return AnalyzeOutput(answers=answers, quorum=decision)

    def merge(self, envelope: AgentRequest[AnalyzeOutput], evidence: list[Evidence]) -> MergeResult:
        """Merge the answers (in-process: pure and cheap)."""
        return merge_analysis(envelope.payload, evidence)

    def render(self, envelope: AgentRequest[ReportInput]) -> list[Artifact]:
        """Render the report on one of the report actors (the same one for a job's retries)."""
        actor = self.reports[zlib.crc32(envelope.job_id.encode()) % len(self.reports)]
        return _get(actor.render.remote(envelope), envelope, self.clock)
