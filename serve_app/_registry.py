"""The process's portal backend, set by the Serve replica that hosts the app.

Ray Serve hands each replica a deserialized copy of the FastAPI app, so the replica cannot reach
the copy's `app.state`; the routes look the backend up here at call time instead.
"""

from __future__ import annotations

from typing import Any

backend: Any = None
