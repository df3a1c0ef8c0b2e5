"""Inputs and outputs of the pipeline's agents: collection, analysis, quorum, provider scripts, report."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from schemas.answers import Claim, Evidence, ModelAnswer, SourceType
from schemas.brief import Brief
from schemas.localization import LocalizedReport, TranslationMode
from schemas.merge import MergeResult

__all__ = [
    "PROVIDERS",
    "AnalysisRequest",
    "CollectRequest",
    "CollectResult",
    "DocumentInput",
    "SourceReport",
    "ProviderBehaviour",
    "ProvidersScript",
    "ProviderStatus",
    "QuorumDecision",
    "ReportInput",
    "ProviderErrorKind",
]

PROVIDERS: tuple[str, ...] = ("openai", "gemini", "xai")

ProviderErrorKind = Literal[
    "timeout", "rate_limit", "server_error", "auth", "model_not_found", "content_filter", "bad_output"
]


class ProviderBehaviour(BaseModel):
    """How a scripted (stub) provider behaves: latency, hang, error kind, claims."""

    model_config = ConfigDict(extra="forbid")

    latency_s: float = Field(default=0.0, ge=0, le=3600)
    hang: bool = False
    error: ProviderErrorKind | None = None
    claims: list[Claim] | None = Field(default=None, description="Scripted claims; None lets the stub write its own.")
    summary: str | None = Field(default=None, max_length=2000, description="Scripted answer summary.")
    model: str | None = None
    deadline_s: float | None = Field(
        default=None, gt=0, le=3600, description="This provider's own deadline (capped by the quorum deadline)."
    )
    translation: TranslationMode | None = Field(
        default=None,
        description="How a stub translates: unsupported (the default: text stays in the source language), echo, "
        "pseudo (marks each segment as translated, keeping every protected token), mangle (drops placeholders and "
        "numbers), error.",
    )


class ProvidersScript(BaseModel):
    """The provider script of DESIGN.md: per-provider behaviour plus quorum overrides."""

    model_config = ConfigDict(extra="forbid")

    deadline_s: float | None = Field(default=None, gt=0, le=3600)
    grace_s: float | None = Field(default=None, ge=0, le=600)
    cost_budget_usd: float | None = Field(default=None, ge=0, description="Per-job LLM cost budget override (USD).")
    providers: dict[str, ProviderBehaviour] = Field(default_factory=dict)


class DocumentInput(BaseModel):
    """A user's document as collection reads it: opened from storage by the collect step."""

    id: str
    name: str = Field(description="The file name as uploaded (PII class free text: never logged).")
    data: bytes
    required: bool = False


class CollectRequest(BaseModel):
    """What data collection needs: the (pseudonymized) brief, whose URLs are as given, and the opened documents."""

    job_id: str
    brief: Brief
    documents: list[DocumentInput] = Field(default_factory=list)


class SourceReport(BaseModel):
    """How one source went: an MCP server, a web page or a document; failures never carry document text."""

    source: str = Field(description="doc://<id>, the page URL, or mcp://<server>.")
    source_type: SourceType
    label: str = Field(default="", description="What a person calls it: the server name, host or document id.")
    status: Literal["ok", "warned", "failed", "skipped"]
    required: bool = False
    items: int = Field(default=0, ge=0, description="Evidence items it gave.")
    calls: int = Field(default=0, ge=0, description="Requests made to it.")
    elapsed_s: float = Field(default=0.0, ge=0)
    error: str | None = None
    warnings: list[str] = Field(default_factory=list)


class CollectResult(BaseModel):
    """What data collection returns: the evidence and a report per source."""

    evidence: list[Evidence]
    sources: list[SourceReport] = Field(default_factory=list)


class AnalysisRequest(BaseModel):
    """What one LLM agent is asked: the pseudonymized brief and evidence, nothing else."""

    job_id: str
    provider: str
    brief: Brief
    evidence: list[Evidence]
    behaviour: ProviderBehaviour | None = Field(default=None, description="Stub script for this provider.")
    cost_budget_usd: float | None = Field(
        default=None, ge=0, description="The most this provider's calls may cost (USD); None means no limit."
    )


class ProviderStatus(BaseModel):
    """One provider's outcome in a job."""

    provider: str
    status: Literal["ok", "timeout", "error", "cancelled", "not_configured", "skipped"]
    reason: str = ""
    latency_s: float | None = None
    claims: int = 0
    error_kind: str | None = Field(
        default=None,
        description="Why it failed: a provider error kind (timeout, rate_limit, server_error, auth, model_not_found, "
        "content_filter, bad_output) or not_configured, cancelled, budget, actor_died.",
    )
    model: str | None = None
    tokens: int | None = Field(default=None, ge=0)
    cost: float | None = Field(default=None, ge=0, description="USD spent on this provider in the job.")


class QuorumDecision(BaseModel):
    """Who answered by the deadline (plus grace), who missed and why; persisted with the job."""

    required: int = Field(ge=1)
    received: list[str]
    missing: dict[str, str] = Field(description="provider -> why it is missing")
    degraded: bool
    met: bool
    deadline_s: float
    grace_s: float
    waited_s: float
    providers: list[ProviderStatus] = Field(default_factory=list)
    cost_usd: float = Field(default=0.0, ge=0, description="USD spent on every provider in the job.")
    cost_budget_usd: float | None = Field(default=None, ge=0, description="The job's cost budget, when one was set.")


class ReportInput(BaseModel):
    """Everything the report shows; text is pseudonymized (no PII reaches the PDF)."""

    job_id: str
    brief: Brief
    evidence: list[Evidence]
    answers: list[ModelAnswer]
    quorum: QuorumDecision
    merge: MergeResult | None = None
    trace_id: str | None = None
    generated_at: datetime
    localization: LocalizedReport | None = Field(
        default=None, description="Set for a localized report: its locale, translations and market adaptation."
    )
    sources: list[SourceReport] = Field(default_factory=list, description="How each evidence source went.")
