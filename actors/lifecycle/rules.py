"""The cleanup rules as pure functions of (catalog rows, job facts, now): what is due, when, and why."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from actors.pii.briefs import is_masked
from schemas import TERMINAL_STATES, JobRecord, JobState
from schemas.artifacts import REPORT_KINDS, Artifact, ArtifactKind, ArtifactStatus
from schemas.lifecycle import CleanupRules

_PLACEHOLDER = re.compile(r"<[A-Z][A-Z_]*_\d+>|\[withheld until redaction\]", re.IGNORECASE)

__all__ = ["Decision", "JobFacts", "Plan", "bucket_expiry_days", "due_date", "job_schedule", "plan", "superseded_jobs"]


@dataclass(frozen=True)
class JobFacts:
    """What the rules need of a job: its project, state, when it was made and ended, and its brief's title."""

    id: str
    project: str
    state: JobState
    created_at: datetime
    ended_at: datetime | None
    title: str | None = ""
    """The brief's title, trimmed and case-folded; None when it holds a PII placeholder (never grouped)."""

    @classmethod
    def of(cls, job: JobRecord) -> JobFacts:
        """The facts of a job record (a terminal job ended at its last update)."""
        ended = job.updated_at if job.state in TERMINAL_STATES else None
        title = (job.brief.title or job.brief.product.name).strip().casefold()
        # A placeholder differs per job vault: two briefs "for <PERSON_1>" may be different briefs. Not grouped.
        return cls(id=job.id, project=job.project, state=job.state, created_at=job.created_at, ended_at=ended,
                   title=None if _PLACEHOLDER.search(title) or is_masked(job.brief) else title)


@dataclass(frozen=True)
class Decision:
    """A row, when the rules delete it (None: not scheduled) and why."""

    artifact: Artifact
    due: datetime | None
    reason: str


@dataclass(frozen=True)
class Plan:
    """One sweep's decisions: rows to delete now (oldest due first), held rows that would go, every row's schedule."""

    delete: list[Decision] = field(default_factory=list)
    held: list[Decision] = field(default_factory=list)
    schedule: dict[str, datetime | None] = field(default_factory=dict)


def superseded_jobs(rows: Iterable[Artifact], jobs: Mapping[str, JobFacts], rules: CleanupRules) -> dict[str, int]:
    """Completed jobs whose reports the keep-last-N rule removes: `{job id: N}` (newest N per project and title kept)."""
    with_reports = {a.job_id for a in rows if a.kind in REPORT_KINDS and a.job_id and a.status != ArtifactStatus.DELETED}
    groups: dict[tuple[str, str], list[JobFacts]] = defaultdict(list)
    for job_id in with_reports:
        job = jobs.get(job_id)
        if job is not None and job.state == JobState.COMPLETED and job.title is not None:
            groups[(job.project, job.title)].append(job)
    out: dict[str, int] = {}
    for (project, _title), members in groups.items():
        keep = rules.keep_last(project)
        if keep is None:
            continue
        members.sort(key=lambda j: (j.created_at, j.id), reverse=True)
        out.update({j.id: keep for j in members[keep:]})
    return out


def due_date(
    row: Artifact, job: JobFacts | None, rules: CleanupRules, *, superseded: Mapping[str, int] | None = None,
) -> tuple[datetime | None, str]:
    """When the rules delete `row` (None: kept for now) and the rule that says so.

    A job's objects stay while it runs, whatever their kind. After it ends: checkpoints go after the
    grace period (the merge result lives as long as the PDF TTL, for localization and the Figma export);
    the vault and the raw brief follow the PII retention; a job superseded by newer reports of the same
    brief loses its reports and merge result at once; every other kind follows its TTL from creation.
    """
    kind, project = row.kind, row.project
    if row.job_id is not None:
        if job is None:  # the job's record is gone: nothing waits on its objects
            job = JobFacts(id=row.job_id, project=project, state=JobState.FAILED, created_at=row.created_at,
                           ended_at=row.created_at)
        if job.ended_at is None:
            return None, "job running"
        merge_result = kind == ArtifactKind.CHECKPOINT and row.step == "merge"
        if superseded and row.job_id in superseded and (kind in REPORT_KINDS or merge_result):
            return job.ended_at, f"superseded: newer reports of the same brief (keep last {superseded[row.job_id]})"
        if kind in (ArtifactKind.VAULT, ArtifactKind.RAW_BRIEF):
            days = rules.pii_days(project)
            return job.ended_at + timedelta(days=days), f"pii retention: job ended + {days} days"
        if merge_result:
            ttl = rules.ttl(ArtifactKind.PDF, project)
            if ttl is None:
                return None, "merge result: kept with the reports"
            return job.ended_at + timedelta(days=ttl), f"merge result: job ended + {ttl} days (pdf ttl)"
        if kind == ArtifactKind.CHECKPOINT:
            grace = rules.checkpoint_grace_days
            return job.ended_at + timedelta(days=grace), f"checkpoint: job ended + {grace:g} days"
    ttl = rules.ttl(kind, project)
    if ttl is None:
        return None, f"ttl: {kind.value} kept"
    return row.created_at + timedelta(days=ttl), f"ttl: {kind.value} {ttl} days"


def plan(rows: Iterable[Artifact], jobs: Mapping[str, JobFacts], now: datetime, rules: CleanupRules) -> Plan:
    """Decide every live row against the rules at `now`: what to delete, what a legal hold keeps, the schedule.

    Rows already deleted or being deleted are left to the sweep; a lost row (its object gone) is
    still decided, so its row is closed when its time comes.
    """
    live = [a for a in rows if a.status in (ArtifactStatus.STORED, ArtifactStatus.LOST)]
    superseded = superseded_jobs(live, jobs, rules)
    out = Plan()
    for row in live:
        due, reason = due_date(row, jobs.get(row.job_id) if row.job_id else None, rules, superseded=superseded)
        out.schedule[row.id] = due
        if due is None or due > now:
            continue
        (out.held if row.legal_hold else out.delete).append(Decision(row, due, reason))
    out.delete.sort(key=lambda d: (d.due, d.artifact.created_at, d.artifact.id))
    out.held.sort(key=lambda d: (d.due, d.artifact.id))
    return out


def job_schedule(rows: Iterable[Artifact], job: JobFacts, rules: CleanupRules) -> dict[str, datetime | None]:
    """The `retention_until` of each live row of one job as its run ends (keep-last-N is the sweep's: it needs
    the other jobs)."""
    live = [a for a in rows if a.status in (ArtifactStatus.STORED, ArtifactStatus.LOST)]
    dates = {a.id: due_date(a, job, rules)[0] for a in live}
    return {a.id: dates[a.id] for a in live if a.retention_until != dates[a.id]}


def bucket_expiry_days(rules: CleanupRules) -> dict[str, int]:
    """Days after creation a bucket lifecycle rule may expire each kind: the longest any rule keeps it, plus
    `bucket_margin_days` (a kind some project keeps forever gets no bucket rule). The raw brief is not in the bucket."""
    import math

    projects = ["", *rules.projects]  # "": a project without overrides, i.e. the global rules

    def longest(kind: ArtifactKind) -> float | None:
        days = [rules.ttl(kind, p) for p in projects]
        return None if any(d is None for d in days) else max(days)  # type: ignore[type-var]

    out: dict[str, float] = {}
    for kind in ArtifactKind:
        if kind == ArtifactKind.RAW_BRIEF:
            continue
        if kind == ArtifactKind.VAULT:
            days: float | None = max(rules.pii_days(p) for p in projects)
        elif kind == ArtifactKind.CHECKPOINT:  # the merge result lives as long as the PDF
            pdf = longest(ArtifactKind.PDF)
            days = None if pdf is None else max(pdf, rules.checkpoint_grace_days)
        else:
            days = longest(kind)
        if days is not None:
            out[kind.value] = days
    return {kind: math.ceil(days) + rules.bucket_margin_days for kind, days in out.items()}
