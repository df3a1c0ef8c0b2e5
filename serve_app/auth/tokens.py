"""JWT bearer tokens from an OIDC issuer: signature against its JWKS (fetched over HTTP, cached), issuer, audience
and expiry checked, the subject and optional project roles read from configurable claims."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

from schemas import AdapterError, Unauthenticated
from serve_app.auth.rbac import Role

__all__ = ["JwtConfig", "JwtVerifier", "TokenClaims"]


@dataclass(frozen=True)
class JwtConfig:
    """Which tokens to accept (MKA_JWT_*): issuer, audience (required: a shared issuer mints tokens for other
    apps too), JWKS URL and claim names."""

    issuer: str
    jwks_url: str
    audience: str
    subject_claim: str = "sub"
    projects_claim: str | None = None  # e.g. "projects": {"acme": "analyst"} or ["acme:analyst", ...]
    algorithms: tuple[str, ...] = ("RS256", "ES256", "EdDSA")
    leeway_s: float = 30.0
    jwks_ttl_s: float = 300.0
    fetch_timeout_s: float = 3.0
    failure_ttl_s: float = 15.0  # after a failed fetch, answer 503 at once for this long
    admin_subjects: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: its subject, and project roles when the projects claim is configured."""

    subject: str
    roles: Mapping[str, Role]


class JwtVerifier:
    """Validate bearer tokens against the issuer's keys.

    The JWKS is cached for `jwks_ttl_s` and fetched again (at most every 30 s) for an unknown `kid`. One thread
    fetches at a time (within `fetch_timeout_s` overall); others use the cached keys, or answer 503 at once when
    there are none, so an issuer that hangs never ties up the portal's threads. A failed fetch is remembered for
    `failure_ttl_s`.
    """

    def __init__(self, config: JwtConfig, *, monotonic: Callable[[], float] = time.monotonic,
                 fetch: Callable[[str, float], Any] | None = None) -> None:
        """Nothing is fetched until the first token arrives; `fetch(url, timeout)` returns the JWKS JSON."""
        self.config = config
        self._now = monotonic
        self._fetch = fetch or _http_json
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._failed_at: float | None = None
        self._lock = threading.Lock()

    def verify(self, token: str) -> TokenClaims:
        """The token's claims, or `Unauthenticated` (bad signature, issuer, audience, expiry); `AdapterError` when
        the JWKS cannot be fetched."""
        cfg = self.config
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthenticated("the bearer token is not valid") from None
        kid = header.get("kid")
        if not isinstance(kid, str) or header.get("alg") not in cfg.algorithms:
            raise Unauthenticated("the bearer token is not valid")
        key = self._key(kid)
        try:
            # The key object, not its raw key: its own algorithm must match the header's (no ES256 on an RSA key).
            claims: dict[str, Any] = jwt.decode(
                token, key, algorithms=list(cfg.algorithms), issuer=cfg.issuer, audience=cfg.audience,
                leeway=cfg.leeway_s, options={"require": ["exp", "iss", "aud", cfg.subject_claim]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the bearer token has expired") from None
        except (jwt.PyJWTError, TypeError, ValueError):  # a forged header may make a crypto call fail any way
            raise Unauthenticated("the bearer token is not valid") from None
        subject = claims.get(cfg.subject_claim)
        if not isinstance(subject, str) or not subject or len(subject) > 255:
            raise Unauthenticated(f"the bearer token has no {cfg.subject_claim!r} claim")
        return TokenClaims(subject=subject, roles=_project_roles(claims.get(cfg.projects_claim or "")) if
                           cfg.projects_claim else {})

    def _key(self, kid: str) -> jwt.PyJWK:
        now = self._now()
        fresh = self._fetched_at is not None and now - self._fetched_at < self.config.jwks_ttl_s
        if kid in self._keys and fresh:
            return self._keys[kid]
        recent = self._fetched_at is not None and now - self._fetched_at < 30.0
        if kid not in self._keys and fresh and recent:
            raise Unauthenticated("the bearer token is not valid")  # an unknown kid right after a fetch
        self._refresh(now)
        if kid not in self._keys:
            raise Unauthenticated("the bearer token is not valid")
        return self._keys[kid]

    def _refresh(self, now: float) -> None:
        if self._failed_at is not None and now - self._failed_at < self.config.failure_ttl_s:
            if self._keys:
                return  # keep serving the last keys while the issuer is down
            raise AdapterError("the token issuer's keys cannot be fetched (retry shortly)", retryable=True)
        if not self._lock.acquire(blocking=False):
            if self._keys:
                return  # another request is fetching: use what we have
            raise AdapterError("the token issuer's keys are being fetched (retry shortly)", retryable=True)
        try:
            try:
                data = _within(self.config.fetch_timeout_s, lambda: self._fetch(self.config.jwks_url,
                                                                               self.config.fetch_timeout_s))
                if not isinstance(data, dict):
                    raise ValueError("the JWKS is not a JSON object")
                keys = {k.key_id: k for k in jwt.PyJWKSet.from_dict(data).keys if k.key_id}
            except Exception as exc:  # whatever the issuer sent or did: remembered, and 503 (never a 500)
                self._failed_at = self._now()
                if self._keys:
                    return
                raise AdapterError("the token issuer's keys cannot be fetched (retry shortly)",
                                   retryable=True) from exc
            self._keys, self._fetched_at, self._failed_at = keys, self._now(), None
        finally:
            self._lock.release()


def _within(seconds: float, call: Callable[[], Any]) -> Any:
    """`call()`'s result if it returns within `seconds` of wall-clock time (DNS, slow headers and all), else
    TimeoutError; a call still running is left to finish on its own daemon thread."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    worker = threading.Thread(target=run, name="mka-jwks-fetch", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise TimeoutError(f"no answer within {seconds:g} s")
    if "error" in box:
        raise box["error"]
    return box["value"]


_MAX_JWKS_BYTES = 256 * 1024


def _http_json(url: str, timeout: float) -> Any:
    """GET a JSON document (the JWKS) within `timeout` overall and 256 KiB, failing on any non-2xx answer."""
    import json

    deadline = time.monotonic() + timeout
    body = bytearray()
    with httpx.stream("GET", url, timeout=timeout, follow_redirects=False) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():  # a trickling or endless answer is cut, not waited for
            body += chunk
            if len(body) > _MAX_JWKS_BYTES or time.monotonic() > deadline:
                raise ValueError("the JWKS answer is too large or too slow")
    return json.loads(body)


def _project_roles(value: Any) -> dict[str, Role]:
    """`{"acme": "analyst"}` or `["acme:analyst", "beta"]` (a bare project is a viewer); unknown roles are dropped."""
    pairs: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = [tuple(item.split(":", 1)) if ":" in item else (item, "viewer") for item in value if isinstance(item, str)]
    roles: dict[str, Role] = {}
    for project, role in pairs:
        if isinstance(project, str) and role in Role._value2member_map_:
            roles[project] = Role(role)
    return roles
