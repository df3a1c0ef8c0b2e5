"""Ray bootstrap: start or join Ray and get-or-create the named actors in the `mka` namespace."""

from __future__ import annotations

import logging
from typing import Any

import ray

from cluster import ray_actors as shells
from cluster.settings import Settings

__all__ = ["ACTOR_NAMES", "connect_ray", "ensure_actors"]

ACTOR_NAMES = {
    "cache": "mka-discovery-cache",
    "broker": "mka-resource-broker",
    "collector": "mka-data-collection",
    "pii": "mka-pii",
    "report": "mka-report",
    "orchestrator": "mka-orchestrator",
}


def llm_actor_name(provider: str) -> str:
    """Dashboard name of a provider's LLM agent."""
    return f"mka-llm-{provider}"


def connect_ray(settings: Settings, *, address: str | None = None) -> None:
    """Start a local Ray, or join `address` / `settings.ray_address`; no-op when already connected."""
    if ray.is_initialized():
        return
    ray.init(
        address=address or settings.ray_address,
        namespace=settings.ray_namespace,
        include_dashboard=settings.ray_dashboard,
        logging_level=logging.WARNING,
        log_to_driver=False,
        configure_logging=True,
    )


def _actor(cls: type, key: str, settings: Settings, *args: Any, **options: Any) -> Any:
    # get_if_exists makes creation atomic: many processes may race here and share one actor.
    return (
        ray.remote(cls)
        .options(
            name=key,
            namespace=settings.ray_namespace,
            get_if_exists=True,
            lifetime="detached",
            **options,
        )
        .remote(settings, *args)
    )


def ensure_actors(settings: Settings) -> dict[str, Any]:
    """Get or create every actor; return handles by role (`llm-<provider>` for the LLM agents).

    Restart policies: every actor restarts on death; only idempotent calls are retried by Ray
    (MCP reads, pseudonymization, report rendering to a fixed key). LLM calls and the
    orchestrator are never retried by Ray: the orchestrator resumes from checkpoints itself.
    """
    handles: dict[str, Any] = {}
    handles["cache"] = _actor(shells.DiscoveryCacheActor, ACTOR_NAMES["cache"], settings,
                              num_cpus=0.05, max_restarts=-1, max_task_retries=2)
    handles["broker"] = _actor(shells.ResourceBrokerActor, ACTOR_NAMES["broker"], settings, handles["cache"],
                               num_cpus=0.05, max_restarts=-1, max_task_retries=2)
    handles["collector"] = _actor(shells.CollectorActor, ACTOR_NAMES["collector"], settings, handles["broker"],
                                  num_cpus=0.05, max_restarts=-1, max_task_retries=2)
    handles["pii"] = _actor(shells.PiiActor, ACTOR_NAMES["pii"], settings,
                            num_cpus=0.25, memory=600 * 1024**2, max_restarts=-1, max_task_retries=2)
    # PDF layout is CPU-bound and single-threaded: a small pool renders concurrent jobs in parallel.
    handles["report"] = [
        _actor(shells.ReportActor, f"{ACTOR_NAMES['report']}-{i}", settings,
               num_cpus=0.25, memory=400 * 1024**2, max_restarts=-1, max_task_retries=1)
        for i in range(settings.report_actors)
    ]
    for provider in settings.providers:
        handles[f"llm-{provider}"] = _actor(shells.LlmActor, llm_actor_name(provider), settings, provider,
                                            num_cpus=0.05, max_restarts=-1, max_task_retries=0)
    agents = {k: v for k, v in handles.items() if k in ("pii", "collector", "report") or k.startswith("llm-")}
    handles["orchestrator"] = _actor(shells.OrchestratorActor, ACTOR_NAMES["orchestrator"], settings, agents,
                                     num_cpus=0.1, max_restarts=-1, max_task_retries=0,
                                     max_concurrency=settings.max_parallel_jobs + 8)
    return handles
