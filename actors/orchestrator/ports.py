"""What the orchestrator needs from its agents, and the checkpointed outputs of each step."""

from __future__ import annotations

import abc

from pydantic import BaseModel, Field

from actors.merge import merge_answers
from schemas import AgentRequest, Artifact, Brief, Evidence, MergeResult, ModelAnswer, Quorum
from schemas.pipeline import AnalysisRequest, CollectRequest, QuorumDecision, ReportInput

__all__ = [
    "Agents",
    "AnalyzeOutput",
    "CollectOutput",
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
    """Evidence, pseudonymized before it was checkpointed."""

    evidence: list[Evidence]
    entities: dict[str, int] = Field(default_factory=dict)


class AnalyzeOutput(BaseModel):
    """Every provider's answer and the quorum decision."""

    answers: list[ModelAnswer]
    quorum: QuorumDecision


class RenderOutput(BaseModel):
    """What the report step stored."""

    artifacts: list[Artifact]


class Agents(abc.ABC):
    """The orchestrator's view of its agents; Ray handles in production, plain objects in tests."""

    @abc.abstractmethod
    def redact_brief(self, envelope: AgentRequest[Brief], vault: bytes | None) -> tuple[RedactOutput, bytes]:
        """Pseudonymize the brief's free text; return it with the (encrypted) vault."""

    @abc.abstractmethod
    def collect(self, envelope: AgentRequest[CollectRequest]) -> list[Evidence]:
        """Collect evidence for the (pseudonymized) brief through MCP."""

    @abc.abstractmethod
    def redact_evidence(
        self, envelope: AgentRequest[list[Evidence]], vault: bytes, allow: list[str]
    ) -> tuple[CollectOutput, bytes]:
        """Pseudonymize evidence text with the job's vault."""

    @abc.abstractmethod
    def analyze(
        self, envelopes: dict[str, AgentRequest[AnalysisRequest]], *, required: int, deadline_s: float, grace_s: float
    ) -> AnalyzeOutput:
        """Fan out to the LLM agents and decide on a quorum at the deadline."""

    @abc.abstractmethod
    def merge(self, envelope: AgentRequest[AnalyzeOutput], evidence: list[Evidence]) -> MergeResult:
        """Merge the answers claim by claim."""

    @abc.abstractmethod
    def render(self, envelope: AgentRequest[ReportInput]) -> list[Artifact]:
        """Render and store the report; return its artifacts."""


def merge_analysis(analysis: AnalyzeOutput, evidence: list[Evidence]) -> MergeResult:
    """Merge an analysis step's answers with the quorum it reached (every `Agents.merge` does this)."""
    q = analysis.quorum
    return merge_answers(analysis.answers, evidence, Quorum(required=q.required, received=len(q.received), missing=sorted(q.missing)))
