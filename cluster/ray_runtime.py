"""Ray bootstrap: start or join Ray and get-or-create the named actors in the `mka` namespace."""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import Any

import ray

from cluster import ray_actors as shells
from cluster.bootstrap import settings_for
from cluster.settings import Settings

__all__ = ["ACTOR_NAMES", "ADDRESS_FILE", "address_file", "connect_ray", "ensure_actors", "find_actors", "write_address"]

ACTOR_NAMES = {
    "cache": "mka-discovery-cache",
    "broker": "mka-resource-broker",
    "collector": "mka-data-collection",
    "pii": "mka-pii",
    "report": "mka-report",
    "localizer": "mka-localization",
    "orchestrator": "mka-orchestrator",
    "sweeper": "mka-sweeper",
}


def llm_actor_name(provider: str) -> str:
    """Dashboard name of a provider's LLM agent."""
    return f"mka-llm-{provider}"


ADDRESS_FILE = "ray-address"
"""The file in MKA_HOME where `mka serve` writes the address of the Ray cluster it runs."""


def address_file(settings: Settings) -> Path:
    """Where `mka serve` leaves its cluster's address for clients of the same MKA_HOME."""
    return settings.home / ADDRESS_FILE


def write_address(settings: Settings) -> Path:
    """Record this process's Ray cluster address in MKA_HOME (`mka serve` does, so clients join it)."""
    path = address_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(ray.get_runtime_context().gcs_address + "\n")
    return path


def _listening(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1.0):
            return True
    except (OSError, ValueError):
        return False


def connect_ray(settings: Settings, *, address: str | None = None) -> str:
    """Join or start Ray; return what was done, in words.

    An explicit `address` or MKA_RAY_ADDRESS is joined. Otherwise the cluster `mka serve` runs for
    this MKA_HOME is joined, found through its address file; without one (or when it is gone) a
    local cluster is started. An unrelated cluster is never joined by `address="auto"`.
    """
    if ray.is_initialized():
        return "already connected to Ray"
    options: dict[str, Any] = {
        "namespace": settings.ray_namespace, "logging_level": logging.WARNING, "log_to_driver": False,
        "configure_logging": True,
    }
    explicit = address or settings.ray_address
    if explicit:
        ray.init(address=explicit, **options)
        return f"joined the Ray cluster at {explicit}"
    path = address_file(settings)
    recorded = path.read_text().strip() if path.is_file() else ""
    if recorded and _listening(recorded):  # a file left by a `mka serve` that died is stale: Ray would hang on it
        ray.init(address=recorded, **options)
        return f"joined the Ray cluster of `mka serve` at {recorded} ({path})"
    ray.init(address="local", include_dashboard=settings.ray_dashboard, **options)
    return "started a local Ray cluster" + (f" (the one recorded in {path} is gone)" if recorded else "")


def _actor(cls: type, key: str, role: str, settings: Settings, *args: Any, **options: Any) -> Any:
    # get_if_exists makes creation atomic: many processes may race here and share one actor.
    # Each actor is handed only the credentials its role needs (`settings_for`).
    return (
        ray.remote(cls)
        .options(
            name=key,
            namespace=settings.ray_namespace,
            get_if_exists=True,
            lifetime="detached",
            **options,
        )
        .remote(settings_for(settings, role), *args)
    )


def ensure_actors(settings: Settings) -> dict[str, Any]:
    """Get or create every actor; return handles by role (`llm-<provider>` for the LLM agents).

    Restart policies: every actor restarts on death; only idempotent calls are retried by Ray
    (MCP reads, pseudonymization, report rendering to a fixed key). LLM calls and the
    orchestrator are never retried by Ray: the orchestrator resumes from checkpoints itself.
    The actors that sign events get this process's signing key, so every node signs with the same one.
    """
    from cluster.signing import pin_signing_key

    settings = pin_signing_key(settings)
    handles: dict[str, Any] = {}
    handles["cache"] = _actor(shells.DiscoveryCacheActor, ACTOR_NAMES["cache"], "cache", settings,
                              num_cpus=0.05, max_restarts=-1, max_task_retries=2)
    handles["broker"] = _actor(shells.ResourceBrokerActor, ACTOR_NAMES["broker"], "broker", settings, handles["cache"],
                               num_cpus=0.05, max_restarts=-1, max_task_retries=2)
    handles["collector"] = _actor(shells.CollectorActor, ACTOR_NAMES["collector"], "collector", settings, handles["broker"],
                                  handles["cache"], num_cpus=0.05, max_restarts=-1, max_task_retries=2)
    handles["pii"] = _actor(shells.PiiActor, ACTOR_NAMES["pii"], "pii", settings,
                            num_cpus=0.25, memory=600 * 1024**2, max_restarts=-1, max_task_retries=2)
    # PDF layout is CPU-bound and single-threaded: a small pool renders concurrent jobs in parallel.
    handles["report"] = [
        _actor(shells.ReportActor, f"{ACTOR_NAMES['report']}-{i}", "report", settings,
               num_cpus=0.25, memory=400 * 1024**2, max_restarts=-1, max_task_retries=1)
        for i in range(settings.report_actors)
    ]
    handles["localizer"] = _actor(shells.LocalizerActor, ACTOR_NAMES["localizer"], "localizer", settings, handles["broker"],
                                  num_cpus=0.05, max_restarts=-1, max_task_retries=2)
    for provider in settings.providers:
        handles[f"llm-{provider}"] = _actor(shells.LlmActor, llm_actor_name(provider), f"llm-{provider}", settings, provider,
                                            num_cpus=0.05, max_restarts=-1, max_task_retries=0)
    agents = {k: v for k, v in handles.items() if k in ("pii", "collector", "report", "localizer") or k.startswith("llm-")}
    handles["orchestrator"] = _actor(shells.OrchestratorActor, ACTOR_NAMES["orchestrator"], "orchestrator", settings, agents,
                                     num_cpus=0.1, max_restarts=-1, max_task_retries=0,
                                     max_concurrency=settings.max_parallel_jobs + 8)
    # Threaded, so `run` answers while a scheduled sweep runs (the sweeper serializes them itself).
    handles["sweeper"] = _actor(shells.SweeperActor, ACTOR_NAMES["sweeper"], "sweeper", settings,
                                num_cpus=0.05, max_restarts=-1, max_task_retries=0, max_concurrency=4)
    return handles


def find_actors(settings: Settings) -> dict[str, Any]:
    """Handles of the running actors by role, as `ensure_actors` returns them, never creating one.

    For processes that hold trimmed settings (the portal replica, `settings_for(settings, "portal")`): an actor
    they created would lack the credentials of its role. `MkaError` names a missing actor.
    """
    from schemas import MkaError

    def get(name: str) -> Any:
        try:
            return ray.get_actor(name, namespace=settings.ray_namespace)
        except ValueError:
            raise MkaError(f"the actor {name} is not running: start the system with `mka serve` (or connect())") from None

    handles: dict[str, Any] = {role: get(name) for role, name in ACTOR_NAMES.items() if role != "report"}
    handles["report"] = [get(f"{ACTOR_NAMES['report']}-{i}") for i in range(settings.report_actors)]
    handles.update({f"llm-{p}": get(llm_actor_name(p)) for p in settings.providers})
    return handles

