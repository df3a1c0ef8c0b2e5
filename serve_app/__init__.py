"""The portal HTTP API: FastAPI app, its backend port, and the Ray Serve deployment."""

from __future__ import annotations

from serve_app.api import API_VERSION, JobRequest, create_app, status_for
from serve_app.backend import ClientBackend, PortalBackend

__all__ = ["API_VERSION", "ClientBackend", "JobRequest", "PortalBackend", "create_app", "status_for"]
