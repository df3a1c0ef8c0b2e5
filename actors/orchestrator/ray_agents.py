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
from actors.orchestrator.fanout import CallFailed, ProviderCalls
from actors.orchestrator.ports import (
    Agents,
)
from schemas import (
    AgentError,
    AgentRequest,
    Artifact,
    MkaError,
    ModelAnswer,
)
from schemas.pipeline import AnalysisRequest, ReportInput

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
        return ray_result(ref, timeout=timeout)  # an agent's own MkaError comes through as itself
    except GetTimeoutError as exc:
        ray.cancel(ref)
        raise AgentError(f"{envelope.step} did not answer within {timeout:.1f}s", retryable=True) from exc
    except RayTaskError as exc:
        cause = unwrap_ray_error(exc)
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
    """Agents behind named Ray actor handles, by role (a role with a list of handles is a pool)."""

    def __init__(self, *, roles: dict[str, Any], llms: dict[str, Any], clock: Clock | None = None) -> None:
        self.clock = clock or SystemClock()
        self.roles = roles
        self.llms = llms

    def _handle(self, role: str, envelope: AgentRequest[Any]) -> Any:
        """The role's actor; in a pool, chosen by the envelope's idempotency key, so retries of a call land on the
        same actor and different calls of one job (each locale's report) spread over the pool."""
        handle = self.roles[role]
        if isinstance(handle, list):
            handle = handle[zlib.crc32(envelope.idempotency_key.encode()) % len(handle)]
        return handle

    def call(self, role: str, method: str, envelope: AgentRequest[Any], *args: Any) -> Any:
        """Call the role's actor (a pool's actor by the envelope's idempotency key)."""
        return _get(getattr(self._handle(role, envelope), method).remote(envelope, *args), envelope, self.clock)

    def render_many(self, envelopes: Sequence[AgentRequest[ReportInput]]) -> list[list[Artifact]]:
        """All the reports at once: the report pool renders them in parallel."""
        refs = [self._handle("report", e).render.remote(e) for e in envelopes]
        return [_get(ref, e, self.clock) for ref, e in zip(refs, envelopes)]

    def provider_calls(self) -> RayCalls:
        """`ray.wait` over the LLM actors."""
        return RayCalls(self.llms)
