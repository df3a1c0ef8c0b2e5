"""Settings: every knob of the system, read once from `MKA_*` environment variables."""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path
from typing import Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from cluster.secrets import mask_secrets

__all__ = ["PROVIDER_DEFAULTS", "ProviderSettings", "Settings", "default_home", "load_settings"]

_FLAT = ("api_key", "model", "base_url", "timeout_s", "price_input_per_1k", "price_output_per_1k")


class ProviderSettings(BaseModel):
    """One LLM provider's settings (MKA_LLM__<PROVIDER>__<FIELD>)."""

    model_config = ConfigDict(frozen=True)

    model: str = ""
    api_key: SecretStr | None = None
    base_url: str | None = Field(
        default=None,
        description="OpenAI: any compatible endpoint (Ollama, vLLM); Gemini: the API root; xAI: the gRPC host "
        "(http://host:port means an insecure local channel).",
    )
    timeout_s: float = Field(default=60.0, gt=0, description="Per-request timeout of one call.")
    price_input_per_1k: float = Field(default=0.0, ge=0, description="USD per 1k input tokens.")
    price_output_per_1k: float = Field(default=0.0, ge=0, description="USD per 1k output tokens.")


PROVIDER_DEFAULTS: dict[str, ProviderSettings] = {
    "openai": ProviderSettings(model="gpt-5.4-mini", price_input_per_1k=0.00075, price_output_per_1k=0.0045),
    "gemini": ProviderSettings(model="gemini-3.8-flash", price_input_per_1k=0.0003, price_output_per_1k=0.0025),
    "xai": ProviderSettings(model="grok-4.20-non-reasoning", price_input_per_1k=0.002, price_output_per_1k=0.006),
}
"""The one place provider defaults live."""

HOME_MARKER = ".mka"


def default_home(start: Path | None = None, environ: dict[str, str] | None = None) -> Path:
    """The home when MKA_HOME is unset: the nearest `.mka` directory at or above `start`, else the per-user one.

    The per-user directory is `$XDG_DATA_HOME/mka`, or `~/.local/share/mka`.
    """
    env = os.environ if environ is None else environ
    here = (start or Path.cwd()).absolute()
    for folder in (here, *here.parents):
        if (folder / HOME_MARKER).is_dir():
            return folder / HOME_MARKER
    data = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else Path.home() / ".local" / "share"
    return data / "mka"


class Settings(BaseSettings):
    """Effective configuration; each field maps to `MKA_<NAME>` unless an alias says otherwise.

    Example:
        >>> Settings(home=Path("/tmp/mka")).resolved_database_url()
        'sqlite:////tmp/mka/mka.db'
    """

    model_config = SettingsConfigDict(
        env_prefix="MKA_", env_nested_delimiter="__", extra="ignore", frozen=True, populate_by_name=True
    )

    home: Path = Field(
        default_factory=lambda: default_home(),
        description="Working directory of the embedded default: MKA_HOME, else the nearest `.mka` directory in the "
        "current directory or one above it (as git finds `.git`), else the per-user data directory.",
    )
    database_url: str | None = Field(default=None, description="SQLAlchemy URL; SQLite under home when unset.")
    db_pool_size: int = 10
    nats_url: str | None = Field(default=None, description="NATS server; unset keeps events in the outbox only.")
    nats_stream: str = "MKA_EVENTS"
    nats_duplicate_window_s: float = 300.0
    relay_batch_size: int = 200
    relay_poll_interval_s: float = 0.2
    s3_endpoint: str | None = Field(default=None, description="host:port of an S3 API; unset uses the filesystem.")
    s3_access_key: str | None = None
    s3_secret_key: SecretStr | None = None
    s3_bucket: str = "mka-artifacts"
    s3_region: str = "us-east-1"
    s3_secure: bool = False
    presign_expiry_s: int = 3600
    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("MKA_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"),
        description="OTLP/HTTP collector (Jaeger); unset writes spans to a JSON-lines file.",
    )
    mcp_servers: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description='MCP servers by name, e.g. {"market-data": {"command": "python", "args": [...]}}; '
        "empty means the bundled market-data server.",
    )
    mcp_tools_ttl_s: float = 300.0
    mcp_timeout_s: float = 20.0
    mcp_max_concurrency: int = 4
    # --- data collection from the user's sources -------------------------------------------------------------
    max_document_mb: float = Field(default=25.0, gt=0, le=1024, description="Largest document a user may upload.")
    fetch_server: str = Field(
        default="fetch", description="Name of the MCP server that reads the brief's URLs; the official "
        "mcp-server-fetch is added under it unless MKA_MCP_SERVERS configures that name."
    )
    fetch_allow: str = Field(
        default="", description="Comma-separated hosts the fetch server may read although they resolve to private, "
        "loopback or link-local addresses (refused otherwise); they are read through a second fetch server, "
        "`<MKA_FETCH_SERVER>-allowed`, the only one that lets private addresses through."
    )
    fetch_max_chars: int = Field(default=50_000, ge=1000, le=999_999, description="Characters read per page (the "
                                 "fetch server takes fewer than a million).")
    vault_key: SecretStr | None = Field(
        default=None, description="Fernet key encrypting PII vaults at rest; generated under home when unset."
    )
    # --- PII: retention of a job's vault, detection thresholds and patterns ------------------------------------
    signing_key: SecretStr | None = Field(
        default=None, description="Ed25519 private key (PEM, or the path of a PEM file) signing every event; "
        "generated under home when unset.",
    )
    retention_days: int = Field(default=30, ge=1, le=2555, description="Days a finished job's PII vault and raw "
                                "brief are kept (the cleanup rules' pii_retention_days default).")
    event_retention_days: int = Field(default=90, ge=1, le=2555, description="Days events are kept in the outbox "
                                      "(once relayed) and in the JetStream stream (max_age).")
    job_retention_days: int = Field(default=400, ge=1, le=2555, description="Days after a job ended before its "
                                    "row becomes a tombstone (once none of its objects is left).")
    span_retention_days: int = Field(default=30, ge=1, le=2555, description="Days spans are kept in the local "
                                     "span file.")
    # --- artifact lifecycle: the cleanup rules and the sweeper that applies them -----------------------------
    sweep_interval_s: float = Field(
        default=3600.0, gt=0,
        description="The sweeper (`mka-sweeper`) applies the cleanup rules this often, and at start.",
    )
    cleanup_rules: Path | None = Field(
        default=None,
        description="YAML file of cleanup rules (`schemas.lifecycle.CleanupRules`); unset: the defaults, with "
        "pii_retention_days = MKA_RETENTION_DAYS.",
    )
    allow_pii: bool = Field(
        default=False, description="This reader may see re-identified PII (a flag until RBAC): `mka jobs merge --reveal-pii`."
    )
    pii_min_scores: dict[str, float] = Field(
        default_factory=dict, description='Per-entity PII score thresholds, e.g. {"PERSON": 0.6}; others keep defaults.'
    )
    pii_id_patterns: list[str] = Field(
        default_factory=list,
        description="Regexes of customer/lead ids (a group named id marks the id inside a match); empty keeps defaults.",
    )
    pii_allow_terms: list[str] = Field(default_factory=list, description="Terms never redacted in any job (own brands).")
    providers: list[str] = Field(default_factory=lambda: ["openai", "gemini", "xai"])
    quorum_deadline_s: float = Field(default=60.0, gt=0, description="Wait this long for a quorum of answers.")
    quorum_grace_s: float = Field(default=1.0, ge=0, description="Extra wait for the rest once quorum is met.")
    step_max_attempts: int = Field(default=3, ge=1)
    step_timeout_s: float = Field(default=120.0, gt=0, description="Per-attempt timeout of a pipeline step.")
    report_pdf: bool = Field(default=True, description="Render the PDF; off stores the HTML report only.")
    report_actors: int = Field(default=2, ge=1, le=64, description="Report actors rendering PDFs in parallel.")
    glossary: list[str] = Field(
        default_factory=list,
        description='Terms every translation keeps exactly as written (brands, product names), a JSON list: '
        'MKA_GLOSSARY=\'["Oatly", "Barista Edition"]\'. The brief\'s product and competitors are always kept.',
    )
    # --- LLM providers: stubs by default; official SDKs when MKA_USE_STUBS=false and a key is present ----------
    use_stubs: bool = Field(
        default=True,
        description="Scripted offline stub providers (demo, tests). false: each provider with a key (or an "
        "OpenAI-compatible base URL) uses its official SDK; a provider without one is reported as not configured.",
    )
    llm: dict[str, ProviderSettings] = Field(
        default_factory=dict,
        description="Per-provider settings, e.g. MKA_LLM__OPENAI__MODEL, MKA_LLM__GEMINI__API_KEY, "
        "MKA_LLM__XAI__BASE_URL; unset fields keep the provider's defaults (PROVIDER_DEFAULTS).",
    )
    # Deprecated flat provider variables (MKA_OPENAI_MODEL, ...): still read, folded into `llm`, with a warning.
    # The vendors' own key variables (OPENAI_API_KEY, GEMINI_API_KEY, GOOGLE_API_KEY, XAI_API_KEY) and
    # OPENAI_BASE_URL stay supported without a warning.
    openai_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("MKA_OPENAI_API_KEY", "OPENAI_API_KEY"))
    openai_model: str | None = None
    openai_base_url: str | None = Field(default=None, validation_alias=AliasChoices("MKA_OPENAI_BASE_URL", "OPENAI_BASE_URL"))
    openai_timeout_s: float | None = Field(default=None, gt=0)
    openai_price_input_per_1k: float | None = Field(default=None, ge=0)
    openai_price_output_per_1k: float | None = Field(default=None, ge=0)
    gemini_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("MKA_GEMINI_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY")
    )
    gemini_model: str | None = None
    gemini_base_url: str | None = None
    gemini_timeout_s: float | None = Field(default=None, gt=0)
    gemini_price_input_per_1k: float | None = Field(default=None, ge=0)
    gemini_price_output_per_1k: float | None = Field(default=None, ge=0)
    xai_api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices("MKA_XAI_API_KEY", "XAI_API_KEY"))
    xai_model: str | None = None
    xai_base_url: str | None = None
    xai_timeout_s: float | None = Field(default=None, gt=0)
    xai_price_input_per_1k: float | None = Field(default=None, ge=0)
    xai_price_output_per_1k: float | None = Field(default=None, ge=0)
    llm_max_output_tokens: int = Field(default=4096, ge=16, description="Output cap of one model call.")
    figma_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("MKA_FIGMA_TOKEN", "FIGMA_TOKEN"),
        description="A Figma personal access token, to read templates with `mka figma templates add --file-key`.",
    )
    figma_api_url: str = Field(default="https://api.figma.com", description="Figma's REST API (a fake in tests).")
    cost_budget_usd: float | None = Field(
        default=None, ge=0, description="Per-job LLM budget: providers whose estimated cost would exceed it are not asked."
    )
    provider_deadlines_s: dict[str, float] = Field(
        default_factory=dict, description='Per-provider deadlines within the quorum deadline, e.g. {"xai": 20}.'
    )
    ray_address: str | None = Field(default=None, description="Ray cluster to join; unset starts a local one.")
    ray_namespace: str = "mka"
    ray_dashboard: bool = Field(default=False, description="Start the Ray dashboard with a local cluster.")
    max_parallel_jobs: int = Field(default=16, ge=1)
    serve_host: str = "127.0.0.1"
    serve_port: int = 8000
    # --- the portal: identity, limits, HTTP policy -------------------------------------------------------------
    auth: str = Field(
        default="on", pattern="^(on|off)$",
        description="on: every non-public portal route needs an API key or a JWT. off: local development only "
        "(every caller is an admin of every project; mka serve warns).",
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024,
                                description="Largest JSON request body (413 past it, checked while reading).")
    allowed_hosts: list[str] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "::1"],
        description='Host header values the portal answers (a JSON list; "*" for any). The serve host is added.',
    )
    cors_origins: list[str] = Field(
        default_factory=list, description='Browser origins allowed to call the portal, e.g. ["https://app.example"].'
    )
    rate_limit_per_minute: float = Field(default=600.0, ge=0, description="Requests per credential per minute (0: off).")
    rate_limit_burst: int = Field(default=120, ge=1, description="Requests one credential may make at once.")
    sse_max_streams: int = Field(default=4, ge=1, description="Open event streams per credential.")
    sse_max_seconds: float = Field(default=3600.0, gt=0, description="Longest event stream (reconnect with Last-Event-ID).")
    sse_heartbeat_s: float = Field(default=15.0, gt=0, description="Comment line sent on an idle event stream.")
    jwt_issuer: str | None = Field(default=None, description="OIDC issuer whose bearer tokens are accepted (iss).")
    jwt_jwks_url: str | None = Field(default=None, description="The issuer's JWKS; default <issuer>/.well-known/jwks.json.")
    jwt_audience: str | None = Field(default=None, description="The audience (aud) tokens must carry; required with "
                                     "MKA_JWT_ISSUER.")
    jwt_subject_claim: str = "sub"
    jwt_projects_claim: str | None = Field(
        default=None, description='A claim with project roles ({"acme": "analyst"} or ["acme:analyst"]), added to '
        "the memberships.",
    )
    jwt_admin_subjects: list[str] = Field(default_factory=list, description="Token subjects that are deployment admins.")
    service_name: str = "mka"
    log_level: str = "INFO"
    default_project: str = "default"

    @model_validator(mode="after")
    def _jwt_needs_an_audience(self) -> Settings:
        # A shared issuer (a company IdP) mints tokens for many apps: without an audience, any of them would do.
        if self.jwt_issuer and not self.jwt_audience:
            raise ValueError("MKA_JWT_ISSUER needs MKA_JWT_AUDIENCE: the audience (aud) this portal's tokens carry")
        return self

    @model_validator(mode="after")
    def _fold_flat_provider_settings(self) -> Settings:
        # Each provider's effective settings: its defaults, then the deprecated flat variables, then the fields
        # MKA_LLM__<PROVIDER>__* set (only those: `{"openai": {"model": ...}}` leaves the rest to the layers below).
        nested = {name: value.model_dump(exclude_unset=True) for name, value in self.llm.items()}
        merged: dict[str, ProviderSettings] = {}
        flat_used = []
        for name in {*PROVIDER_DEFAULTS, *self.llm}:
            values = PROVIDER_DEFAULTS.get(name, ProviderSettings()).model_dump()
            for field in _FLAT:
                flat = getattr(self, f"{name}_{field}", None)
                if flat is not None:
                    values[field] = flat
                    if f"MKA_{name.upper()}_{field.upper()}" in os.environ:  # vendor names (OPENAI_API_KEY) stay current
                        flat_used.append(f"MKA_{name.upper()}_{field.upper()}")
            values.update(nested.get(name, {}))
            merged[name] = ProviderSettings.model_validate(values)
        if flat_used:
            warnings.warn(
                f"{', '.join(sorted(flat_used))}: deprecated, use MKA_LLM__<PROVIDER>__<FIELD> "
                "(e.g. MKA_LLM__OPENAI__MODEL)", DeprecationWarning, stacklevel=2,
            )
        object.__setattr__(self, "llm", merged)  # frozen: set once, while validating
        return self

    def provider(self, name: str) -> ProviderSettings:
        """The effective settings of one LLM provider (defaults for one it does not know)."""
        return self.llm.get(name) or ProviderSettings(model=f"{name}-default")

    @field_validator("home")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        # A relative MKA_HOME means the directory it names from where the command started; print it absolute.
        return value.expanduser().absolute()

    def resolved_database_url(self) -> str:
        """Return the configured database URL, or the SQLite file of the embedded default."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'mka.db').absolute()}"

    @property
    def artifacts_dir(self) -> Path:
        """Directory of the filesystem object store."""
        return self.home / "artifacts"

    @property
    def spans_file(self) -> Path:
        """JSON-lines span file used when no OTLP endpoint is set."""
        return self.home / "spans.jsonl"

    @property
    def allowed_fetch_server(self) -> str:
        """The fetch server that reads the allow-listed (private) hosts: `<MKA_FETCH_SERVER>-allowed`."""
        return f"{self.fetch_server}-allowed"

    def resolved_mcp_servers(self) -> dict[str, dict[str, Any]]:
        """Return the configured MCP servers (or the bundled offline market-data server), and the fetch server."""
        servers = dict(self.mcp_servers) or {
            "market-data": {"command": sys.executable, "args": ["-m", "actors.mcp.market_data_server"],
                            "source_type": "dataset"},
        }
        fetch = [sys.executable, "-m", "mcp_server_fetch"]
        log = str(self.home / "logs" / "mcp-fetch.log")
        if self.fetch_server not in servers:  # guards every request and redirect against private addresses
            servers[self.fetch_server] = {"command": sys.executable, "args": fetch[1:], "source_type": "web",
                                          "stderr": log}
        if self.fetch_allow.strip() and self.allowed_fetch_server not in servers:
            # Only the operator's allow-listed hosts are read through this one (it lets private addresses through).
            servers[self.allowed_fetch_server] = {"command": sys.executable, "args": [*fetch[1:], "--allow-private-ips"],
                                                  "source_type": "web", "stderr": log}
        return servers

    def masked(self) -> dict[str, Any]:
        """Return the settings as plain data with every secret masked (`cluster.secrets.mask_secrets`)."""
        out = {name: str(value) if isinstance(value, Path) else value for name, value in mask_secrets(self).items()}
        out["llm"] = dict(sorted(out["llm"].items()))
        return out

    def __repr_args__(self) -> Any:
        # A traceback or log line that shows the settings shows them masked.
        return list(self.masked().items())


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, with explicit overrides winning; `InvalidInput` names each bad setting
    without its value (pydantic's own message quotes the input, which may be a key or a password)."""
    from pydantic import ValidationError

    from schemas._errors import InvalidInput

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors())
        raise InvalidInput(f"invalid settings: {problems}") from None
