"""The orchestrator's agents as Ray actor handles: calls with timeouts, the quorum fan-out over `ray.wait`."""

from __future__ import annotations

import time
from typing import Any

import ray
from ray.exceptions import GetTimeoutError, RayActorError, RayTaskError, TaskCancelledError

from actors.merge import merge_answers
from actors.orchestrator.ports import Agents, AnalyzeOutput, CollectOutput, RedactOutput
from actors.quorum import decide_quorum
from schemas import AgentError, AgentRequest, Artifact, Brief, Evidence, MergeResult, MkaError, ModelAnswer, Quorum
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
    calls: dict[str, ray.ObjectRef], *, required: int, deadline_s: float, grace_s: float
) -> tuple[dict[str, ModelAnswer], dict[str, str], float]:
    """Wait for `required` ok answers by the deadline, then up to `grace_s` for the rest; cancel stragglers.

    Returns the answers that came back, a reason for every provider without one, and the time waited.
    """
    start = time.monotonic()
    pending = {ref: provider for provider, ref in calls.items()}
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

    def ok() -> int:
        return sum(1 for a in answers.values() if a.status == "ok")

    while pending and ok() < required:
        left = deadline_s - (time.monotonic() - start)
        if left <= 0:
            break
        ready, _ = ray.wait(list(pending), num_returns=min(required - ok(), len(pending)), timeout=left)
        if not ready:
            break
        take(ready)
    if pending and ok() >= required and grace_s > 0:
        ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=grace_s)
        take(ready)
    for ref, provider in pending.items():
        ray.cancel(ref)
        if ok() >= required:
            reasons[provider] = f"cancelled: no answer within the {deadline_s:g}s deadline plus {grace_s:g}s grace after quorum"
        else:
            reasons[provider] = f"no answer by the {deadline_s:g}s deadline"
    return answers, reasons, time.monotonic() - start


class RayAgents(Agents):
    """Agents behind named Ray actor handles; merge runs in-process (pure and cheap)."""

    def __init__(self, *, pii: Any, collector: Any, llms: dict[str, Any], report: Any) -> None:
        self.pii = pii
        self.collector = collector
        self.llms = llms
        self.report = report

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
        """Fan out to every configured LLM actor and decide on the quorum."""
        calls, reasons = {}, {}
        for provider, envelope in envelopes.items():
            handle = self.llms.get(provider)
            if handle is None:
                reasons[provider] = "not configured"
            else:
                calls[provider] = handle.analyze.remote(envelope)
        answers, missed, waited = fan_out(calls, required=required, deadline_s=deadline_s, grace_s=grace_s)
        decision = decide_quorum(
            providers=list(envelopes),
            answers=answers,
            missing_reasons={**reasons, **missed},
            required=required,
            deadline_s=deadline_s,
            grace_s=grace_s,
            waited_s=waited,
        )
        ordered = [answers[p] for p in envelopes if p in answers]
        return AnalyzeOutput(answers=ordered, quorum=decision)

    def merge(self, envelope: AgentRequest[AnalyzeOutput], evidence: list[Evidence]) -> MergeResult:
        """Merge the answers (in-process)."""
        quorum = envelope.payload.quorum
        return merge_answers(
            envelope.payload.answers,
            evidence,
            Quorum(required=quorum.required, received=len(quorum.received), missing=sorted(quorum.missing)),
        )

    def render(self, envelope: AgentRequest[ReportInput]) -> list[Artifact]:
        """Render the report on the report actor."""
        return _get(self.report.render.remote(envelope), envelope)
