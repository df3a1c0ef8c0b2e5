"""The portal HTTP API (FastAPI): jobs, their events as server-sent events, and artifacts, behind identity, RBAC
and the HTTP guard; every error is an RFC 9457 problem."""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import re
import time
from datetime import datetime
from importlib import resources
from collections.abc import AsyncIterator, Callable
from typing import Any

import yaml
from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from schemas import (
    AccessError,
    AlreadyExists,
    Artifact,
    ArtifactGone,
    ArtifactNotFound,
    EventType,
    IdempotencyConflict,
    IllegalTransition,
    InvalidBrief,
    JobState,
    InvalidInput,
    JobNotFound,
    MkaError,
    NotFound,
    PermissionDenied,
    RateLimited,
    RequestRejected,
    TERMINAL_STATES,
    Unauthenticated,
    parse_brief,
    problems_from,
)
from actors.documents.convert import DocumentError, human_size
from schemas.brief import PROJECT_PATTERN
from schemas.figma import TEMPLATE_REF_PATTERN, FillPlan, TemplateInfo
from schemas.merge import MergeResult
from schemas.pipeline import ProvidersScript
from actors.documents.store import DocumentInfo
from cluster.secrets import mask_secrets
from serve_app.auth.authn import Authenticator
from serve_app.auth.rbac import PUBLIC, PUBLIC_PATHS, SIGNED_IN, Permission, Principal, access_for, choose_project, require
from serve_app.backend import PortalBackend
from serve_app.config import PortalConfig
from serve_app.http import PortalGuard, error_extras, problem_body, scrub_paths
from serve_app.identity_routes import read_json
from serve_app.identity_routes import router as identity_router
from serve_app.limits import RateLimiter, StreamCap
from serve_app.pages import serve_pages
from serve_app.openapi import (
    ArtifactView,
    DocumentView,
    EvidenceView,
    Health,
    HoldRequest,
    JobAccepted,
    JobPage,
    JobRequest,
    JobView,
    Localization,
    Ready,
    SigningKeys,
    StateView,
    content,
)

__all__ = ["API_VERSION", "JobRequest", "create_app", "public_artifact", "status_for"]

API_VERSION = "v1"
MULTIPART_OVERHEAD = 64 * 1024  # form boundaries and part headers around the document
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
_EVENT_ID = re.compile(r"[0-9]{1,18}")
_PATH_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9@._:|+-]{0,254}")
_TERMINAL = {s.value for s in TERMINAL_STATES}


class _RawJobRequest(BaseModel):
    """POST /v1/jobs as read: the brief is parsed by `parse_brief` (its errors name fields inside the brief)."""

    brief: dict[str, Any]
    providers_script: dict[str, Any] | None = Field(default=None)


_ARTIFACT_MEDIA = ("application/pdf", "text/html; charset=utf-8", "text/markdown; charset=utf-8", "image/svg+xml",
                   "application/json", "application/octet-stream")
def encode_cursor(created_at: datetime, job_id: str) -> str:
    """An opaque page cursor: the last listed job's creation time and id."""
    raw = json.dumps([created_at.isoformat(), job_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def bad_query(name: str, message: str, kind: str = "value_error") -> RequestValidationError:
    """A 422 `invalid_request` problem naming one query parameter, as FastAPI's own validation answers."""
    return RequestValidationError([{"loc": ("query", name), "msg": message, "type": kind}])


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The position a cursor names; a 422 problem for one this portal did not make."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, job_id = json.loads(raw)
        when = datetime.fromisoformat(at)
        if when.tzinfo is None or not _PATH_ID.fullmatch(str(job_id)):
            raise ValueError(cursor)
        return when, str(job_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise bad_query("cursor", "not a cursor from this API; pass next_cursor as it was given") from None


def status_for(exc: MkaError) -> int:
    """The one place the error tree maps to HTTP statuses."""
    if isinstance(exc, InvalidBrief):
        return 422
    if isinstance(exc, InvalidInput):  # an upload or request refused: too large, a type we do not read, bad header
        reason = getattr(exc, "reason", "")
        return {"too_large": 413, "unsupported_type": 415, "bad_header": 400, "bad_host": 400}.get(reason, 422)
    if isinstance(exc, Unauthenticated):
        return 401
    if isinstance(exc, RateLimited):
        return 429
    if isinstance(exc, (PermissionDenied, AccessError)):
        return 403
    if isinstance(exc, (JobNotFound, ArtifactNotFound, NotFound)):
        return 404
    if isinstance(exc, IdempotencyConflict):
        return 422  # the same key with a different request (IETF idempotency-key draft)
    if isinstance(exc, (IllegalTransition, AlreadyExists)):
        return 409
    if isinstance(exc, ArtifactGone):
        return 410
    return 503 if exc.retryable else 500


def public_artifact(artifact: Artifact) -> dict[str, Any]:
    """An artifact's catalog row as the portal shows it: no server path or storage URI, a download link."""
    data = artifact.model_dump(mode="json", exclude={"local_path", "uri"})
    return {**data, "href": f"/v1/artifacts/{artifact.id}", "meta": f"/v1/artifacts/{artifact.id}/meta"}


def _backend(request: Request) -> PortalBackend:
    found = getattr(request.app.state, "backend", None)
    if found is None:
        raise MkaError("the portal is starting; try again shortly", retryable=True)
    return found  # type: ignore[no-any-return]


def _config(request: Request) -> PortalConfig:
    return request.app.state.config  # type: ignore[no-any-return]


def caller(request: Request) -> tuple[Principal, str]:
    """The authenticated caller and the project the request acts on (set by the guard)."""
    return request.state.principal, request.state.project


async def audit(request: Request, event_type: str, target: str) -> None:
    """Record who did what (key id or subject, never a key) on the project's audit stream."""
    principal, project = caller(request)
    auth: Authenticator | None = request.app.state.auth
    if auth is not None and project:
        await asyncio.to_thread(auth.identity.audit, event_type, actor=principal.actor, project=project, target=target)


async def _guard(request: Request) -> None:
    """Authenticate, rate-limit and authorize one request from the route table (`rbac.ROUTES`)."""
    route = request.scope["route"]
    access = access_for(request.method, route.path)
    request.state.principal, request.state.project = None, None
    if access == PUBLIC:  # probes and monitors add cache-busters: public routes ignore unknown parameters
        return
    auth: Authenticator | None = request.app.state.auth
    if auth is None:
        raise Unauthenticated("this portal has no identity store configured")
    client = request.client.host if request.client else "-"
    principal = await asyncio.to_thread(auth.authenticate, request.headers.get("authorization"), client=client,
                                        failures=request.app.state.failures)
    request.app.state.limiter.take(principal.actor)
    named = "project" in request.path_params
    project: str | None = None
    if named:
        project = request.path_params["project"]
    elif access not in (SIGNED_IN, Permission.PROJECTS_CREATE):
        asked = request.headers.get("x-mka-project")
        if asked is not None and not re.fullmatch(PROJECT_PATTERN, asked):
            raise RequestRejected(f"X-Mka-Project must match {PROJECT_PATTERN}", reason="bad_header")
        if any(p.name == "project" for p in route.dependant.query_params) and "project" in request.query_params:
            queried = request.query_params["project"]  # a list's filter: the same as the header, which it overrides
            if not re.fullmatch(PROJECT_PATTERN, queried):
                raise bad_query("project", f"String should match pattern '{PROJECT_PATTERN}'",
                                "string_pattern_mismatch")
            asked = queried
        project = choose_project(principal, asked, default=_config(request).default_project)
    require(principal, access, project, named=named)
    for value in request.path_params.values():  # ids the stores could choke on (NUL, control bytes) exist nowhere
        if not _PATH_ID.fullmatch(str(value)):
            raise NotFound("no such resource")
    if project is not None and not (principal.kind == "key" and project in principal.roles):
        # A project chosen by header, path or token claim must exist (a key's own always does): no job, document
        # or member is ever made in a project nobody created.
        if not re.fullmatch(PROJECT_PATTERN, project) or await asyncio.to_thread(auth.identity.get_project,
                                                                                 project) is None:
            raise NotFound(f"no project {project!r}")
    request.state.principal, request.state.project = principal, project
    _no_unknown_query(request, route)


def _no_unknown_query(request: Request, route: APIRoute) -> None:
    """422 for a query parameter a signed-in route does not take (checked after the credential, like bodies)."""
    known = {p.alias for p in route.dependant.query_params}
    unknown = sorted(set(request.query_params) - known)
    if unknown:  # a misspelt filter (`?status=` for `?state=`) must not silently list everything
        raise RequestValidationError([{"loc": ("query", name), "type": "extra_forbidden",
                                       "msg": f"unknown query parameter; this route takes {sorted(known) or 'none'}"}
                                      for name in unknown])


def create_app(backend: PortalBackend | None = None, *, auth: Authenticator | None = None,
               config: PortalConfig | None = None) -> FastAPI:
    """Build the portal app over `backend` (kept in `app.state.backend`; the composition root passes the real one).

    Without `auth` every route but the public ones answers 401: the portal never runs open by accident.
    """
    config = config or PortalConfig()
    app = FastAPI(title="Marketing Assistant portal", version="0.3.0", dependencies=[Depends(_guard)],
                  description=_DESCRIPTION, docs_url=None, redoc_url=None,
                  generate_unique_id_function=lambda route: route.name)
    app.state.backend, app.state.auth, app.state.config = backend, auth, config
    app.state.limiter = RateLimiter(per_minute=config.rate_limit_per_minute, burst=config.rate_limit_burst)
    app.state.failures = RateLimiter(per_minute=config.auth_failures_per_minute, burst=config.auth_failures_burst)
    app.state.streams = StreamCap(per_caller=config.sse_max_streams, max_age_s=config.sse_max_seconds + 60)
    app.add_middleware(PortalGuard, policy=config.http)
    _error_handlers(app, config)

    @app.get("/v1/health", response_model=Health)
    async def health() -> dict[str, str]:
        """Liveness (kept for older probes; see /v1/health/live)."""
        return {"status": "ok", "api": API_VERSION}

    @app.get("/v1/health/live", response_model=Health)
    async def health_live() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok", "api": API_VERSION}

    @app.get("/v1/health/ready", response_model=Ready, responses={503: {"model": Ready, "description":
             "A part the portal needs does not answer; `failing` names it."}})
    async def health_ready(request: Request) -> JSONResponse:
        """Whether the portal can serve: its backend's parts each answer (503 naming the failing ones)."""
        backend = getattr(request.app.state, "backend", None)
        checks = {"backend": "starting"} if backend is None else await asyncio.to_thread(backend.ready)
        failing = sorted(name for name, state in checks.items() if state != "ok")
        body = {"status": "ok" if not failing else "unavailable", "checks": checks, "failing": failing}
        return JSONResponse(status_code=503 if failing else 200, content=body)

    @app.get("/v1/signing-keys", response_model=SigningKeys)
    async def signing_keys(request: Request) -> dict[str, Any]:
        """The public keys events are signed with (a JWK set; the active key first, retired ones after)."""
        keys = await asyncio.to_thread(_backend(request).signing_keys)
        return keys.jwks(active=keys.ids[0])  # type: ignore[no-any-return]

    @app.post("/v1/jobs", status_code=202, response_model=JobAccepted,
              responses={409: {"description": "The brief names a Figma template the project does not have."}})
    async def submit_job(request: Request, idempotency_key: str = Header(  # type: ignore[assignment]
            default=None, json_schema_extra={"pattern": _IDEMPOTENCY_KEY.pattern},
            description="Repeat a submit safely: the same key and request return the same job; the same key with a "
            "different request is 422.", examples=["launch-2026-04"])) -> JSONResponse:
        """Validate a brief and start a job in the caller's project; the same Idempotency-Key and request return the
        same job (422 for the same key with a different request)."""
        if idempotency_key is not None and not _IDEMPOTENCY_KEY.fullmatch(idempotency_key):
            raise RequestRejected("Idempotency-Key is 1 to 200 printable ASCII characters", reason="bad_header")
        principal, project = caller(request)
        try:
            req = _RawJobRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            raise InvalidBrief(problems_from(exc, whole="body")) from None
        brief = parse_brief({"project": project, **req.brief})  # the credential's project unless the brief names one
        if brief.project != project:
            raise PermissionDenied(f"the brief names project {brief.project!r}, but this request acts on {project!r}")
        script = _operator_script(req.providers_script, _config(request))
        backend = _backend(request)
        job_id = await asyncio.to_thread(backend.submit, brief, idempotency_key=idempotency_key, script=script)
        await audit(request, EventType.AUDIT_JOB_SUBMITTED, job_id)
        return JSONResponse(status_code=202, content={
            "job_id": job_id, "project": project,
            "links": {"self": f"/v1/jobs/{job_id}", "events": f"/v1/jobs/{job_id}/events"},
        })

    @app.post("/v1/documents", status_code=201, response_model=DocumentInfo, openapi_extra={"requestBody": {
        "required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"], "properties": {
                "file": {"type": "string", "format": "binary", "description": "pdf, docx, pptx, xlsx, csv, html, "
                                                                             "md or txt."},
                "project": {"type": "string", "description": "Must be the project the request acts on."}}}}}}})
    async def upload_document(request: Request) -> JSONResponse:
        """Upload one document (multipart/form-data: `file`) to the caller's project; list the returned id in a
        brief's `documents`. 413 past MKA_MAX_DOCUMENT_MB, 415 for a type we do not read, 422 for a file we refuse
        to open (encrypted PDF, zip bomb, damaged)."""
        _, project = caller(request)
        backend = _backend(request)
        limit = backend.max_document_bytes()
        kind = request.headers.get("content-type", "")
        if not kind.lower().startswith("multipart/form-data"):
            raise DocumentError("upload the document as multipart/form-data with a `file` field",
                                reason="unsupported_type")
        declared = request.headers.get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
            raise DocumentError(_too_large(limit), reason="too_large")
        body = bytearray()
        async for chunk in request.stream():  # counted as it arrives: an endless body is cut at the limit
            body += chunk
            if len(body) > limit + MULTIPART_OVERHEAD:
                raise DocumentError(_too_large(limit), reason="too_large")
        request._body = bytes(body)  # Starlette parses the form from the body read above
        try:
            form = await request.form(max_files=1, max_fields=4)
        except StarletteHTTPException as exc:  # no boundary, too many files or fields: a bad form, not a bad request
            raise DocumentError(f"the form cannot be read: {exc.detail}", reason="bad_form") from None
        upload, asked = form.get("file"), form.get("project")
        if upload is None or isinstance(upload, str):
            raise DocumentError("the form has no `file` part", reason="missing_file")
        if asked not in (None, "", project):
            raise PermissionDenied(f"the form names project {asked!r}, but this request acts on {project!r}")
        data = await upload.read()
        info = await asyncio.to_thread(backend.upload_document, project, upload.filename or "", data)
        await audit(request, EventType.AUDIT_DOCUMENT_UPLOADED, info.document_id)
        return JSONResponse(status_code=201, content=info.model_dump(mode="json"))

    @app.get("/v1/jobs/{job_id}/evidence", response_model=list[EvidenceView])
    async def job_evidence(request: Request, job_id: str) -> list[dict[str, Any]]:
        """The job's evidence, pseudonymized: id, source, source type, text, figures, retrieval time."""
        items = await asyncio.to_thread(_backend(request).evidence, job_id, project=caller(request)[1])
        return [e.model_dump(mode="json", include={"id", "source", "source_type", "text", "data", "retrieved_at"})
                for e in items]

    @app.get("/v1/jobs", response_model=JobPage)
    async def list_jobs(
        request: Request,
        state: list[JobState] = Query(  # type: ignore[assignment]
            default=None, description="Only jobs in these states (repeatable)."),
        terminal: bool = Query(  # type: ignore[assignment]
            default=None, description="Only finished (true) or unfinished (false) jobs."),
        project: str = Query(  # type: ignore[assignment]
            default=None, pattern=PROJECT_PATTERN,
            description="The project to list (as the X-Mka-Project header; default: the credential's project)."),
        limit: int = Query(default=20, ge=1, le=100),
        cursor: str = Query(  # type: ignore[assignment]
            default=None, max_length=400, description="`next_cursor` of the page before."),
    ) -> dict[str, Any]:
        """The project's jobs, newest first, one page at a time."""
        _, chosen = caller(request)
        wanted = set(state or JobState)
        if terminal is not None:
            wanted &= set(TERMINAL_STATES) if terminal else set(JobState) - set(TERMINAL_STATES)
        if not wanted:
            return {"items": [], "next_cursor": None}
        states = sorted(wanted, key=str) if wanted != set(JobState) else None
        after = decode_cursor(cursor) if cursor else None
        jobs = await asyncio.to_thread(_backend(request).list_jobs, project=chosen, states=states,
                                       limit=limit + 1, before=after)
        page = [{"job_id": j.id, "project": j.project, "state": j.state.value, "title": j.brief.title,
                 "markets": list(j.brief.markets), "degraded": j.degraded,
                 "error_code": (j.error or {}).get("code") if j.error else None,
                 "created_at": j.created_at, "updated_at": j.updated_at} for j in jobs[:limit]]
        more = len(jobs) > limit
        return {"items": page, "next_cursor": encode_cursor(jobs[limit - 1].created_at, jobs[limit - 1].id)
                if more else None}

    @app.get("/v1/briefs/example", response_model=dict[str, Any])
    async def example_brief() -> dict[str, Any]:
        """The bundled example brief (what `mka demo` runs), without its project: submit it as it is."""
        text = resources.files("cluster").joinpath("examples/brief.yaml").read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        data.pop("project", None)
        return data  # type: ignore[no-any-return]

    @app.get("/v1/jobs/{job_id}", response_model=JobView)
    async def get_job(request: Request, job_id: str) -> dict[str, Any]:
        """The job's state, steps, provider outcomes and artifacts."""
        job, steps, summary = await asyncio.to_thread(_backend(request).job, job_id, project=caller(request)[1])
        public = summary.public()  # never a server path
        return {
            **public,
            "project": job.project,
            "version": job.version,
            "created_at": job.created_at.isoformat(),
            "updated_at": job.updated_at.isoformat(),
            "steps": [s.model_dump(mode="json") for s in steps],
            "artifacts": [{**a, "href": f"/v1/artifacts/{a['id']}"} for a in public["artifacts"]],
        }

    @app.get("/v1/jobs/{job_id}/merge", responses={200: {"model": MergeResult, "description": "The merged claims "
             "with their support and hallucination flags, the disagreement table (each topic, each provider's "
             "position) and the quorum."}})
    async def job_merge(request: Request, job_id: str, reveal_pii: bool = Query(
            default=False, description="Re-identify placeholders (needs the pii_reader grant; audited).")) -> JSONResponse:
        """The merge result (claims, disagreements, quorum) with placeholders; `reveal_pii=true` re-identifies them
        for a caller with the pii_reader grant (audited, never cached)."""
        principal, project = caller(request)
        if reveal_pii and not principal.can(Permission.PII_REVEAL, project):
            raise PermissionDenied("re-identification needs the pii_reader grant in this project")
        result = await asyncio.to_thread(_backend(request).merge, job_id, project=project, reveal=reveal_pii)
        if reveal_pii:
            await audit(request, EventType.AUDIT_PII_REVEALED, job_id)
        return JSONResponse(content=result, headers={"Cache-Control": "no-store"} if reveal_pii else None)

    @app.post("/v1/jobs/{job_id}/cancel", response_model=StateView,
              responses={409: {"description": "The job has already finished."}})
    async def cancel_job(request: Request, job_id: str) -> dict[str, str]:
        """Cancel a job that has not finished."""
        state = await asyncio.to_thread(_backend(request).cancel, job_id, project=caller(request)[1])
        await audit(request, EventType.AUDIT_JOB_CANCELLED, job_id)
        return {"job_id": job_id, "state": state}

    @app.post("/v1/jobs/{job_id}/resume", status_code=202, response_model=StateView,
              responses={409: {"description": "Only a job that failed on infrastructure resumes."}})
    async def resume_job(request: Request, job_id: str) -> dict[str, str]:
        """Resume a job that failed on infrastructure (409 for any other job)."""
        await asyncio.to_thread(_backend(request).resume, job_id, project=caller(request)[1])
        await audit(request, EventType.AUDIT_JOB_RESUMED, job_id)
        return {"job_id": job_id, "state": "resuming"}

    @app.get("/v1/jobs/{job_id}/events", response_class=StreamingResponse, responses={200: {
        "description": "text/event-stream: `id` (the sequence), `event` (the type) and `data` (a JobEvent without "
                       "`seq`: the SSE id carries it) per "
                       "event, `: heartbeat` comments, `stream.timeout` or `stream.closed` at the end. With "
                       "`Accept: application/json`: the events after Last-Event-ID as a JSON list.",
        "content": {"text/event-stream": {"schema": _SSE_EVENT},
                    "application/json": {"schema": {"type": "array",
                                                    "items": {"$ref": "#/components/schemas/JobEvent"}}}}}})
    async def job_events(request: Request, job_id: str, last_event_id: str = Header(  # type: ignore[assignment]
            default=None, json_schema_extra={"pattern": r"^\s*[0-9]{1,18}\s*$"},
            description="Resume after this event sequence number (digits; 400 otherwise).",
            examples=["12"])) -> Response:
        """The job's events: server-sent until the job is terminal (resumes after Last-Event-ID; heartbeats keep
        idle streams open; a stream ends after MKA_SSE_MAX_SECONDS), or as JSON for `Accept: application/json`."""
        if last_event_id is not None and not _EVENT_ID.fullmatch(last_event_id.strip()):
            raise RequestRejected("Last-Event-ID is an event sequence number (digits)", reason="bad_header")
        principal, project = caller(request)
        backend = _backend(request)
        messages = await asyncio.to_thread(backend.events, job_id, project=project)  # 404 before a stream starts
        if _wants_json(request.headers.get("accept", "")):
            after_seq = int(last_event_id) if last_event_id else 0
            messages = [m for m in messages if m.seq > after_seq]
            statuses = await asyncio.to_thread(backend.verification, messages)
            return JSONResponse(content=[{**m.event.model_dump(mode="json"), "seq": m.seq, "verification": status}
                                         for m, status in zip(messages, statuses, strict=True)])
        streams: StreamCap = request.app.state.streams
        token = streams.acquire(principal.actor)
        after = int(last_event_id) if last_event_id else 0
        header, client, auth = request.headers.get("authorization"), request.client, request.app.state.auth

        def still_allowed() -> bool:  # a revoked or expired key, or a removed membership, ends the stream
            try:
                again = auth.authenticate(header, client=client.host if client else "-")
                require(again, Permission.JOBS_READ, project, named=False)
                return True
            except MkaError:
                return False

        stream = _sse(request, backend, job_id, project, after, config=_config(request),
                      release=lambda: streams.release(principal.actor, token), still_allowed=still_allowed)
        return StreamingResponse(stream, media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.get("/v1/jobs/{job_id}/artifacts", response_model=list[ArtifactView])
    async def job_artifacts(request: Request, job_id: str) -> list[dict[str, Any]]:
        """The job's deliverables with their catalog metadata (deleted ones with their deletion reason)."""
        found = await asyncio.to_thread(_backend(request).job_artifacts, job_id, project=caller(request)[1])
        return [public_artifact(a) for a in found]

    @app.get("/v1/jobs/{job_id}/localizations", response_model=list[Localization])
    async def job_localizations(request: Request, job_id: str) -> list[dict[str, Any]]:
        """The job's localized reports: each locale, how its translation went, and its deliverables."""
        found = await asyncio.to_thread(_backend(request).localizations, job_id, project=caller(request)[1])
        return [{**loc, "artifacts": [public_artifact(a) for a in loc["artifacts"]]} for loc in found]

    @app.get("/v1/templates", response_model=list[TemplateInfo])
    async def list_templates(request: Request) -> list[dict[str, Any]]:
        """The project's Figma templates, every version (what `mka figma templates list` prints)."""
        found = await asyncio.to_thread(_backend(request).templates, project=caller(request)[1])
        return [t.model_dump(mode="json") for t in found]

    @app.get("/v1/documents", response_model=list[DocumentView])
    async def list_documents(request: Request) -> list[dict[str, Any]]:
        """The project's uploaded documents (ids to list in a brief's `documents`; never their names)."""
        found = await asyncio.to_thread(_backend(request).documents, project=caller(request)[1])
        return [{"document_id": d.id, "project": d.project, "created_at": d.created_at,
                 "retention_until": d.retention_until, "legal_hold": d.legal_hold, "status": d.status.value}
                for d in found]

    @app.get("/v1/jobs/{job_id}/figma-plan", response_model=FillPlan)
    async def figma_plan(request: Request, job_id: str, template: str = Query(..., min_length=1, max_length=80,
                                                                 json_schema_extra={"pattern": TEMPLATE_REF_PATTERN}),
                         locale: str = Query(default=None, max_length=35)) -> dict[str, Any]:  # type: ignore[assignment]
        """A completed job's fill plan for a template of its project (what the Figma plugin applies), in the base
        report's language or a localized report's locale; checked by the egress guard."""
        done = await asyncio.to_thread(_backend(request).figma_export, job_id, template, locale,
                                       project=caller(request)[1])
        return done.plan.model_dump(mode="json")

    @app.get("/v1/jobs/{job_id}/figma-preview", response_class=Response,
             responses={200: {"description": "The filled template as SVG.", "content": content("image/svg+xml")}})
    async def figma_preview(request: Request, job_id: str, template: str = Query(..., min_length=1, max_length=80,
                                                                 json_schema_extra={"pattern": TEMPLATE_REF_PATTERN}),
                            locale: str = Query(default=None, max_length=35)) -> Response:  # type: ignore[assignment]
        """The same plan drawn as an SVG preview of the filled template."""
        done = await asyncio.to_thread(_backend(request).figma_export, job_id, template, locale,
                                       project=caller(request)[1])
        return Response(content=done.preview, media_type="image/svg+xml")

    @app.get("/v1/artifacts/{artifact_id}/meta", response_model=ArtifactView)
    async def artifact_meta(request: Request, artifact_id: str) -> dict[str, Any]:
        """One deliverable's catalog metadata: size, sha256, PII class, retention, hold, status."""
        found = await asyncio.to_thread(_backend(request).artifact_meta, artifact_id, project=caller(request)[1])
        return public_artifact(found)

    @app.get("/v1/artifacts/{artifact_id}", response_class=Response, responses={
        200: {"description": "The content, with X-Content-SHA256.", "content": content(*_ARTIFACT_MEDIA),
              "headers": {"X-Content-SHA256": {"schema": {"type": "string"}}}},
        410: {"description": "Deleted (by retention or by hand); the problem gives the reason."}})
    async def get_artifact(request: Request, artifact_id: str) -> Response:
        """An artifact's content with its content type and sha256 (checked); 410 Gone with the reason once deleted."""
        art, data = await asyncio.to_thread(_backend(request).artifact, artifact_id, project=caller(request)[1])
        name = art.key.rsplit("/", 1)[-1]
        return Response(
            content=data,
            media_type=art.content_type,
            headers={"Content-Disposition": f'inline; filename="{name}"', "X-Content-SHA256": art.sha256},
        )

    @app.post("/v1/artifacts/{artifact_id}/hold", response_model=ArtifactView)
    async def hold_artifact(request: Request, artifact_id: str) -> dict[str, Any]:
        """Put a legal hold on a deliverable (body `{"reason"}`): no retention deletes it until it is released."""
        body = await read_json(request, HoldRequest)
        found = await asyncio.to_thread(_backend(request).hold, artifact_id, body.reason, project=caller(request)[1])
        await audit(request, EventType.AUDIT_ARTIFACT_HELD, artifact_id)
        return public_artifact(found)

    @app.post("/v1/artifacts/{artifact_id}/release", response_model=ArtifactView)
    async def release_artifact(request: Request, artifact_id: str) -> dict[str, Any]:
        """Release a deliverable's legal hold."""
        found = await asyncio.to_thread(_backend(request).release, artifact_id, project=caller(request)[1])
        await audit(request, EventType.AUDIT_ARTIFACT_RELEASED, artifact_id)
        return public_artifact(found)

    for route in identity_router.routes:  # added one by one: each gets the app's guard and shows in app.routes
        assert isinstance(route, APIRoute)
        app.add_api_route(route.path, route.endpoint, methods=sorted(route.methods), status_code=route.status_code,
                          name=route.name, response_model=route.response_model, responses=route.responses,
                          response_class=route.response_class)
    serve_pages(app)
    _check_route_table(app)
    return app


_SSE_EVENT: dict[str, Any] = {  # one event of the stream, as a client's parser sees it
    "type": "object",
    "properties": {
        "id": {"type": "string", "pattern": "^[0-9]+$", "description": "The event's sequence (for Last-Event-ID)."},
        "event": {"type": "string", "description": "The event type, or stream.timeout / stream.closed."},
        "retry": {"type": "integer", "description": "Milliseconds to wait before reconnecting."},
        "data": {"type": "string", "contentMediaType": "application/json",
                 "contentSchema": {"type": "object"},
                 "description": "A JobEvent without `seq` (the id carries it); {reconnect} or {reason} at the end."},
    },
}

_DESCRIPTION = """Submit marketing briefs, follow their jobs, and read their merged, PII-safe reports.

Authenticate with `Authorization: Bearer <API key or OIDC token>`. Each request acts in one project: the
credential's only one, or the one named by `X-Mka-Project`. Every error is an RFC 9457 problem
(`application/problem+json`) with a stable `code`; a 422 lists each bad field in `errors`."""


def _wants_json(accept: str) -> bool:
    """Whether an Accept header asks for JSON rather than an event stream."""
    kinds = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    return "application/json" in kinds and "text/event-stream" not in kinds


def _operator_script(raw: dict[str, Any] | None, config: PortalConfig) -> ProvidersScript | None:
    """The request's provider script as sent (its fingerprint is the request's), or a 422 when scripts are not
    accepted. The analyze step holds it to the operator's limits: the shorter deadline and grace, the smaller
    budget."""
    if raw is None:
        return None
    if not config.allow_scripts:
        raise InvalidBrief([{"field": "providers_script", "type": "not_allowed",
                             "message": "provider scripts drive the stub LLMs; this portal runs real providers"}])
    try:
        return ProvidersScript.model_validate(raw)
    except ValidationError as exc:
        raise InvalidBrief(problems_from(exc, prefix="providers_script")) from None


def _check_route_table(app: FastAPI) -> None:
    """Every API route is in the permission table, and every table entry is a route: no route is unguarded."""
    served = {(m, r.path) for r in app.routes if isinstance(r, APIRoute) for m in r.methods}
    from serve_app.auth.rbac import ROUTES

    missing, stale = served - set(ROUTES), set(ROUTES) - served
    if missing or stale:
        raise RuntimeError(f"route permission table out of date: missing {sorted(missing)}, stale {sorted(stale)}")
    framework = {getattr(r, "path", "") for r in app.routes if not isinstance(r, APIRoute)}
    if not framework <= PUBLIC_PATHS:
        raise RuntimeError(f"unexpected framework routes {sorted(framework - PUBLIC_PATHS)}")


def _error_handlers(app: FastAPI, config: PortalConfig) -> None:
    roots = config.http.server_roots

    def problem(request: Request, status: int, code: str, detail: str, extra: dict[str, Any] | None = None,
                headers: dict[str, str] | None = None) -> JSONResponse:
        # No server path and no secret (a URL's credentials, `?key=`, a token an upstream error echoed) in a body.
        body = problem_body(status, code=code, detail=mask_secrets(scrub_paths(detail, roots)), instance=request.url.path,
                            extra=mask_secrets(json.loads(scrub_paths(json.dumps(extra or {}), roots))))
        return JSONResponse(status_code=status, content=body, headers=headers,
                            media_type="application/problem+json")

    @app.exception_handler(MkaError)
    async def _mka_error(request: Request, exc: MkaError) -> JSONResponse:
        status = status_for(exc)
        headers: dict[str, str] = {}
        if isinstance(exc, RateLimited):
            headers["Retry-After"] = str(int(max(1, exc.retry_after_s)))
        if status == 401:
            headers["WWW-Authenticate"] = 'Bearer realm="mka"'
        return problem(request, status, exc.code, exc.message, error_extras(exc), headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", "")),
                   "type": str(e.get("type", ""))} for e in exc.errors()]
        return problem(request, 422, "invalid_request", f"{len(errors)} problem(s) in the request",
                       {"retryable": False, "errors": errors})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if isinstance(exc.__cause__, MkaError):  # FastAPI wraps errors raised while it reads a body (size limit)
            return await _mka_error(request, exc.__cause__)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # Starlette names the first route's methods; RFC 9110 wants the path's all
            headers["Allow"] = ", ".join(sorted({m for r in request.app.routes if isinstance(r, APIRoute)
                                                 and r.path_regex.fullmatch(request.url.path) for m in r.methods}))
        return problem(request, exc.status_code, code, str(exc.detail), {"retryable": False}, headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return problem(request, 500, "internal_error", "the portal failed on this request", {"retryable": True})


def _too_large(limit: int) -> str:
    return f"the upload is over the {human_size(limit)} document limit (MKA_MAX_DOCUMENT_MB)"


async def _sse(request: Request, backend: PortalBackend, job_id: str, project: str, after: int, *,
               config: PortalConfig, release: Callable[[], None],
               still_allowed: Callable[[], bool]) -> AsyncIterator[bytes]:
    """The job's events after `after`, heartbeats while idle, until the job is terminal or the time is up; the
    credential is checked again every `sse_reauth_s`."""
    started = last_sent = checked = time.monotonic()
    try:
        yield b"retry: 2000\n\n"
        while True:
            messages = await asyncio.to_thread(backend.events, job_id, project=project)
            state = None
            for m in messages:
                to_state = m.event.payload.get("to_state")
                if m.event.type == EventType.JOB_STATE_CHANGED and to_state:
                    state = to_state
            fresh = [m for m in messages if m.seq > after]
            statuses = await asyncio.to_thread(backend.verification, fresh) if fresh else []  # one batch per poll
            for m, status in zip(fresh, statuses, strict=True):
                after = m.seq
                data = json.dumps({**m.event.model_dump(mode="json"), "verification": status})
                yield f"id: {m.seq}\nevent: {m.event.type}\ndata: {data}\n\n".encode()
                last_sent = time.monotonic()
            if state in _TERMINAL or await request.is_disconnected():
                return
            now = time.monotonic()
            if now - checked >= config.sse_reauth_s:
                checked = now
                if not await asyncio.to_thread(still_allowed):
                    yield b'event: stream.closed\ndata: {"reason": "credential no longer valid"}\n\n'
                    return
            if now - started >= config.sse_max_seconds:
                yield b"event: stream.timeout\ndata: {\"reconnect\": true}\n\n"
                return
            if now - last_sent >= config.sse_heartbeat_s:
                yield b": heartbeat\n\n"
                last_sent = now
            await asyncio.sleep(config.sse_poll_s)
    finally:
        release()
