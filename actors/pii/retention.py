"""PII retention: a finished job's PII at rest (its vault, its sealed raw brief) expires and is then deleted.

This is one rule of the artifact lifecycle (`actors.lifecycle`), not a second sweeper: the vault and
raw brief rows follow `CleanupRules.pii_retention_days` from the job's end, the sweeper actor applies
it with every other rule, and `purge_expired` (what `mka pii purge` runs) is the same sweep limited to
those two kinds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from actors.job_store import JobStore
from actors.lifecycle.sweep import sweep
from actors.object_store import parse_job_key
from schemas.artifacts import ArtifactKind
from schemas.lifecycle import CleanupRules

__all__ = ["PII_KINDS", "RETENTION_KEY", "PurgeResult", "purge_expired"]

PII_KINDS = frozenset({ArtifactKind.VAULT, ArtifactKind.RAW_BRIEF})
"""The kinds that hold a job's raw PII (sealed)."""

RETENTION_KEY = "retention-until"
"""Object metadata key holding the vault's expiry as of when it was written (ISO 8601 with time zone)."""


@dataclass(frozen=True)
class PurgeResult:
    """What a purge deleted (or, dry, would delete): the jobs whose PII went, and how many raw briefs."""

    purged: tuple[str, ...] = field(default=())
    raw_briefs: int = 0
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        """`{"dry_run", "purged": [job ids], "raw_briefs": n}` (what `mka pii purge --json` prints)."""
        return {"dry_run": self.dry_run, "purged": list(self.purged), "raw_briefs": self.raw_briefs}


def purge_expired(
    store: JobStore, objects: Any, now: datetime, *, rules: CleanupRules | None = None,
    retention_days: int | None = None, dry_run: bool = False,
) -> PurgeResult:
    """Delete the vault and the sealed raw brief of every finished job whose PII retention ended by `now`.

    The sweep's PII rule alone (`retention_days` overrides the rules' `pii_retention_days`): running
    jobs keep everything, held rows are kept, a purge cut short is finished by the next. Idempotent;
    `dry_run` deletes nothing and reports what would go.
    """
    rules = rules or CleanupRules()
    if retention_days is not None:
        rules = rules.model_copy(update={"pii_retention_days": retention_days})
    swept = sweep(store, objects, now, rules, dry_run=dry_run, kinds=PII_KINDS, orphans=False)
    jobs: dict[str, None] = {}
    for entry in swept.deleted:
        parsed = parse_job_key(entry["key"])
        if parsed is not None:
            jobs[parsed[1]] = None
    raw = sum(1 for entry in swept.deleted if entry["kind"] == ArtifactKind.RAW_BRIEF.value)
    return PurgeResult(purged=tuple(jobs), raw_briefs=raw, dry_run=dry_run)
