"""Vault retention: a job's vault expires with the job's retention and is then deleted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from actors.job_store import JobStore
from schemas import TERMINAL_STATES

__all__ = ["RETENTION_KEY", "purge_expired_vaults", "vault_object_key"]

RETENTION_KEY = "retention-until"
"""Object metadata key holding the vault's expiry (ISO 8601 with time zone)."""


def vault_object_key(job_id: str) -> str:
    """Object key of a job's encrypted vault (the orchestrator's `runner.vault_key`)."""
    return f"jobs/{job_id}/vault.bin"


def purge_expired_vaults(store: JobStore, objects: Any, now: datetime, *, limit: int = 100_000) -> list[str]:
    """Delete the vaults of finished jobs whose `retention-until` has passed; return those job ids.

    Vaults without the metadata (stored before retention existed) are left alone; running jobs
    keep their vault whatever it says.
    """
    purged: list[str] = []
    for job in store.list_jobs(states=sorted(TERMINAL_STATES, key=str), limit=limit):
        key = vault_object_key(job.id)
        if not objects.exists(key):
            continue
        until = objects.stat(key).metadata.get(RETENTION_KEY)
        if until is not None and datetime.fromisoformat(until) <= now:
            objects.delete(key)
            purged.append(job.id)
    return purged
