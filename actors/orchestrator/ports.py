"""What the orchestrator needs from its agents, and the checkpointed outputs of each step."""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from actors.clock import Clock, SystemClock
from actors.merge import merge_answers
from actors.orchestrator.fanout import ProviderCalls, analyze_providers
from actors.orchestrator.pipeline import StepVerdict
from actors.quorum import outcome_summary
from schemas import (
    AgentRequest,
    Artifact,
    BelowQuorum,
    Brief,
    Evidence,
    MergeResult,
    ModelAnswer,
    Quorum,
    SourceFailed,
)
from schemas.figma import PlanSummary
from schemas.localization import TranslationRequest, TranslationResult
from schemas.pipeline import (
    AnalysisRequest,
    CollectRequest,
    CollectResult,
    QuorumDecision,
    ReportInput,
    SourceReport,
)

__all__ = [
    "Agents",
    "AnalyzeOutput",
    "CollectOutput",
    "ExportOutput",
    "RedactOutput",
    "RenderOutput",
    "ValidateOutput",
    "merge_analysis",
]


class ValidateOutput(BaseModel):
    """The brief passed validation again inside the pipeline."""

    markets: list[str]
    outputs: list[str]


class RedactOutput(BaseModel):
    """The pseudonymized brief; the vault is checkpointed apart, encrypted."""

    brief: Brief
    entities: dict[str, int] = Field(default_factory=dict, description="PII entity counts by type.")


class CollectOutput(BaseModel):
    """Evidence, pseudonymized before it was checkpointed, and how each source went."""

    evidence: list[Evidence]
    entities: dict[str, int] = Field(default_factory=dict)
    sources: list[SourceReport] = Field(default_factory=list)
    on_source_error: Literal["continue", "fail"] = "continue"

    def failed_sources(self, *, required_only: bool = False) -> list[SourceReport]:
        """Sources that gave nothing because they failed (the brief's required ones only, if asked)."""
        return [s for s in self.sources if s.status == "failed" and (s.required or not required_only)]

    def verdict(self) -> StepVerdict:
        """A failed user source fails the job when the brief says `on_source_error: fail`; a failed required source
        degrades it; the bundled servers failing alone changes nothing (the analysis says what evidence it had)."""
        user = [s for s in self.failed_sources() if s.source_type in ("document", "web") or s.required]
        if user and self.on_source_error == "fail":
            named = "; ".join(f"{s.label}: {s.error}" for s in user[:5])
            return StepVerdict(error=SourceFailed(f"{len(user)} source(s) could not be read: {named}"))
        required = self.failed_sources(required_only=True)
        if required:
            return StepVerdict(degraded=True, reason="required source(s) failed: " +
                               ", ".join(s.label for s in required))
        return StepVerdict()


class AnalyzeOutput(BaseModel):
    """Every provider's answer and the quorum decision."""

    answers: list[ModelAnswer]
    quorum: QuorumDecision

    def verdict(self) -> StepVerdict:
        """Below quorum fails the job; a missing provider degrades it; the reason names every provider's outcome."""
        q = self.quorum
        if not q.met:
            missing = ", ".join(f"{p} ({why})" for p, why in q.missing.items())
            error = BelowQuorum(
                f"below quorum: {len(q.received)} of {q.required} required answers; missing {missing}",
                outcomes=outcome_summary(q),
            )
            return StepVerdict(degraded=q.degraded, reason=outcome_summary(q), error=error)
        return StepVerdict(degraded=q.degraded, reason=outcome_summary(q))


class RenderOutput(BaseModel):
    """What the report step stored."""

    artifacts: list[Artifact]


class ExportOutput(BaseModel):
    """What the export step stored (nothing when the brief wants no Figma export), and what the designer should
    know: missing or unusable template fields, texts that overflow their boxes."""

    artifacts: list[Artifact] = Field(default_factory=list)
    plans: list[PlanSummary] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class Agents(abc.ABC):
    """The orchestrator's view of its agents: a call by role name, and the fan-out primitive over the LLM agents.

    Ray handles in production (`RayAgents`), plain objects in-process (`LocalAgents`) and in tests.
    A new step reaches its agent with `call("<role>", "<method>", envelope, ...)`; the port does
    not change. The methods below are the existing steps' calls, written once on top of `call`.
    """

    clock: Clock = SystemClock()

    @abc.abstractmethod
    def call(self, role: str, method: str, envelope: AgentRequest[Any], *args: Any) -> Any:
        """Call `method(envelope, *args)` on the agent serving `role`, bounded by the envelope's deadline."""

    @abc.abstractmethod
    def provider_calls(self) -> ProviderCalls[Any]:
        """The fan-out primitive over this side's LLM agents."""

    def redact_brief(self, envelope: AgentRequest[Brief], vault: bytes | None) -> tuple[RedactOutput, bytes]:
        """Pseudonymize the brief's free text; return it with the (encrypted) vault."""
        return self.call("pii", "redact_brief", envelope, vault)  # type: ignore[no-any-return]

    def collect(self, envelope: AgentRequest[CollectRequest]) -> CollectResult:
        """Collect evidence for the (pseudonymized) brief and the job's documents, with a report per source."""
        return self.call("collector", "collect", envelope)  # type: ignore[no-any-return]

    def redact_evidence(
        self, envelope: AgentRequest[list[Evidence]], vault: bytes, allow: list[str]
    ) -> tuple[CollectOutput, bytes]:
        """Pseudonymize evidence text with the job's vault."""
        return self.call("pii", "redact_evidence", envelope, vault, allow)  # type: ignore[no-any-return]

    def analyze(
        self, envelopes: dict[str, AgentRequest[AnalysisRequest]], *, required: int, deadline_s: float, grace_s: float,
        deadlines: Mapping[str, float] | None = None,
    ) -> AnalyzeOutput:
        """Fan out to the LLM agents (the one fan-out) and decide on a quorum at the deadline.

        `deadlines` are providers' own, shorter deadlines in seconds from the start.
        """
        answers, decision = analyze_providers(
            self.provider_calls(), envelopes, required=required, deadline_s=deadline_s, grace_s=grace_s,
            deadlines=deadlines, clock=self.clock,
        )
        return AnalyzeOutput(answers=answers, quorum=decision)

    def merge(self, envelope: AgentRequest[AnalyzeOutput], evidence: list[Evidence]) -> MergeResult:
        """Merge the answers claim by claim (in-process: pure and cheap)."""
        return merge_analysis(envelope.payload, evidence)

    def translate(self, envelope: AgentRequest[TranslationRequest]) -> TranslationResult:
        """One provider's translation of report text (the localize step walks providers with fallback)."""
        return self.call(f"llm-{envelope.payload.provider}", "translate", envelope)  # type: ignore[no-any-return]

    def render(self, envelope: AgentRequest[ReportInput]) -> list[Artifact]:
        """Render and store the report; return its artifacts."""
        return self.call("report", "render", envelope)  # type: ignore[no-any-return]

    def render_many(self, envelopes: Sequence[AgentRequest[ReportInput]]) -> list[list[Artifact]]:
        """Render several reports of a job (the base and each localized one); one after the other here, in parallel
        where a pool of report actors serves them."""
        return [self.render(envelope) for envelope in envelopes]


def merge_analysis(analysis: AnalyzeOutput, evidence: list[Evidence]) -> MergeResult:
    """Merge an analysis step's answers with the quorum it reached (every `Agents.merge` does this)."""
    q = analysis.quorum
    return merge_answers(analysis.answers, evidence, Quorum(required=q.required, received=len(q.received), missing=sorted(q.missing)))
