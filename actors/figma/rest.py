"""A Figma REST API client for templates: GET /v1/files/:key and /v1/files/:key/nodes, with the X-Figma-Token.

Figma's REST API reads files; it cannot create or edit layers (only a plugin can), so this is all
the export needs from it. A 429 is retried after its Retry-After (when that is short enough), a 5xx
after a backoff; 403, 404 and anything else fail at once with `FigmaError` naming the cause.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from schemas import MkaError

__all__ = ["DEFAULT_API_URL", "FigmaClient", "FigmaError", "parse_file_ref"]

DEFAULT_API_URL = "https://api.figma.com"
_KEY = re.compile(r"^[A-Za-z0-9]{6,128}$")


class FigmaError(MkaError):
    """The Figma API refused or failed a request; `reason` is auth, not_found, rate_limited, server_error,
    bad_response or unreachable."""

    code = "figma_error"

    def __init__(self, message: str, *, reason: str, retryable: bool = False) -> None:
        super().__init__(message, retryable=retryable)
        self.reason = reason

    def to_dict(self) -> dict[str, Any]:
        """The error with its reason."""
        return {**super().to_dict(), "reason": self.reason}


def parse_file_ref(ref: str) -> tuple[str, list[str]]:
    """A file key, or a Figma file URL (…/file/KEY/… or …/design/KEY/…, `?node-id=1-2` picks a frame) ->
    (key, node ids); `FigmaError` (bad_response) when it is neither."""
    text = ref.strip()
    if _KEY.fullmatch(text):
        return text, []
    parts = urlsplit(text)
    match = re.match(r"^/(?:file|design|proto|board)/([A-Za-z0-9]{6,128})(?:/|$)", parts.path)
    if parts.scheme in ("http", "https") and (parts.hostname or "").endswith("figma.com") and match:
        ids = [unquote(v).replace("-", ":") for v in parse_qs(parts.query).get("node-id", [])]
        return match.group(1), ids
    raise FigmaError(f"{ref!r} is neither a Figma file key nor a figma.com file URL", reason="bad_response")


class FigmaClient:
    """Reads files over Figma's REST API with a personal access token."""

    def __init__(self, token: str, *, base_url: str = DEFAULT_API_URL, timeout_s: float = 30.0, max_retries: int = 3,
                 max_wait_s: float = 60.0, sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not token:
            raise FigmaError("no Figma token: set MKA_FIGMA_TOKEN to a personal access token "
                             "(Figma → Settings → Security), or add the file's JSON instead", reason="auth")
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport,
                                  headers={"X-Figma-Token": token, "Accept": "application/json"})
        self._retries, self._max_wait, self._sleep = max_retries, max_wait_s, sleep

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def file(self, key: str, *, ids: list[str] | None = None) -> dict[str, Any]:
        """The file's JSON (GET /v1/files/:key), or only some frames of it (GET /v1/files/:key/nodes?ids=…)."""
        if not _KEY.fullmatch(key):
            raise FigmaError(f"{key!r} is not a Figma file key", reason="bad_response")
        if ids:
            return self._get(f"/v1/files/{key}/nodes", {"ids": ",".join(ids)})
        return self._get(f"/v1/files/{key}", {})

    def _get(self, path: str, params: dict[str, str]) -> dict[str, Any]:
        for attempt in range(self._retries + 1):
            try:
                response = self._http.get(path, params=params)
            except httpx.HTTPError as exc:
                if attempt < self._retries:
                    self._sleep(2.0 ** attempt)
                    continue
                raise FigmaError(f"Figma API unreachable: {type(exc).__name__}", reason="unreachable",
                                 retryable=True) from None
            status = response.status_code
            if status == 200:
                try:
                    body = response.json()
                except ValueError:
                    raise FigmaError("Figma API answered 200 with a body that is not JSON", reason="bad_response") from None
                if not isinstance(body, dict):
                    raise FigmaError("Figma API answered 200 with JSON that is not an object", reason="bad_response")
                return body
            message = _error_text(response)
            if status == 429:
                wait = _retry_after(response)
                if attempt < self._retries and wait <= self._max_wait:
                    self._sleep(wait)
                    continue
                kind = response.headers.get("X-Figma-Rate-Limit-Type", "")
                raise FigmaError(f"Figma API rate limit{f' ({kind})' if kind else ''}: retry after {wait:.0f} s",
                                 reason="rate_limited", retryable=True)
            if status >= 500:
                if attempt < self._retries:
                    self._sleep(2.0 ** attempt)
                    continue
                raise FigmaError(f"Figma API failed with {status}: {message}", reason="server_error", retryable=True)
            if status in (401, 403):
                raise FigmaError(f"Figma refused the token ({status}: {message}): check MKA_FIGMA_TOKEN and that it "
                                 "can read this file", reason="auth")
            if status == 404:
                raise FigmaError(f"no such Figma file ({message}): check the file key", reason="not_found")
            raise FigmaError(f"Figma API answered {status}: {message}", reason="bad_response")
        raise AssertionError("unreachable")


def _error_text(response: httpx.Response) -> str:
    """Figma's own error words (`err` or `message`), short."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or "error"
    text = body.get("err") or body.get("message") if isinstance(body, dict) else None
    return str(text or response.reason_phrase or "error")[:200]


def _retry_after(response: httpx.Response) -> float:
    """Seconds to wait from Retry-After (delta seconds; an HTTP date is taken as 60 s); 60 s when absent."""
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return 60.0
