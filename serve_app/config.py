"""The portal's operator settings as one value the app is built with (the composition root fills it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from serve_app.http import HttpPolicy

__all__ = ["PortalConfig"]


@dataclass(frozen=True)
class PortalConfig:
    """Limits and switches of one portal: HTTP policy, rate limits, event streams, what callers may override."""

    http: HttpPolicy = field(default_factory=HttpPolicy)
    default_project: str = "default"
    rate_limit_per_minute: float = 600.0
    rate_limit_burst: int = 120
    auth_failures_per_minute: float = 30.0  # failed sign-ins per client address (each costs an argon2 check)
    auth_failures_burst: int = 20
    sse_max_streams: int = 4
    sse_max_seconds: float = 3600.0
    sse_heartbeat_s: float = 15.0
    sse_poll_s: float = 0.25
    sse_reauth_s: float = 30.0  # an open stream checks its credential again this often
    allow_scripts: bool = False  # a providers_script drives the stub LLMs: accepted only when stubs are on
