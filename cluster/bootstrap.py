"""The composition root: the one place that builds adapters from settings — store, object store, guard, runner
config, runner, agents and the portal app. Entry points, Ray actors and the Serve replica call it; nothing else
constructs an adapter, and nothing is built at import time.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from cluster.secrets import mask_secrets
from cluster.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from fastapi import FastAPI

    from actors.clock import Clock
    from actors.data_collection import DataCollectionAgent
    from actors.job_store import JobStore
    from actors.llm.base import LlmAgent
    from actors.mcp.broker import ResourceBroker
    from actors.mcp.discovery import DiscoveryCache
    from actors.object_store import ObjectStore
    from actors.orchestrator.local_agents import LocalAgents
    from actors.orchestrator.observe import Metrics, Tracer
    from actors.orchestrator.ports import Agents
    from actors.orchestrator.ray_agents import RayAgents
    from actors.orchestrator.runner import JobRunner, RunnerConfig
    from actors.pii.guard import GuardRegistry
    from actors.pii.keys import Keyring
    from actors.pii.service import PiiService
    from schemas.lifecycle import CleanupRules
    from serve_app.auth import Authenticator
    from serve_app.config import PortalConfig

__all__ = [
    "ROLE_SECRETS",
    "SECRET_FIELDS",
    "SHARED_SECRETS",
    "build_broker",
    "build_discovery_cache",
    "build_guards",
    "build_llm",
    "build_local_agents",
    "build_objects",
    "build_pii_service",
    "build_authenticator",
    "build_portal_app",
    "build_ray_agents",
    "build_runner",
    "build_store",
    "span_purge",
    "portal_config",
    "runner_config",
    "scrub_environment",
    "secret_environment_names",
    "settings_for",
]

SECRET_FIELDS = (
    "database_url", "nats_url", "s3_secret_key", "vault_key", "signing_key", "openai_api_key", "gemini_api_key",
    "xai_api_key", "figma_token", "openai_base_url", "gemini_base_url", "xai_base_url", "otlp_endpoint", "jwt_issuer",
    "jwt_jwks_url", "mcp_servers",
)
"""Settings that may carry a credential: keys, URLs that may hold a password, token or `?api-key=`, and the MCP
servers' configs (env, headers, args). The providers' keys and base URLs in `llm` are trimmed per provider."""

SHARED_SECRETS = frozenset({"otlp_endpoint"})
"""What every role keeps: each worker exports its own spans."""

ROLE_SECRETS: dict[str, frozenset[str]] = {
    "orchestrator": frozenset({"database_url", "s3_secret_key", "vault_key", "signing_key"}),
    "portal": frozenset({"database_url", "s3_secret_key", "vault_key", "signing_key", "jwt_issuer", "jwt_jwks_url"}),
    "pii": frozenset({"vault_key"}),
    "report": frozenset({"s3_secret_key"}),
    "collector": frozenset(),  # plans on the MCP servers' names and source types, which it keeps
    "localizer": frozenset(),
    "cache": frozenset({"mcp_servers"}),  # cache and broker start the MCP servers
    "broker": frozenset({"mcp_servers"}),
    "sweeper": frozenset({"database_url", "s3_secret_key", "signing_key"}),
}
"""The credentials each actor role keeps besides `SHARED_SECRETS`; an LLM actor (`llm-<provider>`) keeps its own
provider's key and base URL only."""


_COMPOSE_SECRETS = ("POSTGRES_PASSWORD", "MINIO_ROOT_PASSWORD", "NATS_TOKEN", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


def secret_environment_names(environ: dict[str, str] | None = None) -> list[str]:
    """The environment variables of this process that carry a credential setting (`SECRET_FIELDS` by every name
    the settings read, a provider's key or URL, the compose stack's passwords); `SHARED_SECRETS` stay."""
    import os

    from pydantic import AliasChoices

    env = os.environ if environ is None else environ
    names = set(_COMPOSE_SECRETS)
    for field in set(SECRET_FIELDS) - SHARED_SECRETS:
        names.add(f"MKA_{field.upper()}")
        alias = Settings.model_fields[field].validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(a) for a in alias.choices)
        elif isinstance(alias, str):
            names.add(alias)
    provider = [n for n in env if n.startswith("MKA_LLM__") and n.endswith(("__API_KEY", "__BASE_URL"))]
    return sorted(n for n in names.union(provider) if n in env)


def scrub_environment() -> list[str]:
    """Drop the credentials a Ray worker inherited from the driver's shell: an actor holds the settings its role
    needs (`settings_for`), so the rest must not sit in its environment either. Returns the names dropped."""
    import os

    dropped = secret_environment_names()
    for name in dropped:
        os.environ.pop(name, None)
    return dropped


def settings_for(settings: Settings, role: str) -> Settings:
    """The settings an actor of `role` receives: every credential it does not need is removed before pickling.

    A removed key (`SecretStr`) becomes None; a removed URL keeps its masked form (`nats://****@bus:4222`), so the
    role still sees that one is configured, and a role wired to use a URL it was not given fails to authenticate
    instead of falling back to a default. The MCP servers keep their names and source types only (no env, headers
    or args); every provider but an LLM actor's own loses its key, and its base URL is masked.
    """
    own = role.removeprefix("llm-") if role.startswith("llm-") else None
    if own is None and role not in ROLE_SECRETS:
        raise ValueError(f"unknown actor role {role!r}")
    keep = SHARED_SECRETS | ROLE_SECRETS.get(role, frozenset())
    update: dict[str, Any] = {}
    for name in SECRET_FIELDS:
        value = getattr(settings, name)
        if name in keep or value is None:
            continue
        update[name] = mask_secrets(value) if isinstance(value, str) else None
    if "mcp_servers" not in keep:
        update["mcp_servers"] = {
            name: {k: v for k, v in config.items() if k == "source_type"} for name, config in settings.mcp_servers.items()
        }
    update["llm"] = {
        name: p if name == own else p.model_copy(update={"api_key": None, "base_url": mask_secrets(p.base_url)})
        for name, p in settings.llm.items()
    }
    return settings.model_copy(update=update)


def build_guards(settings: Settings) -> GuardRegistry:
    """The egress guard of this process, able to open job vaults with the keyring and stamp their retention."""
    from actors.pii import guard_registry, load_keyring

    guards = guard_registry()  # logs and spans of this process are checked against the same vaults
    guards.configure(keyring=load_keyring(settings), retention_days=settings.retention_days)
    return guards


def build_store(settings: Settings, *, guards: GuardRegistry | None = None) -> JobStore:
    """Job store on the configured database (migrated to head), sealing raw briefs with the vault keyring."""
    from cluster.sql_store import SqlJobStore

    return SqlJobStore.from_settings(settings, guards=guards)


def build_objects(settings: Settings) -> ObjectStore:
    """The S3 store when `settings.s3_endpoint` is set, else the filesystem store in `artifacts_dir`."""
    from cluster.objects import FsObjectStore, S3ObjectStore

    if settings.s3_endpoint:
        return S3ObjectStore(
            endpoint=settings.s3_endpoint, access_key=settings.s3_access_key, secret_key=settings.s3_secret_key,
            bucket=settings.s3_bucket, region=settings.s3_region, secure=settings.s3_secure,
            presign_expiry_s=settings.presign_expiry_s,
        )
    return FsObjectStore(settings.artifacts_dir)


def span_purge(settings: Settings) -> Callable[[datetime, bool], int]:
    """The sweep's span retention: drop old spans from this deployment's local span file."""
    from cluster.tracing import purge_spans

    return lambda before, dry_run: purge_spans(settings.spans_file, before, dry_run=dry_run)


def build_rules(settings: Settings) -> CleanupRules:
    """The cleanup rules: the YAML file `MKA_CLEANUP_RULES` names, else the defaults; `InvalidInput` names a bad field.

    Without `pii_retention_days` in the file, the vault and the raw brief keep `MKA_RETENTION_DAYS`; the event,
    job and span periods default to `MKA_EVENT_RETENTION_DAYS`, `MKA_JOB_RETENTION_DAYS` and `MKA_SPAN_RETENTION_DAYS`.
    """
    import yaml
    from pydantic import ValidationError

    from schemas._errors import InvalidInput, problems_from
    from schemas.lifecycle import CleanupRules

    data: dict[str, Any] = {}
    if settings.cleanup_rules is not None:
        path = settings.cleanup_rules
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise InvalidInput(f"cleanup rules {path}: {type(exc).__name__}: {exc}") from None
        if not isinstance(loaded, dict):
            raise InvalidInput(f"cleanup rules {path}: expected a mapping of rules, got {type(loaded).__name__}")
        data = loaded
    data.setdefault("pii_retention_days", settings.retention_days)
    data.setdefault("event_retention_days", settings.event_retention_days)
    data.setdefault("job_retention_days", settings.job_retention_days)
    data.setdefault("span_retention_days", settings.span_retention_days)
    try:
        return CleanupRules.model_validate(data)
    except ValidationError as exc:
        where = settings.cleanup_rules or "MKA_RETENTION_DAYS"
        problems = "; ".join(f"{p['field']}: {p['message']}" for p in problems_from(exc, whole="rules"))
        raise InvalidInput(f"cleanup rules {where}: {problems}") from None


def runner_config(settings: Settings) -> RunnerConfig:
    """The pipeline knobs of the runner."""
    from actors.orchestrator.runner import RunnerConfig

    return RunnerConfig(
        providers=list(settings.providers),
        deadline_s=settings.quorum_deadline_s,
        grace_s=settings.quorum_grace_s,
        step_max_attempts=settings.step_max_attempts,
        step_timeout_s=settings.step_timeout_s,
        provider_deadlines_s=dict(settings.provider_deadlines_s),
        cost_budget_usd=settings.cost_budget_usd,
        glossary=list(settings.glossary),
        cleanup=build_rules(settings),
    )


def build_runner(
    settings: Settings, agents: Agents, *, store: JobStore | None = None, objects: ObjectStore | None = None,
    guards: GuardRegistry | None = None, clock: Clock | None = None, tracer: Tracer | None = None,
    metrics: Metrics | None = None,
) -> JobRunner:
    """A job runner over the configured store and object store (or the given ones) and `agents`."""
    from actors.orchestrator.runner import JobRunner

    guards = guards or build_guards(settings)
    return JobRunner(
        store=store or build_store(settings, guards=guards), objects=objects or build_objects(settings), agents=agents,
        config=runner_config(settings), clock=clock, tracer=tracer, metrics=metrics, guards=guards,
    )


def build_ray_agents(settings: Settings, handles: dict[str, Any]) -> RayAgents:
    """The orchestrator's agents over the named actors' handles (`llm-<provider>` for the LLM agents)."""
    from actors.orchestrator.ray_agents import RayAgents

    return RayAgents(
        roles={role: handles[role] for role in handles
               if role in ("pii", "collector", "report", "localizer") or role.startswith("llm-")},
        llms={p: handles[f"llm-{p}"] for p in settings.providers if f"llm-{p}" in handles},
    )


def build_pii_service(settings: Settings, *, keyring: Keyring | None = None, guard_worker: bool = True) -> PiiService:
    """The PII role: Presidio with the configured recognizers and thresholds, and the vault keyring.

    `guard_worker`: this process's logs and spans are checked against the vaults it fills (a PII
    actor's worker); in-process agents leave that to the runner beside them, which registers each vault.
    """
    from actors.pii import (
        PiiAgent,
        PiiConfig,
        get_analyzer,
        guard_registry,
        load_keyring,
    )
    from actors.pii.service import PiiService

    keyring = keyring or load_keyring(settings)  # a missing or wrong key stops here, before any job
    guards = None
    if guard_worker:
        guards = guard_registry()
        guards.configure(keyring=keyring)
    return PiiService(PiiAgent(analyzer=get_analyzer(PiiConfig.from_settings(settings))), keyring, guards=guards)


def build_discovery_cache(settings: Settings) -> DiscoveryCache:
    """Each MCP server's tool list, kept for `MKA_MCP_TOOLS_TTL_S`."""
    from actors.mcp.discovery import DiscoveryCache

    return DiscoveryCache(settings.resolved_mcp_servers(), ttl_s=settings.mcp_tools_ttl_s, timeout_s=settings.mcp_timeout_s)


def build_broker(settings: Settings, catalog: Any) -> ResourceBroker:
    """The resolver of `mcp://` URIs over `catalog` (a discovery cache or a handle to one), with per-server limits."""
    from actors.mcp.broker import ResourceBroker

    return ResourceBroker(
        settings.resolved_mcp_servers(), catalog, timeout_s=settings.mcp_timeout_s,
        max_concurrency=settings.mcp_max_concurrency,
    )


def build_collector(settings: Settings, broker: Any, catalog: Any) -> DataCollectionAgent:
    """The data collection agent over `broker` and `catalog` (the objects, or handles to their actors)."""
    from actors.collection.web import parse_allow
    from actors.data_collection import DataCollectionAgent, collection_config
    from actors.pii.analyzer import NER_MODELS

    config = collection_config(
        settings.resolved_mcp_servers(), fetch_server=settings.fetch_server, fetch_allow=parse_allow(settings.fetch_allow),
        fetch_max_chars=settings.fetch_max_chars, max_document_bytes=int(settings.max_document_mb * 1024 * 1024),
        ner_languages=NER_MODELS, allowed_fetch_server=settings.allowed_fetch_server,
    )
    return DataCollectionAgent(broker, catalog, config)


def build_llm(settings: Settings, provider: str) -> LlmAgent | None:
    """The provider's agent: the stub, its SDK agent, or None when it is not configured."""
    from actors.llm import build_llm_agent

    return build_llm_agent(settings, provider)


def build_local_agents(
    settings: Settings, objects: ObjectStore, *, keyring: Keyring | None = None, llms: dict[str, LlmAgent] | None = None,
    pii: bool = True,
) -> LocalAgents:
    """Every agent in this process, no Ray (notebooks without a cluster, in-process tests): PII, MCP, LLMs, report,
    localizer. `pii=False` leaves out the PII role (and its NLP models) for work that never redacts (`mka localize`)."""
    from actors.llm import NotConfigured
    from actors.localization.agent import LocalizerRole
    from actors.orchestrator.local_agents import LocalAgents
    from actors.orchestrator.roles import CollectorRole, ReportRole
    from actors.report import ReportAgent

    if llms is None:
        llms = {p: agent for p in settings.providers if (agent := build_llm(settings, p)) is not None}
    cache = build_discovery_cache(settings)
    broker = build_broker(settings, cache)
    roles = {
        **({"pii": build_pii_service(settings, keyring=keyring, guard_worker=False)} if pii else {}),
        "collector": CollectorRole(build_collector(settings, broker, cache)),
        "report": ReportRole(ReportAgent(objects, pdf=settings.report_pdf)),
        "localizer": LocalizerRole(broker),
        **{f"llm-{p}": llms.get(p) or NotConfigured(settings, p) for p in settings.providers},
    }
    return LocalAgents(roles=roles, llms=llms, closers=[broker, cache])



def build_portal_app(settings: Settings) -> FastAPI:
    """The portal app over the running system: the named actors (started by `mka serve`, found here: the portal's
    settings lack the other roles' credentials), the job store and the object store."""
    from cluster.client import MkaClient
    from cluster.ray_runtime import find_actors
    from cluster.tracing import setup_tracing
    from serve_app.api import create_app
    from serve_app.backend import ClientBackend

    setup_tracing(settings)
    guards = build_guards(settings)
    client = MkaClient(
        settings, find_actors(settings), store=build_store(settings, guards=guards), objects=build_objects(settings)
    )
    store = client.store
    return create_app(ClientBackend(client), auth=build_authenticator(settings, store.engine),
                      config=portal_config(settings))


def build_authenticator(settings: Settings, engine: Any) -> Authenticator:
    """The portal's authenticator: API keys (and memberships) in the job store's database, JWTs from the configured
    issuer; MKA_AUTH=off makes every caller the local developer."""
    from cluster.identity_store import SqlIdentityStore
    from schemas import MkaError
    from serve_app.auth import Authenticator, JwtConfig, JwtVerifier

    verifier = None
    if settings.auth == "off" and not _loopback(settings.serve_host):
        raise MkaError(f"MKA_AUTH=off is for local development: the portal would serve {settings.serve_host} "
                       "with no authentication. Bind it to 127.0.0.1 (or ::1, localhost), or turn auth on.")
    if settings.jwt_issuer and settings.jwt_audience:
        issuer = settings.jwt_issuer.rstrip("/")
        verifier = JwtVerifier(JwtConfig(
            issuer=settings.jwt_issuer, jwks_url=settings.jwt_jwks_url or f"{issuer}/.well-known/jwks.json",
            audience=settings.jwt_audience, subject_claim=settings.jwt_subject_claim,
            projects_claim=settings.jwt_projects_claim, admin_subjects=frozenset(settings.jwt_admin_subjects),
        ))
    from cluster.signing import load_signing_key

    identity = SqlIdentityStore(engine, signer=load_signing_key(settings).sign)
    return Authenticator(identity, jwt=verifier, enabled=settings.auth != "off",
                         dev_pii_reader=settings.allow_pii)


def _loopback(host: str) -> bool:
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def portal_config(settings: Settings) -> PortalConfig:
    """The portal's limits from settings; the serve host is a trusted Host unless it is a wildcard bind."""
    import sys
    import tempfile

    from serve_app.config import PortalConfig
    from serve_app.http import HttpPolicy

    hosts = list(settings.allowed_hosts)
    if settings.serve_host not in ("0.0.0.0", "::", "") and settings.serve_host not in hosts:
        hosts.append(settings.serve_host)
    roots = (str(settings.home.absolute()), str(Path.cwd()), sys.prefix, tempfile.gettempdir(), str(Path.home()))
    http = HttpPolicy(max_body_bytes=settings.max_body_bytes, allowed_hosts=tuple(h.lower() for h in hosts),
                      cors_origins=tuple(settings.cors_origins), server_roots=roots)
    return PortalConfig(
        http=http, default_project=settings.default_project, rate_limit_per_minute=settings.rate_limit_per_minute,
        rate_limit_burst=settings.rate_limit_burst, sse_max_streams=settings.sse_max_streams,
        sse_max_seconds=settings.sse_max_seconds, sse_heartbeat_s=settings.sse_heartbeat_s,
        allow_scripts=settings.use_stubs,
    )
