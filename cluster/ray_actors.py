"""Thin Ray actor shells: each builds its plain agent from settings, traces calls, and delegates."""

from __future__ import annotations

import logging
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from cluster.logs import configure_logging, log_event
from cluster.settings import Settings
from cluster.tracing import setup_tracing, span
from schemas.pipeline import CollectResult
from schemas import (
    TERMINAL_STATES,
    AgentRequest,
    Artifact,
    Brief,
    Evidence,
    JobState,
    ModelAnswer,
)

__all__ = [
    "CollectorActor",
    "DiscoveryCacheActor",
    "LlmActor",
    "OrchestratorActor",
    "PiiActor",
    "ReportActor",
    "ResourceBrokerActor",
    "SweeperActor",
]

log = logging.getLogger("mka.actors")

_GAUGES_S = 15.0  # how often the orchestrator samples the store's gauges


def _start(settings: Settings) -> None:
    from cluster.bootstrap import scrub_environment

    scrub_environment()  # the worker inherited the driver's shell: this actor's credentials are in `settings`
    setup_tracing(settings)
    configure_logging(settings.log_level)


class SweeperActor:
    """Applies the cleanup rules every MKA_SWEEP_INTERVAL_S and at start (`mka-sweeper`); `run` sweeps on demand."""

    def __init__(self, settings: Settings) -> None:
        from actors.lifecycle.sweeper import Sweeper
        from cluster.bootstrap import build_objects, build_rules, build_store

        _start(settings)
        from cluster.bootstrap import span_purge

        self._sweeper = Sweeper(build_store(settings), build_objects(settings), build_rules(settings),
                                interval_s=settings.sweep_interval_s, on_sweep=_log_sweep,
                                relayed=bool(settings.nats_url), spans=span_purge(settings))
        self._sweeper.start()

    def ping(self) -> str:
        """Liveness check."""
        return "ok"

    def run(self, now: str | None = None, dry_run: bool = False) -> dict[str, Any]:
        """One sweep now (or as of `now`, ISO 8601), serialized with the scheduled ones; its report as JSON."""
        from datetime import datetime, timezone

        at = datetime.fromisoformat(now) if now else None
        if at is not None and at.tzinfo is None:
            at = at.replace(tzinfo=timezone.utc)  # a time without zone is UTC, as in `mka artifacts gc`
        with span("sweep", dry_run=dry_run):
            return self._sweeper.run(at, dry_run=dry_run).to_dict()

    def runs(self) -> int:
        """How many sweeps finished since this actor started (scheduled and on demand)."""
        return self._sweeper.runs


def _log_sweep(result: Any) -> None:
    if result.deleted or result.orphan_objects or result.orphan_rows:
        log_event(log, "swept", deleted=len(result.deleted), held=len(result.held),
                  orphan_objects=len(result.orphan_objects), lost_rows=len(result.orphan_rows))


class PiiActor:
    """Presidio once per worker process; vaults travel encrypted (the `PiiService` the composition root builds)."""

    def __init__(self, settings: Settings) -> None:
        from cluster.bootstrap import build_pii_service

        _start(settings)
        self._service = build_pii_service(settings)  # a missing or wrong key stops here, before any job

    def redact_brief(self, envelope: AgentRequest[Brief], vault: bytes | None) -> tuple[Any, bytes]:
        """Pseudonymize the brief; return (RedactOutput, encrypted vault)."""
        with span("agent.pii.brief", traceparent=envelope.traceparent, job_id=envelope.job_id, step=envelope.step):
            return self._service.redact_brief(envelope, vault)

    def redact_evidence(self, envelope: AgentRequest[list[Evidence]], vault: bytes, allow: list[str]) -> tuple[Any, bytes]:
        """Pseudonymize evidence; return (CollectOutput, encrypted vault)."""
        with span("agent.pii.evidence", traceparent=envelope.traceparent, job_id=envelope.job_id, step=envelope.step):
            return self._service.redact_evidence(envelope, vault, allow)

    def scan_values(self, texts: list[str]) -> int:
        """Count PII entities in texts (operators' spot check)."""
        return self._service.scan_values(texts)


class DiscoveryCacheActor:
    """Keeps each MCP server's tool list with a TTL (async actor)."""

    def __init__(self, settings: Settings) -> None:
        from cluster.bootstrap import build_discovery_cache

        _start(settings)
        self._cache = build_discovery_cache(settings)

    async def tools(self, server: str) -> Any:
        """The server's tools (cached)."""
        return await self._cache.tools(server)

    async def refresh(self, server: str) -> Any:
        """Re-list the server's tools now."""
        return await self._cache.refresh(server)

    async def invalidate(self, server: str) -> None:
        """Forget the server's tools."""
        await self._cache.invalidate(server)

    async def resources(self, server: str) -> Any:
        """The server's resources (cached with its tools)."""
        return await self._cache.resources(server)

    def servers(self) -> list[str]:
        """Configured server names."""
        return self._cache.servers()


class ResourceBrokerActor:
    """Resolves mcp:// URIs with per-server limits (async actor)."""

    def __init__(self, settings: Settings, cache: Any) -> None:
        from actors.mcp.ray_adapters import CatalogHandle
        from cluster.bootstrap import build_broker

        _start(settings)
        self._broker = build_broker(settings, CatalogHandle(cache))

    async def resolve(self, uri: str) -> Any:
        """Resolve one mcp:// URI."""
        return await self._broker.resolve(uri)


class CollectorActor:
    """The data collection agent (async actor)."""

    def __init__(self, settings: Settings, broker: Any, cache: Any) -> None:
        from actors.mcp.ray_adapters import BrokerHandle, CatalogHandle
        from actors.orchestrator.roles import CollectorRole
        from cluster.bootstrap import build_collector

        _start(settings)
        self._role = CollectorRole(build_collector(settings, BrokerHandle(broker), CatalogHandle(cache)))

    async def collect(self, envelope: AgentRequest[Any]) -> CollectResult:
        """Collect evidence for the brief from every source, with a report per source."""
        with span("agent.collect", traceparent=envelope.traceparent, job_id=envelope.job_id, step=envelope.step):
            return await self._role.collect(envelope)


class LlmActor:
    """One provider's LLM agent (async actor, so `ray.cancel` interrupts a call).

    The agent comes from the registry: the stub, the provider's SDK agent, or none when the
    provider is not configured (then every call answers `not_configured`, never silently).
    """

    def __init__(self, settings: Settings, provider: str) -> None:
        from actors.llm import not_configured_answer
        from cluster.bootstrap import build_llm

        _start(settings)
        self._provider = provider
        self._settings = settings
        self._agent = build_llm(settings, provider)
        self._missing = None if self._agent is not None else not_configured_answer(settings, provider)
        # What was sent out lately (pseudonymized by contract), for operators and egress checks.
        self._recent: deque[str] = deque(maxlen=50)

    async def analyze(self, envelope: AgentRequest[Any]) -> ModelAnswer:
        """Answer the analysis request (failures come back as answer values)."""
        from actors.quorum import error_kind

        with span("agent.llm", traceparent=envelope.traceparent, job_id=envelope.job_id, provider=self._provider) as s:
            if self._agent is None:
                answer = self._missing.model_copy()  # type: ignore[union-attr]
            else:
                self._recent.append(envelope.payload.model_dump_json())
                answer = await self._agent.analyze(envelope)
            s.set_attribute("mka.outcome", answer.status)
            s.set_attribute("mka.model", answer.model)
            kind = error_kind(answer)
            if kind:
                s.set_attribute("mka.error_kind", kind)
            if answer.usage is not None:
                s.set_attribute("mka.tokens", answer.usage.tokens)
                s.set_attribute("mka.cost_usd", answer.usage.cost)
            return answer

    async def translate(self, envelope: AgentRequest[Any]) -> Any:
        """Translate report text (the localize step); an unconfigured provider says it cannot."""
        from actors.llm import NotConfigured

        with span("agent.llm.translate", traceparent=envelope.traceparent, job_id=envelope.job_id,
                  provider=self._provider) as s:
            agent = self._agent or NotConfigured(self._settings, self._provider)
            result = await agent.translate(envelope)
            s.set_attribute("mka.outcome", result.status)
            return result

    async def estimate_cost(self, request: Any) -> float:
        """Upper estimate (USD) of one call for this request; 0 for stubs and unconfigured providers."""
        return 0.0 if self._agent is None else self._agent.estimate_cost(request)

    async def recent_requests(self) -> list[str]:
        """The last requests this agent sent to its provider (JSON), newest last."""
        return list(self._recent)


class LocalizerActor:
    """The localization agent: plans each wanted locale (profiles and rates through MCP)."""

    def __init__(self, settings: Settings, broker: Any) -> None:
        from actors.localization.agent import LocalizerRole
        from actors.mcp.ray_adapters import BrokerHandle

        _start(settings)
        self._role = LocalizerRole(BrokerHandle(broker))

    async def plan(self, envelope: AgentRequest[Any]) -> Any:
        """The localize step's plan: segments and each locale's adaptation."""
        with span("agent.localize", traceparent=envelope.traceparent, job_id=envelope.job_id, step=envelope.step):
            return await self._role.plan(envelope)


class ReportActor:
    """Renders reports to PDF and stores them."""

    def __init__(self, settings: Settings) -> None:
        from actors.orchestrator.roles import ReportRole
        from actors.report import ReportAgent
        from cluster.bootstrap import build_objects

        _start(settings)
        self._role = ReportRole(ReportAgent(build_objects(settings), pdf=settings.report_pdf))

    def render(self, envelope: AgentRequest[Any]) -> list[Artifact]:
        """Render the report; return its artifacts."""
        with span("agent.report", traceparent=envelope.traceparent, job_id=envelope.job_id, step=envelope.step):
            return self._role.render(envelope)

    def figma(self, envelope: AgentRequest[Any]) -> Any:
        """Fill the envelope's Figma template with its report; return the plan and preview."""
        with span("agent.figma", traceparent=envelope.traceparent, job_id=envelope.job_id, step=envelope.step):
            return self._role.figma(envelope)


class OrchestratorActor:
    """Runs jobs in threads over the job runner; resumes unfinished jobs when (re)started."""

    def __init__(self, settings: Settings, handles: dict[str, Any]) -> None:
        from cluster.bootstrap import build_guards, build_ray_agents, build_runner
        from cluster.metrics import OtelTracer, RayMetrics

        _start(settings)
        self._settings = settings
        self.metrics = RayMetrics()
        # The guard opens job vaults here, so each job's events, logs, spans and LLM requests are checked against them.
        self.runner = build_runner(
            settings, build_ray_agents(settings, handles), guards=build_guards(settings), tracer=OtelTracer(),
            metrics=self.metrics,
        )
        self.store, self.objects = self.runner.store, self.runner.objects
        self._pool = ThreadPoolExecutor(max_workers=settings.max_parallel_jobs, thread_name_prefix="mka-job")
        self._running: set[str] = set()
        self._lock = threading.Lock()
        self.resume()
        from actors.orchestrator.observe import sample
        from actors.periodic import Periodic

        states = [s.value for s in JobState]
        # Jobs per state, the outbox backlog and the relay's lag, read from the store for Prometheus.
        self._gauges = Periodic(lambda now: sample(self.store, self.metrics, now, states), interval_s=_GAUGES_S,
                                name="mka-gauges")
        self._gauges.start()

    def ping(self) -> str:
        """Liveness check."""
        return "ok"

    def submit(self, brief: Brief, idempotency_key: str | None = None, script: dict[str, Any] | None = None) -> str:
        """Record a job (idempotent by key) and start running it; return its id."""
        from cluster.tracing import current_traceparent, trace_id_of
        from schemas.pipeline import ProvidersScript

        parsed = ProvidersScript.model_validate(script) if script else None
        with span("job", project=brief.project):
            tp = current_traceparent()
            job = self.store.submit(
                brief, idempotency_key=idempotency_key, trace_id=trace_id_of(tp) if tp else None, traceparent=tp,
                script=parsed.model_dump(mode="json") if parsed is not None else None,
            )
        if parsed is not None and job.state == JobState.SUBMITTED:
            self.runner.save_script(job, parsed)
        self.start(job.id)
        return job.id

    def start(self, job_id: str) -> bool:
        """Run a job in the background unless it is already running here."""
        with self._lock:
            if job_id in self._running:
                return False
            self._running.add(job_id)
            self.metrics.running(len(self._running))
        self._pool.submit(self._run, job_id)
        return True

    def resume_job(self, job_id: str) -> str:
        """Reopen a job that failed on infrastructure (storage, database) and run it; return its state."""
        job = self.runner.reopen(job_id)  # synchronous: callers see it leave `failed` at once
        self.start(job_id)
        return job.state.value

    def _run(self, job_id: str) -> None:
        try:
            job = self.runner.run(job_id)
            log_event(log, "job finished", job_id=job_id, state=job.state.value)
        except Exception:  # noqa: BLE001 - logged by type only; the job stays resumable
            log.exception("job runner crashed", extra={"fields": {"job_id": job_id}})
        finally:
            with self._lock:
                self._running.discard(job_id)
                self.metrics.running(len(self._running))

    def resume(self) -> list[str]:
        """Start every unfinished job (after a restart); return their ids."""
        open_states = [s for s in JobState if s not in TERMINAL_STATES]
        ids = [j.id for j in self.store.list_jobs(states=open_states, limit=10_000)]
        started = [i for i in ids if self.start(i)]
        if started:
            log_event(log, "resumed jobs", count=len(started))
        return started

    def cancel(self, job_id: str) -> str:
        """Cancel a job that is not finished; return its state."""
        from schemas import IllegalTransition, StaleJobVersion

        for _ in range(10):
            job = self.store.get(job_id)
            if job.terminal:
                return job.state.value
            try:
                return self.store.transition(job_id, JobState.CANCELLED, expected_version=job.version, reason="cancelled by user").state.value
            except (StaleJobVersion, IllegalTransition):
                continue
        return self.store.get(job_id).state.value

    def running(self) -> list[str]:
        """Ids of the jobs running in this actor now."""
        with self._lock:
            return sorted(self._running)
