"""The run summary of a job (`mka run --json`, `mka jobs resume --json`, the portal's job view)."""

from __future__ import annotations

from typing import Any

from schemas.pipeline import SourceReport
from pydantic import BaseModel, Field

from schemas.artifacts import Artifact

__all__ = ["ArtifactLink", "JobSummary", "ProviderOutcome", "QuorumSummary"]


class ProviderOutcome(BaseModel):
    """One provider's part in the job's quorum."""

    status: str
    error_kind: str | None = None
    reason: str | None = None
    model: str | None = None
    latency_s: float | None = None
    claims: int = 0
    tokens: int | None = None
    cost_usd: float | None = None


class QuorumSummary(BaseModel):
    """What the quorum needed and got."""

    required: int
    received: list[str]
    missing: dict[str, str]
    waited_s: float
    cost_usd: float = 0.0
    cost_budget_usd: float | None = None


class ArtifactLink(BaseModel):
    """A stored artifact; `path` is a local file (the CLI's copy or the filesystem store's), never sent by the portal."""

    id: str
    kind: str
    uri: str
    sha256: str
    path: str | None = None
    locale: str | None = Field(default=None, description="A localized report's locale; None for the base report.")

    @classmethod
    def of(cls, artifact: Artifact, path: str | None = None) -> ArtifactLink:
        """The link to a stored artifact, with a local path when one is given."""
        return cls(id=artifact.id, kind=artifact.kind, uri=artifact.uri, sha256=artifact.sha256, path=path,
                   locale=artifact.locale)


class JobSummary(BaseModel):
    """The run summary: id, state, degraded, each provider's outcome, the quorum, artifacts and the trace id."""

    job_id: str
    state: str
    degraded: bool
    providers: dict[str, ProviderOutcome] = Field(default_factory=dict)
    quorum: QuorumSummary | None = None
    artifacts: list[ArtifactLink] = Field(default_factory=list)
    trace_id: str | None = None
    error: dict[str, Any] | None = None
    brief: dict[str, Any] = Field(default_factory=dict, description="Masked or pseudonymized, never raw.")
    sources: list[SourceReport] = Field(
        default_factory=list, description="How each evidence source went (servers, pages, documents), failures included."
    )
    warnings: list[str] = Field(
        default_factory=list, description="What completed with a caveat: Figma template fields without a value, "
        "unusable layer names, texts that overflow their boxes, an export skipped.")
    wall_s: float | None = Field(default=None, description="Seconds the CLI waited (CLI only).")

    def public(self) -> dict[str, Any]:
        """The summary for HTTP callers: no local paths, no `file://` URIs, no CLI timing."""
        data = self.model_dump(mode="json", exclude={"wall_s"})
        data["artifacts"] = [
            {k: v for k, v in a.items() if k != "path" and not (k == "uri" and str(v).startswith("file:"))}
            for a in data["artifacts"]
        ]
        return data
