"""Benchmark the portal's access checks: request latency with an API key (first, argon2, and cached), with a JWT,
anonymous refusals, and the guard's cost next to an open route. Prints JSON."""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 2),
            "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2), "n": len(ordered)}


def main() -> None:
    """Build a portal on a fake backend and time requests through it."""
    from fastapi.testclient import TestClient

    from serve_app import create_app
    from serve_app.auth import Authenticator, create_key
    from serve_app.config import PortalConfig
    from serve_app.http import HttpPolicy
    from tests.portal import FakeBackend, make_identity

    keys = make_identity(Path(tempfile.mkdtemp(prefix="mka-bench-auth-")))
    config = PortalConfig(http=HttpPolicy(allowed_hosts=("testserver",)), rate_limit_per_minute=0)
    app = create_app(FakeBackend(), auth=Authenticator(keys.identity), config=config)
    client = TestClient(app)
    out: dict[str, object] = {}

    def timed(n: int, call) -> list[float]:  # type: ignore[no-untyped-def]
        samples = []
        for _ in range(n):
            start = time.perf_counter()
            call()
            samples.append(time.perf_counter() - start)
        return samples

    out["public_route"] = _ms(timed(300, lambda: client.get("/v1/health/live")))
    out["anonymous_401"] = _ms(timed(300, lambda: client.get("/v1/me")))
    fresh = [create_key(keys.identity, project="acme", role="viewer", actor="bench")[1] for _ in range(20)]
    out["api_key_first_use"] = _ms([timed(1, lambda k=k: client.get("/v1/me", headers={"Authorization": f"Bearer {k}"}))[0]
                                   for k in fresh])
    auth = {"Authorization": f"Bearer {keys.viewer}"}
    client.get("/v1/me", headers=auth)
    out["api_key_cached"] = _ms(timed(300, lambda: client.get("/v1/me", headers=auth)))
    out["wrong_key_401"] = _ms(timed(20, lambda: client.get(
        "/v1/me", headers={"Authorization": f"Bearer {keys.viewer[:-4]}AAAA"})))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
