"""Every agent in this process, no Ray: notebooks without a cluster, golden tests, benchmarks."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, wait
from typing import Any, TypeVar

from actors.data_collection import DataCollectionAgent
from actors.llm.base import LlmAgent
from actors.mcp import DiscoveryCache, ResourceBroker
from actors.orchestrator.fanout import CallFailed, ProviderCalls, analyze_providers
from actors.orchestrator.ports import (
    Agents,
    AnalyzeOutput,
    CollectOutput,
    RedactOutput,
    merge_analysis,
)
from actors.pii.service import PiiService
from actors.report import ReportAgent
from schemas import AgentRequest, Artifact, Brief, Evidence, MergeResult, ModelAnswer
from schemas.pipeline import AnalysisRequest, CollectRequest, ReportInput

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
    """The pipeline's agents as plain objects; async ones run on a private event loop thread."""

    def __init__(
        self, *, pii: PiiService, cache: DiscoveryCache, broker: ResourceBroker, collector: DataCollectionAgent,
        llms: dict[str, LlmAgent], report: ReportAgent,
    ) -> None:
        """Take the agents the composition root built (`cluster.bootstrap.build_local_agents`)."""
        self._loop = LoopThread()
        self.pii, self.cache, self.broker, self.collector = pii, cache, broker, collector
        self.llms, self.report = llms, report

    def _await(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._loop.run(coro)

    def close(self) -> None:
        """Stop MCP sessions and the event loop."""
        self._await(self.broker.close())
        self._await(self.cache.close())
        self._loop.close()

    def redact_brief(self, envelope: AgentRequest[Brief], vault: bytes | None) -> tuple[RedactOutput, bytes]:
        """Pseudonymize the brief with the job's vault."""
        return self.pii.redact_brief(envelope, vault)

    def collect(self, envelope: AgentRequest[CollectRequest]) -> list[Evidence]:
        """Collect evidence through the in-process broker."""
        return self._await(self.collector.collect(envelope.payload))

    def redact_evidence(
        self, envelope: AgentRequest[list[Evidence]], vault: bytes, allow: list[str]
    ) -> tuple[CollectOutput, bytes]:
        """Pseudonymize evidence with the job's vault."""
        return self.pii.redact_evidence(envelope, vault, allow)

    def analyze(
        self, envelopes: dict[str, AgentRequest[AnalysisRequest]], *, required: int, deadline_s: float, grace_s: float,
        deadlines: Mapping[str, float] | None = None,
    ) -> AnalyzeOutput:
        """Ask every LLM agent at once (the one fan-out, over futures on this process's event loop)."""
        calls = LocalCalls(self.llms, self._loop.submit)
        answers, decision = analyze_providers(
            calls, envelopes, required=required, deadline_s=deadline_s, grace_s=grace_s, deadlines=deadlines
        )
        return AnalyzeOutput(answers=answers, quorum=decision)

    def merge(self, envelope: AgentRequest[AnalyzeOutput], evidence: list[Evidence]) -> MergeResult:
        """Merge the answers."""
        return merge_analysis(envelope.payload, evidence)

    def render(self, envelope: AgentRequest[ReportInput]) -> list[Artifact]:
        """Render and store the report."""
        return self.report.render(envelope.payload)
