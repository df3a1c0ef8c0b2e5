"""HTTP hardening in front of every route: trusted hosts, the CORS allow-list, JSON-only bodies with a size limit
enforced while streaming, and RFC 9457 problem details as the one error shape."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from schemas import MkaError, RequestRejected

__all__ = ["PROBLEM_TYPE", "HttpPolicy", "PortalGuard", "problem_body", "scrub_paths"]

PROBLEM_TYPE = "urn:mka:problem:{code}"
_JSON_TYPE = re.compile(r"application/(?:[\w.+-]+\+)?json", re.I)
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, Last-Event-ID, X-Mka-Project"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class HttpPolicy:
    """The operator's HTTP limits (MKA_MAX_BODY_BYTES, MKA_ALLOWED_HOSTS, MKA_CORS_ORIGINS)."""

    max_body_bytes: int = 1024 * 1024
    allowed_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
    cors_origins: tuple[str, ...] = ()
    multipart_paths: frozenset[str] = frozenset({"/v1/documents"})  # the one route with its own (upload) limit
    # The Figma plugin's panel is an iframe of origin `null`: it may read fill plans, nothing else.
    null_origin_paths: tuple[str, ...] = (r"/v1/jobs/[^/]+/figma-plan",)
    server_roots: tuple[str, ...] = field(default=())  # absolute paths never shown in a response


def scrub_paths(text: str, roots: Iterable[str]) -> str:
    """`text` with every server root (home, working directory, install prefix) replaced by `…`."""
    for root in sorted((r.rstrip("/") for r in roots if r and r != "/"), key=len, reverse=True):
        text = text.replace(root, "…")
    return text


def problem_body(status: int, *, code: str, detail: str, instance: str | None = None,
                 extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """An RFC 9457 problem: `type` (a URN per error code), `title`, `status`, `detail`, `instance`, extensions."""
    body: dict[str, Any] = {"type": PROBLEM_TYPE.format(code=code), "title": HTTPStatus(status).phrase,
                            "status": status, "detail": detail, "code": code}
    if instance:
        body["instance"] = instance
    body.update(extra or {})
    return body


async def send_problem(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    """Write a problem response on a raw ASGI channel."""
    raw = json.dumps(body).encode()
    pairs = [(b"content-type", b"application/problem+json"), (b"content-length", str(len(raw)).encode())]
    pairs += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": pairs})
    await send({"type": "http.response.body", "body": raw})


class PortalGuard:
    """ASGI middleware: refuse bad hosts, foreign origins' preflights, non-JSON and oversized bodies early.

    The body limit is checked from Content-Length first and then counted while the route reads, so an
    endless or lying body is cut at the limit (413) instead of being read in full.
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], *, policy: HttpPolicy) -> None:
        """Wrap `app` with `policy`."""
        self.app = app
        self.policy = policy
        self._null_paths = [re.compile(p) for p in policy.null_origin_paths]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request, then pass it on (with a counting `receive`)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        path, method = scope.get("path", ""), scope.get("method", "GET").upper()
        try:
            self._check_host(headers.get("host", ""))
        except RequestRejected as exc:
            await send_problem(send, 400, problem_body(400, code=exc.code, detail=exc.message, instance=path,
                                                       extra={"reason": exc.reason}))
            return
        cors = self._cors_headers(headers.get("origin"), path)
        if method == "OPTIONS" and "access-control-request-method" in headers:
            if cors is None:
                await send_problem(send, 403, problem_body(403, code="cors_refused", instance=path,
                                                           detail="this origin is not in MKA_CORS_ORIGINS"))
            else:
                await send({"type": "http.response.start", "status": 204,
                            "headers": [(k.lower().encode(), v.encode()) for k, v in cors.items()]})
                await send({"type": "http.response.body", "body": b""})
            return
        send = _with_headers(send, cors) if cors else send
        if method in _BODY_METHODS and path not in self.policy.multipart_paths:
            rejected = self._check_body(headers)
            if rejected is not None:
                status = 413 if rejected.reason == "too_large" else 415 if rejected.reason == "unsupported_type" else 400
                await send_problem(send, status, problem_body(status, code=rejected.code, detail=rejected.message,
                                                              instance=path, extra={"reason": rejected.reason}))
                return
            receive = _counting(receive, self.policy.max_body_bytes)
        await self.app(scope, receive, send)

    def _check_host(self, host: str) -> None:
        allowed = self.policy.allowed_hosts
        if "*" in allowed:
            return
        name = host.strip().lower()
        name = name[1:].split("]", 1)[0] if name.startswith("[") else name.rsplit(":", 1)[0] if name.count(":") == 1 else name
        if name not in allowed:
            raise RequestRejected("this Host is not served here (MKA_ALLOWED_HOSTS)", reason="bad_host")

    def _cors_headers(self, origin: str | None, path: str) -> dict[str, str] | None:
        if not origin:
            return None
        allowed = origin in self.policy.cors_origins and origin != "null"
        if origin == "null":  # sandboxed frames and file pages share it: only the Figma plugin's reads
            allowed = any(p.fullmatch(path) for p in self._null_paths)
        if not allowed:
            return None
        return {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Methods": "GET, POST, DELETE",
                "Access-Control-Allow-Headers": _ALLOWED_HEADERS, "Access-Control-Max-Age": "600",
                "Access-Control-Expose-Headers": "Retry-After, X-Content-SHA256", "Vary": "Origin"}

    def _check_body(self, headers: dict[str, str]) -> RequestRejected | None:
        declared = headers.get("content-length", "").strip()
        if declared and not declared.isascii():
            return RequestRejected("Content-Length is not a number", reason="bad_header")
        if declared.isdigit() and int(declared) > self.policy.max_body_bytes:
            return RequestRejected(f"the body is over the {self.policy.max_body_bytes} byte limit (MKA_MAX_BODY_BYTES)",
                                   reason="too_large")
        has_body = (declared.isdigit() and int(declared) > 0) or "chunked" in headers.get("transfer-encoding", "")
        kind = headers.get("content-type", "").split(";", 1)[0].strip()
        if has_body and not _JSON_TYPE.fullmatch(kind):
            return RequestRejected("send the body as application/json", reason="unsupported_type")
        return None


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message.get("type") == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise RequestRejected(f"the body is over the {limit} byte limit (MKA_MAX_BODY_BYTES)", reason="too_large")
        return message

    return counted


def _with_headers(send: Send, extra: dict[str, str]) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []),
                                              *((k.lower().encode(), v.encode()) for k, v in extra.items())]}
        await send(message)

    return sending


def error_extras(exc: MkaError) -> dict[str, Any]:
    """The error's own fields as problem extensions (`errors` for per-field problems, `reason`, `retry_after_s`)."""
    data = exc.to_dict()
    extras = {k: v for k, v in data.items() if k not in ("code", "message", "problems")}
    if "problems" in data:
        extras["errors"] = data["problems"]
    return extras
