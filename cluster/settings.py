"""Settings: every knob of the system, read once from `MKA_*` environment variables."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "load_settings"]


class Settings(BaseSettings):
    """Effective configuration; each field maps to `MKA_<NAME>` unless an alias says otherwise.

    Example:
        >>> Settings(home=Path("/tmp/mka")).resolved_database_url()
        'sqlite:////tmp/mka/mka.db'
    """

    model_config = SettingsConfigDict(env_prefix="MKA_", extra="ignore", frozen=True, populate_by_name=True)

    home: Path = Field(default=Path(".mka"), description="Working directory of the embedded default.")
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
    vault_key: SecretStr | None = Field(
        default=None, description="Fernet key encrypting PII vaults at rest; generated under home when unset."
    )
    providers: list[str] = Field(default_factory=lambda: ["openai", "gemini", "xai"])
    quorum_deadline_s: float = Field(default=60.0, gt=0, description="Wait this long for a quorum of answers.")
    quorum_grace_s: float = Field(default=1.0, ge=0, description="Extra wait for the rest once quorum is met.")
    step_max_attempts: int = Field(default=3, ge=1)
    step_timeout_s: float = Field(default=120.0, gt=0, description="Per-attempt timeout of a pipeline step.")
    report_pdf: bool = Field(default=True, description="Render the PDF; off stores the HTML report only.")
    ray_address: str | None = Field(default=None, description="Ray cluster to join; unset starts a local one.")
    ray_namespace: str = "mka"
    ray_dashboard: bool = Field(default=False, description="Start the Ray dashboard with a local cluster.")
    max_parallel_jobs: int = Field(default=16, ge=1)
    serve_host: str = "127.0.0.1"
    serve_port: int = 8000
    service_name: str = "mka"
    log_level: str = "INFO"
    default_project: str = "default"

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

    def resolved_mcp_servers(self) -> dict[str, dict[str, Any]]:
        """Return the configured MCP servers, or the bundled offline market-data server."""
        if self.mcp_servers:
            return self.mcp_servers
        return {"market-data": {"command": sys.executable, "args": ["-m", "actors.mcp.market_data_server"]}}

    def masked(self) -> dict[str, Any]:
        """Return the settings as plain data with secrets and URL passwords masked."""
        out: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = "****" if value.get_secret_value() else ""
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, str) and "://" in value and "@" in value:
                value = _mask_url_password(value)
            out[name] = value
        return out


def _mask_url_password(url: str) -> str:
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:****@{host}" if ":" in creds else url


def load_settings(**overrides: Any) -> Settings:
    """Build settings from the environment, with explicit overrides winning."""
    return Settings(**overrides)
