"""Identity and access for the portal: API keys, JWTs, projects, memberships and the route permission table."""

from __future__ import annotations

from serve_app.auth.authn import Authenticator
from serve_app.auth.identity import (
    IdentityStore,
    KeyRecord,
    Membership,
    ProjectRecord,
    add_member,
    create_key,
    create_project,
    remove_member,
    revoke_key,
)
from serve_app.auth.keys import parse_expiry
from serve_app.auth.rbac import PUBLIC, PUBLIC_PATHS, ROUTES, SIGNED_IN, Permission, Principal, Role
from serve_app.auth.tokens import JwtConfig, JwtVerifier

__all__ = [
    "PUBLIC",
    "PUBLIC_PATHS",
    "ROUTES",
    "SIGNED_IN",
    "Authenticator",
    "IdentityStore",
    "JwtConfig",
    "JwtVerifier",
    "KeyRecord",
    "Membership",
    "Permission",
    "Principal",
    "ProjectRecord",
    "Role",
    "add_member",
    "create_key",
    "create_project",
    "parse_expiry",
    "remove_member",
    "revoke_key",
]
