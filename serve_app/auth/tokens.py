"""JWT bearer tokens from an OIDC issuer: signature against its JWKS (fetched over HTTP, cached), issuer, audience
and expiry checked, the subject and optional project roles read from configurable claims."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt
from jwt import PyJWKClient

from schemas import AdapterError, Unauthenticated
from serve_app.auth.rbac import Role

__all__ = ["JwtConfig", "JwtVerifier", "TokenClaims"]


@dataclass(frozen=True)
class JwtConfig:
    """Which tokens to accept (MKA_JWT_*): issuer, audience, JWKS URL and claim names."""

    issuer: str
    jwks_url: str
    audience: str | None = None
    subject_claim: str = "sub"
    projects_claim: str | None = None  # e.g. "projects": {"acme": "analyst"} or ["acme:analyst", ...]
    algorithms: tuple[str, ...] = ("RS256", "ES256", "EdDSA")
    leeway_s: float = 30.0
    jwks_ttl_s: float = 300.0
    admin_subjects: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: its subject, and project roles when the projects claim is configured."""

    subject: str
    roles: Mapping[str, Role]


class JwtVerifier:
    """Validate bearer tokens; the issuer's keys are cached for `jwks_ttl_s` and refetched for an unknown `kid`."""

    def __init__(self, config: JwtConfig) -> None:
        """Nothing is fetched until the first token arrives."""
        self.config = config
        self._jwks = PyJWKClient(config.jwks_url, cache_jwk_set=True, lifespan=config.jwks_ttl_s, timeout=5,
                                 cooldown_duration=min(30.0, config.jwks_ttl_s))

    def verify(self, token: str) -> TokenClaims:
        """The token's claims, or `Unauthenticated` (bad signature, issuer, audience, expiry); `AdapterError` when
        the JWKS cannot be fetched."""
        cfg = self.config
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
        except jwt.PyJWKClientConnectionError as exc:
            raise AdapterError("the token issuer's keys cannot be fetched", retryable=True) from exc
        except (jwt.PyJWKClientError, jwt.DecodeError) as exc:
            raise Unauthenticated("the bearer token is not valid") from exc
        try:
            claims: dict[str, Any] = jwt.decode(
                token, key.key, algorithms=list(cfg.algorithms), issuer=cfg.issuer, audience=cfg.audience,
                leeway=cfg.leeway_s,
                options={"require": ["exp", "iss"], "verify_aud": cfg.audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the bearer token has expired") from None
        except jwt.PyJWTError:
            raise Unauthenticated("the bearer token is not valid") from None
        subject = claims.get(cfg.subject_claim)
        if not isinstance(subject, str) or not subject or len(subject) > 255:
            raise Unauthenticated(f"the bearer token has no {cfg.subject_claim!r} claim")
        return TokenClaims(subject=subject, roles=_project_roles(claims.get(cfg.projects_claim or "")) if
                           cfg.projects_claim else {})


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
