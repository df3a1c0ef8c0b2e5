"""The one place that builds real adapters from settings; entry points and actors call it."""

from __future__ import annotations

from actors.job_store import JobStore
from cluster.settings import Settings

__all__ = ["build_store"]


def build_store(settings: Settings) -> JobStore:
    """Job store on the configured database (migrated to head), sealing raw briefs with the vault keyring."""
    from cluster.sql_store import SqlJobStore

    return SqlJobStore.from_settings(settings)
