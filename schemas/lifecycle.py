"""Cleanup rules: how long each kind of stored object is kept, per project, and what the sweeper reports."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schemas.artifacts import ArtifactKind
from schemas.brief import PROJECT_PATTERN

__all__ = ["DEFAULT_TTL_DAYS", "MAX_RETENTION_DAYS", "CleanupRules", "ProjectRules", "RULED_ELSEWHERE"]

MAX_RETENTION_DAYS = 2555
"""Seven years: the longest period any rule may set (a legal hold keeps data longer)."""

RULED_ELSEWHERE = frozenset({ArtifactKind.CHECKPOINT, ArtifactKind.VAULT, ArtifactKind.RAW_BRIEF})
"""Kinds with their own rule (checkpoints: job end + grace; vault and raw brief: the PII retention), not a TTL."""

DEFAULT_TTL_DAYS: dict[ArtifactKind, int | None] = {
    ArtifactKind.PDF: 180, ArtifactKind.HTML: 180, ArtifactKind.MARKDOWN: 180, ArtifactKind.CHART: 180,
    ArtifactKind.PROVIDERS_SCRIPT: 30, ArtifactKind.DOCUMENT: 180, ArtifactKind.FIGMA_PLAN: 180,
    ArtifactKind.FIGMA_PREVIEW: 180, ArtifactKind.EXPORT: 90, ArtifactKind.TEMPLATE: None,
}
"""Days from creation a kind is kept when the rules file does not say (None: until deleted by hand)."""


def _check_ttl(value: dict[ArtifactKind, int | None]) -> dict[ArtifactKind, int | None]:
    ruled = sorted(k.value for k in value if k in RULED_ELSEWHERE)
    if ruled:
        raise ValueError(
            f"no TTL for {', '.join(ruled)}: checkpoints follow checkpoint_grace_days, the vault and the raw brief "
            "follow pii_retention_days"
        )
    return value


class ProjectRules(BaseModel):
    """One project's overrides; what it leaves out follows the global rules."""

    model_config = ConfigDict(extra="forbid")

    ttl_days: dict[ArtifactKind, int | None] = Field(default_factory=dict)
    keep_last_reports: int | None = Field(default=None, ge=1)
    pii_retention_days: int | None = Field(default=None, ge=1, le=MAX_RETENTION_DAYS)
    event_retention_days: int | None = Field(default=None, ge=1, le=MAX_RETENTION_DAYS)
    job_retention_days: int | None = Field(default=None, ge=1, le=MAX_RETENTION_DAYS)

    _ttl = field_validator("ttl_days")(_check_ttl)

    @field_validator("ttl_days")
    @classmethod
    def _positive(cls, value: dict[ArtifactKind, int | None]) -> dict[ArtifactKind, int | None]:
        bad = sorted(k.value for k, v in value.items() if v is not None and not 1 <= v <= MAX_RETENTION_DAYS)
        if bad:
            raise ValueError(f"ttl_days are 1 to {MAX_RETENTION_DAYS} days (or null: kept), got another for "
                             f"{', '.join(bad)}")
        return value


class CleanupRules(ProjectRules):
    """Every cleanup rule the sweeper applies (`MKA_CLEANUP_RULES` names a YAML file of this shape).

    - `ttl_days`: days from creation, per kind (null keeps the kind); defaults in `DEFAULT_TTL_DAYS`.
    - `keep_last_reports`: per project and brief title, only the newest N completed jobs keep their reports
      (and their merge result); older ones go as `superseded`. Null keeps them all.
    - `checkpoint_grace_days`: step checkpoints go this long after their job ended, except the merge result,
      which localization and the Figma export reuse: it lives as long as the job's PDF TTL.
    - `pii_retention_days`: the vault and the sealed raw brief go this long after their job ended
      (`MKA_RETENTION_DAYS` when the file does not say).
    - `orphan_grace_hours`: an object with no catalog row is deleted once it is this old.
    - `event_retention_days`: outbox rows go this long after they happened, once relayed (every row when the
      deployment has no relay); the JetStream stream keeps messages as long (`max_age`).
    - `job_retention_days`: a finished job's row becomes a tombstone (id, project, state, times; no brief,
      error, steps or idempotency key) this long after it ended, once none of its objects is left.
    - `span_retention_days`: spans in the local span file go this long after they ended.
    - `projects`: per-project overrides of `ttl_days`, `keep_last_reports`, `pii_retention_days`,
      `event_retention_days` and `job_retention_days`.
    Every period is at most 7 years (`MAX_RETENTION_DAYS`); every default is finite (a `null` TTL, the operator's
    choice, keeps a kind until deleted by hand).
    - `batch_size`: at most this many deletions per sweep run.
    - `bucket_margin_days`: on S3, a bucket lifecycle rule per kind expires objects this many days after the
      longest rule would (a second line of defense if the sweeper stops); held objects are retagged out of it.
    A legal hold (`mka artifacts hold`) overrides every rule.
    """

    version: Literal[1] = 1
    ttl_days: dict[ArtifactKind, int | None] = Field(default_factory=lambda: dict(DEFAULT_TTL_DAYS))
    pii_retention_days: int = Field(default=30, ge=1, le=MAX_RETENTION_DAYS)
    event_retention_days: int = Field(default=90, ge=1, le=MAX_RETENTION_DAYS)
    job_retention_days: int = Field(default=400, ge=1, le=MAX_RETENTION_DAYS)
    span_retention_days: int = Field(default=30, ge=1, le=MAX_RETENTION_DAYS)
    checkpoint_grace_days: float = Field(default=7, ge=0, le=MAX_RETENTION_DAYS)
    orphan_grace_hours: float = Field(default=24, gt=0)
    bucket_margin_days: int = Field(
        default=30, ge=1, description="On S3, the bucket lifecycle rule deletes a kind this long after the sweeper would."
    )
    batch_size: int = Field(default=500, ge=1, le=100_000)
    projects: dict[str, ProjectRules] = Field(default_factory=dict)

    @field_validator("ttl_days")
    @classmethod
    def _fill_defaults(cls, value: dict[ArtifactKind, int | None]) -> dict[ArtifactKind, int | None]:
        return {**DEFAULT_TTL_DAYS, **value}

    @field_validator("projects")
    @classmethod
    def _project_names(cls, value: dict[str, ProjectRules]) -> dict[str, ProjectRules]:
        import re

        bad = [name for name in value if not re.fullmatch(PROJECT_PATTERN, name)]
        if bad:
            raise ValueError(f"not a project name: {', '.join(map(repr, bad))}")
        return value

    def ttl(self, kind: ArtifactKind, project: str) -> int | None:
        """Days a kind is kept in a project (the project's override first)."""
        override = self.projects.get(project)
        if override is not None and kind in override.ttl_days:
            return override.ttl_days[kind]
        return self.ttl_days.get(kind)

    def keep_last(self, project: str) -> int | None:
        """How many completed jobs per brief title keep their reports in a project (None: all)."""
        override = self.projects.get(project)
        return override.keep_last_reports if override and override.keep_last_reports else self.keep_last_reports

    def event_days(self, project: str) -> int:
        """Days a project's events are kept in the outbox."""
        override = self.projects.get(project)
        return override.event_retention_days if override and override.event_retention_days else self.event_retention_days

    def job_days(self, project: str) -> int:
        """Days after a project's job ended before its row becomes a tombstone."""
        override = self.projects.get(project)
        return override.job_retention_days if override and override.job_retention_days else self.job_retention_days

    def pii_days(self, project: str) -> int:
        """Days a finished job's vault and raw brief are kept in a project."""
        override = self.projects.get(project)
        return override.pii_retention_days if override and override.pii_retention_days else self.pii_retention_days
