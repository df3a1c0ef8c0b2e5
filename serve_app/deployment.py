"""The portal as a Ray Serve deployment: the replica builds its app through the composition root at start."""

from __future__ import annotations

from typing import Any

from ray import serve

from cluster.settings import Settings

__all__ = ["Portal", "portal_app"]


@serve.deployment(name="mka-portal", num_replicas=1, ray_actor_options={"num_cpus": 0.1})
@serve.ingress()
class Portal:
    """Serve replica: its FastAPI app and backend are built when the replica starts, never at import time."""

    def __init__(self, settings: Settings) -> None:
        from cluster.bootstrap import build_portal_app, scrub_environment, settings_for

        scrub_environment()  # the replica inherited the driver's shell: its credentials are in `settings`
        self._app = build_portal_app(settings_for(settings, "portal"))

    def __serve_build_asgi_app__(self) -> Any:
        """The app Serve wraps (Serve calls this after the constructor)."""
        return self._app


def portal_app(settings: Settings) -> serve.Application:
    """The bound application `serve.run` / `serve deploy` take; the replica gets the portal's credentials only."""
    from cluster.bootstrap import settings_for
    from cluster.signing import pin_signing_key

    return Portal.bind(settings_for(pin_signing_key(settings), "portal"))
