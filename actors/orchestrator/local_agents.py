"""Every agent in this process, no Ray: notebooks without a cluster, golden tests, benchmarks."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, wait
from typing import Any, TypeVar

from actors.llm.base import LlmAgent
from actors.orchestrator.fanout import CallFailed, ProviderCalls
from actors.orchestrator.ports import (
    Agents,
)
from schemas import AgentRequest, ModelAnswer
from schemas.pipeline import AnalysisRequest

__all__ = ["LocalAgents", "LocalCalls", "LoopThread"]

T = TypeVar("T")



class LoopThread:
    """A private event loop on a daemon thread: sync code submits coroutines to it."""

    def __init__(self, name: str = "mka-local-agents") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        """Schedule a coroutine; return its future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine to its end and return its result."""
        return self.submit(coro).result()

    def close(self) -> None:
        """Stop the loop and its thread."""
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)


class LocalCalls(ProviderCalls[Future[ModelAnswer]]):
    """The fan-out primitive in-process: LLM agent coroutines as futures, waited on together."""

    def __init__(self, llms: Mapping[str, LlmAgent], submit: Callable[[Coroutine[Any, Any, ModelAnswer]], Future[ModelAnswer]]) -> None:
        self.llms, self.submit = llms, submit

    def configured(self, provider: str) -> bool:
        """True when the provider has an agent here."""
        return provider in self.llms

    def estimate(self, provider: str, request: AnalysisRequest) -> float:
        """The agent's upper cost estimate of one call."""
        return float(self.llms[provider].estimate_cost(request))

    def start(self, provider: str, envelope: AgentRequest[AnalysisRequest]) -> Future[ModelAnswer]:
        """Schedule the agent's call on the event loop."""
        return self.submit(self.llms[provider].analyze(envelope))

    def wait(self, handles: Sequence[Future[ModelAnswer]], num_returns: int, timeout_s: float) -> list[Future[ModelAnswer]]:
        """Wait until `num_returns` futures are done or the timeout passes."""
        deadline = time.monotonic() + timeout_s
        while True:
            done = [h for h in handles if h.done()]
            left = deadline - time.monotonic()
            if len(done) >= num_returns or left <= 0:
                return done
            wait([h for h in handles if not h.done()], timeout=left, return_when=FIRST_COMPLETED)

    def result(self, handle: Future[ModelAnswer]) -> ModelAnswer:
        """The answer, or `CallFailed` with the reason."""
        try:
            return handle.result(timeout=0)
        except CancelledError as exc:
            raise CallFailed("cancelled") from exc
        except Exception as exc:
            raise CallFailed(f"agent failed: {type(exc).__name__}") from exc

    def cancel(self, handle: Future[ModelAnswer]) -> None:
        """Cancel the future (and with it the coroutine's task)."""
        handle.cancel()


class LocalAgents(Agents):
    """The pipeline's agents as plain objects, by role; coroutines run on a private event loop thread."""

    def __init__(self, *, roles: dict[str, Any], llms: dict[str, LlmAgent], closers: Sequence[Any] = ()) -> None:
        """Take the roles the composition root built (`cluster.bootstrap.build_local_agents`)."""
        self._loop = LoopThread()
        self.roles, self.llms, self._closers = roles, llms, list(closers)

    def call(self, role: str, method: str, envelope: AgentRequest[Any], *args: Any) -> Any:
        """Call the role's method here (awaited on the loop when it is a coroutine)."""
        result = getattr(self.roles[role], method)(envelope, *args)
        return self._loop.run(result) if inspect.iscoroutine(result) else result

    def provider_calls(self) -> LocalCalls:
        """Futures on this process's loop over the LLM agents."""
        return LocalCalls(self.llms, self._loop.submit)

    def close(self) -> None:
        """Stop MCP sessions and the event loop."""
        for closer in self._closers:
            self._loop.run(closer.close())
        self._loop.close()
