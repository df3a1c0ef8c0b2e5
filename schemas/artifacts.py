"""Artifact metadata: what a job produced and where it is stored."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

__all__ = ["Artifact"]


class Artifact(BaseModel):
    """A stored output of a job (PDF, Figma export, checkpoint)."""

    id: str
    job_id: str
    kind: str = Field(min_length=1, max_length=64, description="pdf, figma, checkpoint, ...")
    key: str = Field(description="Object-store key, job-scoped: jobs/<job_id>/...")
    uri: str = Field(description="file:// or s3:// URI of the object.")
    content_type: str
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    created_at: datetime
    retention_until: datetime | None = None
    local_path: str | None = Field(default=None, description="Path on disk when stored locally.")
    locale: str | None = Field(default=None, description="The locale of a localized report (None: the base report).")
