"""Roles, permissions and the one declarative table that maps every portal route to what it needs (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from schemas import NotFound, PermissionDenied

__all__ = [
    "PUBLIC",
    "PUBLIC_PATHS",
    "ROLE_PERMISSIONS",
    "ROUTES",
    "SIGNED_IN",
    "Access",
    "Permission",
    "Principal",
    "Role",
    "access_for",
    "choose_project",
    "require",
]


class Role(StrEnum):
    """A credential's role in one project; each includes the one before it."""

    VIEWER = "viewer"
    ANALYST = "analyst"
    ADMIN = "admin"


class Permission(StrEnum):
    """What a route needs in the project it acts on."""

    JOBS_READ = "jobs:read"
    JOBS_WRITE = "jobs:write"
    DOCUMENTS_WRITE = "documents:write"
    TEMPLATES_WRITE = "templates:write"
    EXPORTS_WRITE = "exports:write"
    KEYS_MANAGE = "keys:manage"
    MEMBERS_MANAGE = "members:manage"
    RETENTION_MANAGE = "retention:manage"
    PII_REVEAL = "pii:reveal"  # a grant on top of a role (`--pii-reader`), never implied by one
    PROJECTS_CREATE = "projects:create"  # the deployment admin's, above every project


_VIEWER = frozenset({Permission.JOBS_READ})
_ANALYST = _VIEWER | {Permission.JOBS_WRITE, Permission.DOCUMENTS_WRITE, Permission.TEMPLATES_WRITE,
                      Permission.EXPORTS_WRITE}
_ADMIN = _ANALYST | {Permission.KEYS_MANAGE, Permission.MEMBERS_MANAGE, Permission.RETENTION_MANAGE}
ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {Role.VIEWER: _VIEWER, Role.ANALYST: _ANALYST,
                                                          Role.ADMIN: _ADMIN}
"""Each role's permissions in its project."""


class Access(StrEnum):
    """Routes that need no project permission: open to anyone, or to any valid credential."""

    PUBLIC = "public"
    SIGNED_IN = "signed_in"


PUBLIC, SIGNED_IN = Access.PUBLIC, Access.SIGNED_IN

ROUTES: Mapping[tuple[str, str], Access | Permission] = {
    ("GET", "/v1/health"): PUBLIC,
    ("GET", "/v1/health/live"): PUBLIC,
    ("GET", "/v1/health/ready"): PUBLIC,
    ("GET", "/v1/signing-keys"): PUBLIC,
    ("GET", "/v1/me"): SIGNED_IN,
    ("GET", "/v1/projects"): SIGNED_IN,
    ("POST", "/v1/projects"): Permission.PROJECTS_CREATE,
    ("GET", "/v1/projects/{project}/members"): Permission.MEMBERS_MANAGE,
    ("POST", "/v1/projects/{project}/members"): Permission.MEMBERS_MANAGE,
    ("DELETE", "/v1/projects/{project}/members"): Permission.MEMBERS_MANAGE,
    ("DELETE", "/v1/projects/{project}/members/{subject}"): Permission.MEMBERS_MANAGE,
    ("GET", "/v1/keys"): Permission.KEYS_MANAGE,
    ("POST", "/v1/keys"): Permission.KEYS_MANAGE,
    ("DELETE", "/v1/keys/{key_id}"): Permission.KEYS_MANAGE,
    ("GET", "/v1/jobs"): Permission.JOBS_READ,
    ("POST", "/v1/jobs"): Permission.JOBS_WRITE,
    ("GET", "/v1/briefs/example"): SIGNED_IN,
    ("GET", "/v1/jobs/{job_id}"): Permission.JOBS_READ,
    ("POST", "/v1/jobs/{job_id}/cancel"): Permission.JOBS_WRITE,
    ("POST", "/v1/jobs/{job_id}/resume"): Permission.JOBS_WRITE,
    ("GET", "/v1/jobs/{job_id}/events"): Permission.JOBS_READ,
    ("GET", "/v1/jobs/{job_id}/evidence"): Permission.JOBS_READ,
    ("GET", "/v1/jobs/{job_id}/merge"): Permission.JOBS_READ,  # ?reveal_pii=true also needs PII_REVEAL
    ("GET", "/v1/jobs/{job_id}/artifacts"): Permission.JOBS_READ,
    ("GET", "/v1/jobs/{job_id}/localizations"): Permission.JOBS_READ,
    ("GET", "/v1/templates"): Permission.JOBS_READ,
    ("GET", "/v1/documents"): Permission.JOBS_READ,
    ("GET", "/v1/jobs/{job_id}/figma-plan"): Permission.JOBS_READ,
    ("GET", "/v1/jobs/{job_id}/figma-preview"): Permission.JOBS_READ,
    ("GET", "/v1/artifacts/{artifact_id}"): Permission.JOBS_READ,
    ("GET", "/v1/artifacts/{artifact_id}/meta"): Permission.JOBS_READ,
    ("POST", "/v1/artifacts/{artifact_id}/hold"): Permission.RETENTION_MANAGE,
    ("POST", "/v1/artifacts/{artifact_id}/release"): Permission.RETENTION_MANAGE,
    ("POST", "/v1/documents"): Permission.DOCUMENTS_WRITE,
}
"""Every API route and what it needs. The app refuses to start with a route missing here."""

PUBLIC_PATHS = frozenset({"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/docs-assets",
                          "/docs-assets/redoc.js", "/ui"})
"""Framework routes outside the API table, open to anyone (no data)."""


def access_for(method: str, path: str) -> Access | Permission:
    """What the route (method and path template) needs; KeyError for a route nobody declared."""
    return ROUTES[(method.upper(), path)]


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key (one project), a JWT subject (memberships) or the development user (auth off).

    Example:
        >>> p = Principal(kind="key", id="k1", roles={"acme": Role.ANALYST})
        >>> p.can(Permission.JOBS_WRITE, "acme"), p.can(Permission.KEYS_MANAGE, "acme"), p.can(Permission.JOBS_READ, "x")
        (True, False, False)
    """

    kind: str  # "key" | "jwt" | "dev"
    id: str  # the key id or the token's subject; never the secret
    roles: Mapping[str, Role] = field(default_factory=dict)
    pii_reader: frozenset[str] = frozenset()
    deployment_admin: bool = False

    @property
    def actor(self) -> str:
        """How audit events name the caller: `key:<key id>`, `sub:<subject>` or `dev:local`."""
        return f"{'sub' if self.kind == 'jwt' else self.kind}:{self.id}"

    def role_in(self, project: str) -> Role | None:
        """The caller's role in the project (a deployment admin is admin everywhere)."""
        return Role.ADMIN if self.deployment_admin else self.roles.get(project)

    def permissions(self, project: str) -> frozenset[Permission]:
        """Everything the caller may do in the project."""
        role = self.role_in(project)
        granted = set(ROLE_PERMISSIONS[role]) if role else set()
        if role and (project in self.pii_reader or "*" in self.pii_reader):
            granted.add(Permission.PII_REVEAL)
        if self.deployment_admin:
            granted.add(Permission.PROJECTS_CREATE)
        return frozenset(granted)

    def can(self, permission: Permission, project: str) -> bool:
        """Whether the caller holds `permission` in `project`."""
        return permission in self.permissions(project)


def choose_project(principal: Principal, asked: str | None, *, default: str) -> str:
    """The project a request acts on: a key's own, else the `X-Mka-Project` header, else the only membership.

    A key asked for another project, or a subject asked for one it has no membership in, is refused (403);
    a subject with several projects and no header must choose (403 naming the header).
    """
    if principal.kind == "key":
        (own,) = principal.roles or {default: Role.VIEWER}
        if asked and asked != own and not principal.deployment_admin:
            raise PermissionDenied(f"this key belongs to project {own!r}, not {asked!r}")
        return asked or own
    if asked:
        if principal.role_in(asked) is None:
            raise PermissionDenied(f"no membership in project {asked!r}")
        return asked
    if principal.kind == "dev":
        return default
    if len(principal.roles) == 1:
        return next(iter(principal.roles))
    if not principal.roles:
        raise PermissionDenied("this subject has no project membership (mka members add)")
    raise PermissionDenied("this subject belongs to several projects: choose one with the X-Mka-Project header")


def require(principal: Principal, access: Access | Permission, project: str | None, *, named: bool) -> None:
    """Raise unless the caller may use a route with `access` in `project`.

    `named` means the project came from the URL path: one the caller has no role in answers 404 (it might
    not exist), so project names do not leak; a role without the permission answers 403.
    """
    if access in (PUBLIC, SIGNED_IN):
        return
    assert isinstance(access, Permission)
    if access == Permission.PROJECTS_CREATE:
        if not principal.deployment_admin:
            raise PermissionDenied("creating projects needs a deployment admin")
        return
    assert project is not None
    if principal.role_in(project) is None:
        if named:
            raise NotFound(f"no project {project!r}")
        raise PermissionDenied(f"no role in project {project!r}")
    if not principal.can(access, project):
        raise PermissionDenied(f"role {principal.role_in(project)} in project {project!r} lacks {access}")
