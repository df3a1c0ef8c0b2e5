"""The orchestrator's agents as Ray actor handles: calls with timeouts, the quorum fan-out over `ray.wait`."""

from __future__ import annotations

import time
import zlib
from collections.abc import Mapping
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError, TaskCancelledError

from actors.orchestrator.ports import Agents, AnalyzeOutput, CollectOutput, RedactOutput, merge_analysis
from actors.quorum import decide_quorum, plan_budget
from schemas import AgentError, AgentRequest, Artifact, Brief, Evidence, MergeResult, MkaError, ModelAnswer
from schemas.pipeline import AnalysisRequest, CollectRequest, ReportInput

__all__ = ["RayAgents", "fan_out"]


def _get(ref: ray.ObjectRef, envelope: AgentRequest[Any]) -> Any:
    """`ray.get` bounded by the envelope's deadline; Ray failures become agent errors."""
    timeout = max(0.01, envelope.deadline.timestamp() - time.time())
    try:
        return ray.get(ref, timeout=timeout)
    except GetTimeoutError as exc:
        ray.cancel(ref)
        raise AgentError(f"{envelope.step} did not answer within {timeout:.1f}s", retryable=True) from exc
    except RayTaskError as exc:
        cause = exc.cause if isinstance(getattr(exc, "cause", None), BaseException) else None
        if isinstance(cause, MkaError):
            raise cause from exc
        raise AgentError(f"{envelope.step} agent failed: {type(cause or exc).__name__}", retryable=True) from exc
    except RayActorError as exc:
        raise AgentError(f"{envelope.step} agent died; it restarts and the step retries", retryable=True) from exc


def fan_out(
    calls: dict[str, ray.ObjectRef],
    *,
    required: int,
    deadline_s: float,
    grace_s: float,
    deadlines: Mapping[str, float] | None = None,
) -> tuple[dict[str, ModelAnswer], dict[str, str], float]:
    """Wait for `required` ok answers by the deadline, then up to `grace_s` for the rest; cancel stragglers.

    `deadlines` gives providers a shorter deadline of their own (seconds from now): past it, the
    provider's call is cancelled and it counts as timed out, whatever the others do.
    Returns the answers that came back, a reason for every provider without one, and the time waited.
    """
    start = time.monotonic()
    pending = {ref: provider for provider, ref in calls.items()}
    own = {p: d for p, d in (deadlines or {}).items() if p in calls and d < deadline_s}
    answers: dict[str, ModelAnswer] = {}
    reasons: dict[str, str] = {}

    def take(ready: list[ray.ObjectRef]) -> None:
        for ref in ready:
            provider = pending.pop(ref)
            try:
                answers[provider] = ray.get(ref)
            except RayActorError:
                reasons[provider] = "agent actor died during the call"
            except TaskCancelledError:
                reasons[provider] = "cancelled"
            except RayTaskError as exc:
                reasons[provider] = f"agent failed: {type(getattr(exc, 'cause', exc)).__name__}"

    def expire(now: float) -> None:
        for ref, provider in list(pending.items()):
            if provider in own and now >= own[provider]:
                pending.pop(ref)
                ray.cancel(ref)
                reasons[provider] = f"no answer by its own {own[provider]:g}s deadline"

    def ok() -> int:
        return sum(1 for a in answers.values() if a.status == "ok")

    def wait(limit: float, num_returns: int) -> list[ray.ObjectRef]:
        elapsed = time.monotonic() - start
        cut = min([limit] + [own[p] for p in pending.values() if p in own]) - elapsed
        ready, _ = ray.wait(list(pending), num_returns=min(num_returns, len(pending)), timeout=max(0.0, cut))
        take(ready)
        expire(time.monotonic() - start)
        return ready

    while pending and ok() < required:
        if deadline_s - (time.monotonic() - start) <= 0:
            break
        if not wait(deadline_s, required - ok()) and time.monotonic() - start >= deadline_s:
            break
    grace_end = time.monotonic() - start + grace_s
    while pending and ok() >= required and grace_s > 0 and time.monotonic() - start < grace_end:
        wait(grace_end, len(pending))
    for ref, provider in pending.items():
        ray.cancel(ref)
        if ok() >= required:
            reasons[provider] = f"cancelled: no answer within the {deadline_s:g}s deadline plus {grace_s:g}s grace after quorum"
        else:
            reasons[provider] = f"no answer by the {deadline_s:g}s deadline"
    return answers, reasons, time.monotonic() - start


_OWN_DEADLINE_MARGIN_S = 0.25  # an envelope deadline this much before the quorum's is the provider's own


def _seconds_left(envelope: AgentRequest[Any]) -> float:
    return envelope.deadline.timestamp() - time.time()


class RayAgents(Agents):
    """Agents behind named Ray actor handles; merge runs in-process (pure and cheap)."""

    def __init__(self, *, pii: Any, collector: Any, llms: dict[str, Any], report: Any | list[Any]) -> None:
        self.pii = pii
        self.collector = collector
        self.llms = llms
        self.reports = report if isinstance(report, list) else [report]

    def redact_brief(self, envelope: AgentRequest[Brief], vault: bytes | None) -> tuple[RedactOutput, bytes]:
        """Pseudonymize the brief on the PII actor."""
        return _get(self.pii.redact_brief.remote(envelope, vault), envelope)

    def collect(self, envelope: AgentRequest[CollectRequest]) -> list[Evidence]:
        """Collect evidence on the data collection actor."""
        return _get(self.collector.collect.remote(envelope), envelope)

    def redact_evidence(
        self, envelope: AgentRequest[list[Evidence]], vault: bytes, allow: list[str]
    ) -> tuple[CollectOutput, bytes]:
        """Pseudonymize evidence on the PII actor."""
        return _get(self.pii.redact_evidence.remote(envelope, vault, allow), envelope)

    def analyze(
        self, envelopes: dict[str, AgentRequest[AnalysisRequest]], *, required: int, deadline_s: float, grace_s: float
    ) -> AnalyzeOutput:
        """Fan out to every configured LLM actor within the cost budget and decide on the quorum.

        Envelopes whose deadline is earlier than the quorum deadline set that provider's own deadline.
        """
        own_deadlines = {p: left for p, e in envelopes.items() if (left := _seconds_left(e)) < deadline_s - _OWN_DEADLINE_MARGIN_S}
        reasons: dict[str, str] = {}
        handles = {}
        for provider in envelopes:
            handle = self.llms.get(provider)
            if handle is None:
                reasons[provider] = "not configured"
            else:
                handles[provider] = handle
        budget = next((e.payload.cost_budget_usd for e in envelopes.values() if e.payload.cost_budget_usd is not None), None)
        sending = {p: envelopes[p] for p in handles}
        if budget is not None:
            allowances, skipped = plan_budget(list(sending), self._estimates(handles, sending), budget)
            reasons.update(skipped)
            sending = {
                p: e.model_copy(update={"payload": e.payload.model_copy(update={"cost_budget_usd": allowances[p]})})
                for p, e in sending.items() if p in allowances
            }
        calls = {p: handles[p].analyze.remote(e) for p, e in sending.items()}
        answers, missed, waited = fan_out(
            calls, required=required, deadline_s=deadline_s, grace_s=grace_s,
            deadlines={p: d for p, d in own_deadlines.items() if p in calls},
        )
        decision = decide_quorum(
            providers=list(envelopes),
            answers=answers,
            missing_reasons={**reasons, **missed},
            required=required,
            deadline_s=deadline_s,
            grace_s=grace_s,
            waited_s=waited,
            cost_budget_usd=budget,
        )
        ordered = [answers[p] for p in envelopes if p in answers]
        return AnalyzeOutput(answers=ordered, quorum=decision)

    @staticmethod
    def _estimates(handles: dict[str, Any], envelopes: dict[str, AgentRequest[AnalysisRequest]]) -> dict[str, float]:
        """Each provider's upper cost estimate for one call (0 when its actor cannot say in time)."""
        refs = {p: handles[p].estimate_cost.remote(e.payload) for p, e in envelopes.items()}
        out: dict[str, float] = {}
        for provider, ref in refs.items():
            try:
                out[provider] = float(ray.get(ref, timeout=10))
            except (GetTimeoutError, RayActorError, RayTaskError, AttributeError):
                out[provider] = 0.0
        return out

    def merge(self, envelope: AgentRequest[AnalyzeOutput], evidence: list[Evidence]) -> MergeResult:
        """Merge the answers (in-process: pure and cheap)."""
        return merge_analysis(envelope.payload, evidence)

    def render(self, envelope: AgentRequest[ReportInput]) -> list[Artifact]:
        """Render the report on one of the report actors (the same one for a job's retries)."""
        actor = self.reports[zlib.crc32(envelope.job_id.encode()) % len(self.reports)]
        return _get(actor.render.remote(envelope), envelope)
