"""Artifact metadata: the catalog row of every object the system stores, and what may be done with it."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import BaseModel, Field

from schemas.brief import PROJECT_PATTERN

__all__ = ["Artifact", "ArtifactKind", "ArtifactStatus", "REPORT_KINDS", "StoredPii", "retention_class_of"]


class ArtifactKind(str, Enum):
    """What a stored object is; the cleanup rules are written per kind."""

    PDF = "pdf"
    HTML = "html"
    MARKDOWN = "markdown"
    CHART = "chart"
    CHECKPOINT = "checkpoint"
    VAULT = "vault"
    RAW_BRIEF = "raw_brief"
    DOCUMENT = "document"
    PROVIDERS_SCRIPT = "providers_script"
    FIGMA_PLAN = "figma_plan"
    FIGMA_PREVIEW = "figma_preview"
    TEMPLATE = "template"
    EXPORT = "export"


REPORT_KINDS = frozenset({ArtifactKind.PDF, ArtifactKind.HTML, ArtifactKind.MARKDOWN, ArtifactKind.CHART})
"""The kinds one rendering of a report produces (kept together by the keep-last-N rule)."""


def retention_class_of(kind: ArtifactKind, step: str | None = None) -> str:
    """The rule family that governs a kind: report, checkpoint, merge_result, pii, script, figma, or the kind itself."""
    if kind in REPORT_KINDS:
        return "report"
    if kind == ArtifactKind.CHECKPOINT:
        return "merge_result" if step == "merge" else "checkpoint"
    if kind in (ArtifactKind.VAULT, ArtifactKind.RAW_BRIEF):
        return "pii"
    if kind == ArtifactKind.PROVIDERS_SCRIPT:
        return "script"
    if kind in (ArtifactKind.FIGMA_PLAN, ArtifactKind.FIGMA_PREVIEW):
        return "figma"
    return kind.value


class StoredPii(str, Enum):
    """What personal data an object holds at rest."""

    NONE = "none"
    PSEUDONYMIZED = "pseudonymized"  # placeholders only (<PERSON_1>)
    RAW_ENCRYPTED = "raw_encrypted"  # raw values, sealed with the job's key (vault, raw brief, documents)


class ArtifactStatus(str, Enum):
    """Where a catalog row is in its life: stored, being deleted, deleted, or lost (no object behind it)."""

    STORED = "stored"
    DELETING = "deleting"  # the sweeper decided; the object goes next (a crashed sweep finishes it)
    DELETED = "deleted"
    LOST = "lost"  # the row's object is missing from storage


class Artifact(BaseModel):
    """A stored object: report exports, step checkpoints, the vault, the raw brief, scripts, documents, templates."""

    id: str
    job_id: str | None = Field(description="The job that made it (None for templates and documents).")
    kind: ArtifactKind
    key: str = Field(description="Object-store key: projects/<project>/jobs/<job_id>/... (legacy jobs/<job_id>/...).")
    uri: str = Field(description="file://, s3:// or db:// URI of the object.")
    content_type: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    created_at: datetime
    retention_until: datetime | None = Field(
        default=None, description="When the cleanup rules delete it (None: not scheduled yet, or kept)."
    )
    local_path: str | None = Field(default=None, description="Path on disk when stored locally.")
    locale: str | None = Field(default=None, description="The locale of a localized report (None: the base report).")
    project: str = Field(default="default", pattern=PROJECT_PATTERN)
    step: str | None = Field(default=None, description="The pipeline step that wrote it.")
    pii_class: StoredPii = StoredPii.NONE
    retention_class: str = Field(default="", max_length=32, description="The rule family that governs it.")
    legal_hold: bool = False
    hold_reason: str | None = Field(default=None, max_length=500)
    status: ArtifactStatus = ArtifactStatus.STORED
    deleted_at: datetime | None = None
    deletion_reason: str | None = Field(default=None, max_length=200)
    lineage: list[str] = Field(
        default_factory=list, description="What it was made from: artifact ids, or `step:<name>`."
    )
