"""Portal routes for identity: the caller (`/v1/me`), projects, memberships and the project's API keys."""

from __future__ import annotations

import asyncio
from typing import Any, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ValidationError

from schemas import InvalidBrief, InvalidInput, NotFound, PermissionDenied, Unauthenticated, problems_from
from serve_app.auth.authn import Authenticator
from serve_app.auth.identity import KeyRecord, Membership, ProjectRecord, add_member, create_key, create_project, remove_member, revoke_key
from serve_app.auth.keys import parse_expiry
from serve_app.auth.rbac import Permission, Principal, Role
from serve_app.openapi import CallerView, KeyCreated, KeyRequest, MemberRequest, ProjectRequest, ProjectView

__all__ = ["read_json", "router"]

M = TypeVar("M", bound=BaseModel)

router = APIRouter()


async def read_json(request: Request, model: type[M]) -> M:
    """The request body as `model`, read after the guard (so an anonymous caller gets 401, not a parse error);
    422 problems listing each bad field."""
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as exc:
        raise InvalidBrief(problems_from(exc, whole="body")) from None


def _auth(request: Request) -> Authenticator:
    auth: Authenticator | None = request.app.state.auth
    if auth is None:
        raise Unauthenticated("this portal has no identity store configured")
    return auth


def _who(request: Request) -> tuple[Principal, str]:
    return request.state.principal, request.state.project


def public_key(key: KeyRecord) -> dict[str, Any]:
    """A key's row as shown: never its hash or secret."""
    return key.model_dump(mode="json")


def _check_grant(principal: Principal, project: str, pii_reader: bool) -> None:
    """Only a caller who may re-identify can hand that grant on."""
    if pii_reader and not principal.can(Permission.PII_REVEAL, project):
        raise PermissionDenied("only a pii_reader can grant pii_reader")


def _projects_of(principal: Principal, known: list[str]) -> dict[str, Role]:
    if principal.deployment_admin:
        return {p: Role.ADMIN for p in known}
    return {p: r for p, r in sorted(principal.roles.items()) if p in known}


@router.get("/v1/me", response_model=CallerView)
async def me(request: Request) -> dict[str, Any]:
    """The caller: kind, id (key id or subject), deployment admin, and each project's role and permissions."""
    principal, _ = _who(request)
    known = [p.name for p in await asyncio.to_thread(_auth(request).identity.projects)]
    projects = _projects_of(principal, known)
    return {
        "kind": principal.kind, "id": principal.id, "deployment_admin": principal.deployment_admin,
        "projects": [{"project": p, "role": r.value, "permissions": sorted(principal.permissions(p))}
                     for p, r in projects.items()],
    }


@router.get("/v1/projects", response_model=list[ProjectView])
async def list_projects(request: Request) -> list[dict[str, Any]]:
    """The projects the caller has a role in (every project, for a deployment admin)."""
    principal, _ = _who(request)
    records = await asyncio.to_thread(_auth(request).identity.projects)
    roles = _projects_of(principal, [p.name for p in records])
    return [{**p.model_dump(mode="json"), "role": roles[p.name].value} for p in records if p.name in roles]


@router.post("/v1/projects", status_code=201, response_model=ProjectRecord,
             responses={409: {"description": "The name is taken."}})
async def new_project(request: Request) -> dict[str, Any]:
    """Create a project (deployment admins only; body `{"name"}`); 409 when the name is taken."""
    principal, _ = _who(request)
    body = await read_json(request, ProjectRequest)
    record = await asyncio.to_thread(create_project, _auth(request).identity, body.name, actor=principal.actor)
    return record.model_dump(mode="json")


@router.get("/v1/projects/{project}/members", response_model=list[Membership])
async def list_members(request: Request, project: str) -> list[dict[str, Any]]:
    """The project's memberships (project admins)."""
    return [m.model_dump(mode="json") for m in await asyncio.to_thread(_auth(request).identity.members, project)]


@router.post("/v1/projects/{project}/members", status_code=201, response_model=Membership)
async def put_member(request: Request, project: str) -> dict[str, Any]:
    """Give a token subject a role in the project, replacing its earlier one (project admins; body
    `{"subject", "role", "pii_reader"}`)."""
    principal, _ = _who(request)
    body = await read_json(request, MemberRequest)
    _check_grant(principal, project, body.pii_reader)
    member = await asyncio.to_thread(add_member, _auth(request).identity, project=project, subject=body.subject,
                                     role=body.role, pii_reader=body.pii_reader, actor=principal.actor)
    return member.model_dump(mode="json")


@router.delete("/v1/projects/{project}/members", status_code=204, response_class=Response)
async def delete_member_query(request: Request, project: str,
                              subject: str = Query(..., min_length=1, max_length=255)) -> Response:
    """Remove a subject's membership (`?subject=`), as `DELETE …/members/{subject}` does."""
    return await delete_member(request, project, subject)


@router.delete("/v1/projects/{project}/members/{subject}", status_code=204, response_class=Response)
async def delete_member(request: Request, project: str, subject: str) -> Response:
    """Remove a subject's membership (project admins); 404 when it had none."""
    principal, _ = _who(request)
    await asyncio.to_thread(remove_member, _auth(request).identity, project=project, subject=subject,
                            actor=principal.actor)
    return Response(status_code=204)


@router.get("/v1/keys", response_model=list[KeyRecord])
async def list_keys(request: Request) -> list[dict[str, Any]]:
    """The project's API keys: ids, roles, grants, expiry, last use, revocation (never a secret or hash)."""
    principal, project = _who(request)
    found = await asyncio.to_thread(_auth(request).identity.keys, project)
    # A deployment admin's key sits in a project but is above it: only deployment admins see or revoke one.
    return [public_key(k) for k in found if principal.deployment_admin or not k.deployment_admin]


@router.post("/v1/keys", status_code=201, response_model=KeyCreated)
async def new_key(request: Request) -> JSONResponse:
    """Issue a key for the project; `api_key` is in this answer only (project admins; body `{"role", "pii_reader",
    "expires", "name"}`)."""
    principal, project = _who(request)
    body = await read_json(request, KeyRequest)
    _check_grant(principal, project, body.pii_reader)
    try:
        expires = parse_expiry(body.expires) if body.expires else None
    except InvalidInput as exc:
        raise InvalidBrief([{"field": "expires", "message": exc.message, "type": "value_error"}]) from None
    record, api_key = await asyncio.to_thread(
        create_key, _auth(request).identity, project=project, role=body.role, pii_reader=body.pii_reader,
        expires_in=expires, name=body.name, actor=principal.actor)
    return JSONResponse(status_code=201, content={**public_key(record), "api_key": api_key},
                        headers={"Cache-Control": "no-store"})


@router.delete("/v1/keys/{key_id}", response_model=KeyRecord)
async def delete_key(request: Request, key_id: str) -> dict[str, Any]:
    """Revoke one of the project's keys (it stops working at once); 404 for another project's key."""
    principal, project = _who(request)
    identity = _auth(request).identity
    found = await asyncio.to_thread(identity.get_key, key_id)
    if found is not None and found.deployment_admin and not principal.deployment_admin:
        raise NotFound(f"no key {key_id!r}")
    record = await asyncio.to_thread(revoke_key, identity, key_id, project=project, actor=principal.actor)
    return public_key(record)
