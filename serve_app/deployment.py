"""The portal as a Ray Serve deployment (`@serve.ingress` over the FastAPI app)."""

from __future__ import annotations

from ray import serve

from cluster.settings import Settings
from serve_app.api import create_app

__all__ = ["Portal", "portal_app"]

api = create_app()


@serve.deployment(name="mka-portal", num_replicas=1, ray_actor_options={"num_cpus": 0.1})
@serve.ingress(api)
class Portal:
    """Serve replica: connects to the named actors and hands the API its backend."""

    def __init__(self, settings: Settings) -> None:
        from cluster.bootstrap import build_store
        from cluster.client import MkaClient
        from cluster.objects import build_object_store
        from cluster.ray_runtime import ensure_actors
        from cluster.tracing import setup_tracing
        from serve_app.backend import ClientBackend

        setup_tracing(settings)
        client = MkaClient(
            settings, ensure_actors(settings), store=build_store(settings), objects=build_object_store(settings)
        )
        from serve_app import _registry

        _registry.backend = ClientBackend(client)


def portal_app(settings: Settings) -> serve.Application:
    """The bound application `serve.run` / `serve deploy` take."""
    return Portal.bind(settings)
