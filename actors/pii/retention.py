"""PII retention: a finished job's PII at rest (its vault, its sealed raw brief) expires and is then deleted.

`purge_expired` is the one rule: the orchestrator runs it every `MKA_PII_PURGE_INTERVAL_S`,
`mka pii purge` runs it by hand, and the artifact-lifecycle sweeper is to call it rather than
restate it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from actors.clock import Clock
from actors.job_store import JobStore
from actors.object_store import vault_key
from actors.periodic import Periodic
from schemas import TERMINAL_STATES, JobRecord

__all__ = [
    "RETENTION_KEY", "PurgeResult", "pii_expiry", "purge_expired", "purge_expired_vaults", "purge_schedule",
    "vault_object_key",
]

vault_object_key = vault_key  # the one key of a job's encrypted vault

RETENTION_KEY = "retention-until"
"""Object metadata key holding the vault's expiry (ISO 8601 with time zone)."""


@dataclass(frozen=True)
class PurgeResult:
    """What a purge deleted (or, dry, would delete): the jobs whose PII went, and how many raw briefs."""

    purged: tuple[str, ...] = field(default=())
    raw_briefs: int = 0
    dry_run: bool = False

    def to_dict(self) -> dict[str, Any]:
        """`{"dry_run", "purged": [job ids], "raw_briefs": n}` (what `mka pii purge --json` prints)."""
        return {"dry_run": self.dry_run, "purged": list(self.purged), "raw_briefs": self.raw_briefs}


def pii_expiry(job: JobRecord, objects: Any, *, retention_days: int | None) -> datetime | None:
    """When a finished job's PII expires; None: kept.

    - With a vault: the vault's `retention-until` (set when it was stored); a vault without it
      (stored before retention existed) is kept, and so is everything else of that job.
    - Without a vault (failed or cancelled before the redact step): `retention_days` after the job
      finished (its last update); None keeps it.
    """
    key = vault_object_key(job.id)
    if objects.exists(key):
        until = objects.stat(key).metadata.get(RETENTION_KEY)
        return datetime.fromisoformat(until) if until else None
    return job.updated_at + timedelta(days=retention_days) if retention_days else None


def purge_expired(
    store: JobStore,
    objects: Any,
    now: datetime,
    *,
    retention_days: int | None = None,
    dry_run: bool = False,
    limit: int = 100_000,
) -> PurgeResult:
    """Delete the vault and the sealed raw brief of every finished job whose PII expired by `now`.

    Running jobs keep everything whatever their dates say; when a job's PII expires is
    `pii_expiry`. The raw brief goes first, then the vault, so a purge cut short is finished by
    the next one (the vault's date still says expired). Idempotent; `dry_run` deletes nothing and
    reports what would go.
    """
    purged: list[str] = []
    raw_briefs = 0
    for job in store.list_jobs(states=sorted(TERMINAL_STATES, key=str), limit=limit):
        expires = pii_expiry(job, objects, retention_days=retention_days)
        if expires is None or expires > now:
            continue
        key = vault_object_key(job.id)
        has_raw, has_vault = store.sealed_brief(job.id) is not None, objects.exists(key)
        if not (has_raw or has_vault):
            continue
        if not dry_run:
            has_raw = store.purge_raw_brief(job.id) if has_raw else False
            if has_vault:
                objects.delete(key)
        purged.append(job.id)
        raw_briefs += has_raw
    return PurgeResult(purged=tuple(purged), raw_briefs=raw_briefs, dry_run=dry_run)


def purge_expired_vaults(store: JobStore, objects: Any, now: datetime, *, limit: int = 100_000) -> list[str]:
    """`purge_expired` for jobs with a dated vault only (jobs without a vault are kept); return the job ids."""
    return list(purge_expired(store, objects, now, limit=limit).purged)


def purge_schedule(
    store: JobStore,
    objects: Any,
    *,
    retention_days: int,
    interval_s: float,
    clock: Clock | None = None,
    on_purge: Callable[[PurgeResult], None] | None = None,
) -> Periodic:
    """`purge_expired` every `interval_s` seconds of `clock`, first at start (`.start()` runs it on a thread).

    Example (the orchestrator's): `purge_schedule(store, objects, retention_days=30, interval_s=3600).start()`.
    """

    def purge(now: datetime) -> None:
        result = purge_expired(store, objects, now, retention_days=retention_days)
        if on_purge is not None:
            on_purge(result)

    return Periodic(purge, interval_s=interval_s, clock=clock, name="mka-pii-purge")
