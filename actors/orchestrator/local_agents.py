"""Every agent in this process, no Ray: notebooks without a cluster, golden tests, benchmarks."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Coroutine
from typing import Any, TypeVar

from actors.data_collection import DataCollectionAgent
from actors.llm.base import LlmAgent
from actors.mcp import DiscoveryCache, ResourceBroker
from actors.orchestrator.ports import Agents, AnalyzeOutput, CollectOutput, RedactOutput, merge_analysis
from actors.pii import Keyring, PiiAgent, Vault
from actors.quorum import decide_quorum
from actors.report import ReportAgent
from schemas import AgentRequest, Artifact, Brief, Evidence, MergeResult, ModelAnswer
from schemas.pipeline import AnalysisRequest, CollectRequest, ReportInput

__all__ = ["LocalAgents"]

T = TypeVar("T")



class LocalAgents(Agents):
    """The pipeline's agents as plain objects; async ones run on a private event loop thread."""

    def __init__(
        self,
        *,
        objects: Any,
        keyring: Keyring,
        mcp_servers: dict[str, dict[str, Any]],
        llms: dict[str, LlmAgent],
        mcp_timeout_s: float = 20.0,
        pdf: bool = True,
    ) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="mka-local-agents", daemon=True)
        self._thread.start()
        self._keyring = keyring
        self.pii = PiiAgent()
        self.cache = DiscoveryCache(mcp_servers, timeout_s=mcp_timeout_s)
        self.broker = ResourceBroker(mcp_servers, self.cache, timeout_s=mcp_timeout_s)
        self.collector = DataCollectionAgent(self.broker)
        self.llms = llms
        self.report = ReportAgent(objects, pdf=pdf)

    def _await(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def close(self) -> None:
        """Stop MCP sessions and the event loop."""
        self._await(self.broker.close())
        self._await(self.cache.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def redact_brief(self, envelope: AgentRequest[Brief], vault: bytes | None) -> tuple[RedactOutput, bytes]:
        """Pseudonymize the brief with the job's vault."""
        job_id = envelope.job_id
        v = Vault.decrypt(vault, self._keyring, job_id) if vault else Vault()
        brief = self.pii.redact_brief(envelope.payload, v)
        return RedactOutput(brief=brief, entities=dict(Counter(v.placeholders().values()))), v.encrypt(self._keyring, job_id)

    def collect(self, envelope: AgentRequest[CollectRequest]) -> list[Evidence]:
        """Collect evidence through the in-process broker."""
        return self._await(self.collector.collect(envelope.payload))

    def redact_evidence(
        self, envelope: AgentRequest[list[Evidence]], vault: bytes, allow: list[str]
    ) -> tuple[CollectOutput, bytes]:
        """Pseudonymize evidence with the job's vault."""
        v = Vault.decrypt(vault, self._keyring, envelope.job_id)
        items = self.pii.redact_evidence(envelope.payload, v, allow=allow)
        entities = dict(Counter(v.placeholders().values()))
        return CollectOutput(evidence=items, entities=entities), v.encrypt(self._keyring, envelope.job_id)

    def analyze(
        self, envelopes: dict[str, AgentRequest[AnalysisRequest]], *, required: int, deadline_s: float, grace_s: float
    ) -> AnalyzeOutput:
        """Ask every LLM agent at once; stop at quorum plus grace, or at the deadline."""
        answers, reasons, waited = self._await(self._fan_out(envelopes, required, deadline_s, grace_s))
        decision = decide_quorum(
            providers=list(envelopes), answers=answers, missing_reasons=reasons,
            required=required, deadline_s=deadline_s, grace_s=grace_s, waited_s=waited,
        )
        return AnalyzeOutput(answers=[answers[p] for p in envelopes if p in answers], quorum=decision)

    async def _fan_out(
        self, envelopes: dict[str, AgentRequest[AnalysisRequest]], required: int, deadline_s: float, grace_s: float
    ) -> tuple[dict[str, ModelAnswer], dict[str, str], float]:
        start = time.monotonic()
        reasons = {p: "not configured" for p in envelopes if p not in self.llms}
        tasks = {asyncio.ensure_future(self.llms[p].analyze(e)): p for p, e in envelopes.items() if p in self.llms}
        answers: dict[str, ModelAnswer] = {}
        pending = set(tasks)

        def ok() -> int:
            return sum(a.status == "ok" for a in answers.values())

        while pending and ok() < required:
            left = deadline_s - (time.monotonic() - start)
            if left <= 0:
                break
            done, pending = await asyncio.wait(pending, timeout=left, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                answers[tasks[task]] = task.result()
        if pending and ok() >= required and grace_s > 0:
            done, pending = await asyncio.wait(pending, timeout=grace_s)
            for task in done:
                answers[tasks[task]] = task.result()
        for task in pending:
            task.cancel()
            reasons[tasks[task]] = (
                f"cancelled: no answer within the {deadline_s:g}s deadline plus {grace_s:g}s grace after quorum"
                if ok() >= required else f"no answer by the {deadline_s:g}s deadline"
            )
        return answers, reasons, time.monotonic() - start

    def merge(self, envelope: AgentRequest[AnalyzeOutput], evidence: list[Evidence]) -> MergeResult:
        """Merge the answers."""
        return merge_analysis(envelope.payload, evidence)

    def render(self, envelope: AgentRequest[ReportInput]) -> list[Artifact]:
        """Render and store the report."""
        return self.report.render(envelope.payload)
