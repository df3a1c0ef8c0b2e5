"""The portal HTTP API (FastAPI): jobs, their events as server-sent events, and artifacts with their catalog metadata."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Header, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, ValidationError

from schemas import (
    Artifact,
    ArtifactGone,
    ArtifactNotFound,
    IdempotencyConflict,
    IllegalTransition,
    InvalidBrief,
    InvalidInput,
    JobNotFound,
    MkaError,
    parse_brief,
    problems_from,
)
from actors.documents.convert import DocumentError, human_size
from schemas.brief import PROJECT_PATTERN
from schemas.pipeline import ProvidersScript
from serve_app.backend import PortalBackend

__all__ = ["API_VERSION", "JobRequest", "create_app", "public_artifact", "status_for"]

API_VERSION = "v1"
MAX_BODY_BYTES = 256 * 1024
MULTIPART_OVERHEAD = 64 * 1024  # form boundaries and part headers around the document
SSE_POLL_S = 0.25


class JobRequest(BaseModel):
    """POST /v1/jobs body: the brief, and optionally a provider script (stub LLMs)."""

    brief: dict[str, Any]
    providers_script: dict[str, Any] | None = Field(default=None)


def status_for(exc: MkaError) -> int:
    """The one place the error tree maps to HTTP statuses."""
    if isinstance(exc, InvalidBrief):
        return 422
    if isinstance(exc, InvalidInput):  # an upload: too large, a type we do not read, or a file we refuse to open
        reason = getattr(exc, "reason", "")
        return 413 if reason == "too_large" else 415 if reason == "unsupported_type" else 422
    if isinstance(exc, (JobNotFound, ArtifactNotFound)):
        return 404
    if isinstance(exc, (IdempotencyConflict, IllegalTransition)):
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


_PLUGIN_ROUTE = re.compile(r"/v1/jobs/[^/]+/figma-plan")
_PLUGIN_CORS = {"Access-Control-Allow-Origin": "null", "Access-Control-Allow-Methods": "GET",
                "Access-Control-Allow-Headers": "Authorization", "Access-Control-Max-Age": "600", "Vary": "Origin"}


def create_app(backend: PortalBackend | None = None) -> FastAPI:
    """Build the portal app over `backend` (kept in `app.state.backend`; the composition root passes the real one)."""
    app = FastAPI(title="Marketing Assistant portal", version="0.1.0")
    app.state.backend = backend

    @app.exception_handler(MkaError)
    async def _mka_error(_: Request, exc: MkaError) -> JSONResponse:
        return JSONResponse(status_code=status_for(exc), content={"error": exc.to_dict()})

    @app.middleware("http")
    async def _figma_plugin_cors(request: Request, call_next: Any) -> Response:
        """The Figma plugin's panel (an iframe of origin `null`) may read fill plans, with a key; nothing else
        cross-origin."""
        if not (_PLUGIN_ROUTE.fullmatch(request.url.path) and request.headers.get("origin") == "null"):
            return await call_next(request)  # type: ignore[no-any-return]
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=_PLUGIN_CORS)
        response: Response = await call_next(request)
        response.headers.update(_PLUGIN_CORS)
        return response

    @app.get("/v1/health")
    async def health() -> dict[str, str]:
        """Liveness."""
        return {"status": "ok", "api": API_VERSION}

    @app.post("/v1/jobs", status_code=202)
    async def submit_job(request: Request, idempotency_key: str | None = Header(default=None)) -> JSONResponse:
        """Validate a brief and start a job; the same Idempotency-Key returns the same job."""
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            raise InvalidBrief([{"field": "body", "message": f"request body over {MAX_BODY_BYTES} bytes"}])
        try:
            req = JobRequest.model_validate_json(body)
        except ValidationError as exc:
            raise InvalidBrief(problems_from(exc, whole="body")) from None
        brief = parse_brief(req.brief)
        script = None
        if req.providers_script is not None:
            try:
                script = ProvidersScript.model_validate(req.providers_script)
            except ValidationError as exc:
                raise InvalidBrief(problems_from(exc, prefix="providers_script")) from None
        backend = _backend(request)
        job_id = await asyncio.to_thread(backend.submit, brief, idempotency_key=idempotency_key, script=script)
        return JSONResponse(
            status_code=202,
            content={
                "job_id": job_id,
                "links": {"self": f"/v1/jobs/{job_id}", "events": f"/v1/jobs/{job_id}/events"},
            },
        )

    @app.post("/v1/documents", status_code=201)
    async def upload_document(request: Request) -> JSONResponse:
        """Upload one document (multipart/form-data: `file`, optional `project`); list the returned id in a brief's
        `documents`. 413 past MKA_MAX_DOCUMENT_MB, 415 for a type we do not read, 422 for a file we refuse to open
        (encrypted PDF, zip bomb, damaged)."""
        backend = _backend(request)
        limit = backend.max_document_bytes()
        kind = request.headers.get("content-type", "")
        if not kind.lower().startswith("multipart/form-data"):
            raise DocumentError("upload the document as multipart/form-data with a `file` field",
                                reason="unsupported_type")
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit + MULTIPART_OVERHEAD:
            raise DocumentError(_too_large(limit), reason="too_large")
        body = bytearray()
        async for chunk in request.stream():  # counted as it arrives: an endless body is cut at the limit
            body += chunk
            if len(body) > limit + MULTIPART_OVERHEAD:
                raise DocumentError(_too_large(limit), reason="too_large")
        request._body = bytes(body)  # Starlette parses the form from the body read above
        form = await request.form(max_files=1, max_fields=4)
        upload, project = form.get("file"), form.get("project") or "default"
        if upload is None or isinstance(upload, str):
            raise DocumentError("the form has no `file` part", reason="missing_file")
        if not isinstance(project, str) or not re.fullmatch(PROJECT_PATTERN, project):
            raise InvalidBrief([{"field": "project", "message": f"a project matches {PROJECT_PATTERN}"}])
        data = await upload.read()
        info = await asyncio.to_thread(backend.upload_document, project, upload.filename or "", data)
        return JSONResponse(status_code=201, content=info.model_dump(mode="json"))

    @app.get("/v1/jobs/{job_id}/evidence")
    async def job_evidence(request: Request, job_id: str) -> list[dict[str, Any]]:
        """The job's evidence, pseudonymized: id, source, source type, text, figures, retrieval time."""
        items = await asyncio.to_thread(_backend(request).evidence, job_id)
        return [e.model_dump(mode="json", include={"id", "source", "source_type", "text", "data", "retrieved_at"})
                for e in items]

    @app.get("/v1/jobs/{job_id}")
    async def get_job(request: Request, job_id: str) -> dict[str, Any]:
        """The job's state, steps, provider outcomes and artifacts."""
        job, steps, summary = await asyncio.to_thread(_backend(request).job, job_id)
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

    @app.post("/v1/jobs/{job_id}/cancel")
    async def cancel_job(request: Request, job_id: str) -> dict[str, str]:
        """Cancel a job that has not finished."""
        state = await asyncio.to_thread(_backend(request).cancel, job_id)
        return {"job_id": job_id, "state": state}

    @app.post("/v1/jobs/{job_id}/resume", status_code=202)
    async def resume_job(request: Request, job_id: str) -> dict[str, str]:
        """Resume a job that failed on infrastructure (409 for any other job)."""
        await asyncio.to_thread(_backend(request).resume, job_id)
        return {"job_id": job_id, "state": "resuming"}

    @app.get("/v1/jobs/{job_id}/events")
    async def job_events(request: Request, job_id: str, last_event_id: str | None = Header(default=None)) -> StreamingResponse:
        """Server-sent events of the job until it is terminal; resumes after Last-Event-ID."""
        backend = _backend(request)
        await asyncio.to_thread(backend.events, job_id)  # 404 before the stream starts
        after = int(last_event_id) if last_event_id and last_event_id.isdigit() else 0
        return StreamingResponse(_sse(request, backend, job_id, after), media_type="text/event-stream")

    @app.get("/v1/jobs/{job_id}/artifacts")
    async def job_artifacts(request: Request, job_id: str) -> list[dict[str, Any]]:
        """The job's deliverables with their catalog metadata (deleted ones with their deletion reason)."""
        return [public_artifact(a) for a in await asyncio.to_thread(_backend(request).job_artifacts, job_id)]

    @app.get("/v1/jobs/{job_id}/figma-plan")
    async def figma_plan(request: Request, job_id: str, template: str = Query(..., min_length=1, max_length=80),
                         locale: str | None = Query(default=None, max_length=35)) -> dict[str, Any]:
        """A completed job's fill plan for a template of its project (what the Figma plugin applies), in the base
        report's language or a localized report's locale; checked by the egress guard."""
        done = await asyncio.to_thread(_backend(request).figma_export, job_id, template, locale)
        return done.plan.model_dump(mode="json")

    @app.get("/v1/jobs/{job_id}/figma-preview")
    async def figma_preview(request: Request, job_id: str, template: str = Query(..., min_length=1, max_length=80),
                            locale: str | None = Query(default=None, max_length=35)) -> Response:
        """The same plan drawn as an SVG preview of the filled template."""
        done = await asyncio.to_thread(_backend(request).figma_export, job_id, template, locale)
        return Response(content=done.preview, media_type="image/svg+xml")

    @app.get("/v1/artifacts/{artifact_id}/meta")
    async def artifact_meta(request: Request, artifact_id: str) -> dict[str, Any]:
        """One deliverable's catalog metadata: size, sha256, PII class, retention, hold, status."""
        return public_artifact(await asyncio.to_thread(_backend(request).artifact_meta, artifact_id))

    @app.get("/v1/artifacts/{artifact_id}")
    async def get_artifact(request: Request, artifact_id: str) -> Response:
        """An artifact's content with its content type and sha256 (checked); 410 Gone with the reason once deleted."""
        art, data = await asyncio.to_thread(_backend(request).artifact, artifact_id)
        name = art.key.rsplit("/", 1)[-1]
        return Response(
            content=data,
            media_type=art.content_type,
            headers={"Content-Disposition": f'inline; filename="{name}"', "X-Content-SHA256": art.sha256},
        )

    return app


def _too_large(limit: int) -> str:
    return f"the upload is over the {human_size(limit)} document limit (MKA_MAX_DOCUMENT_MB)"


async def _sse(request: Request, backend: PortalBackend, job_id: str, after: int) -> AsyncIterator[bytes]:
    terminal_states = {"completed", "failed", "cancelled"}
    while True:
        messages = await asyncio.to_thread(backend.events, job_id)
        finished = False
        for m in messages:
            if m.seq <= after:
                continue
            after = m.seq
            data = json.dumps(m.event.model_dump(mode="json"))
            yield f"id: {m.seq}\nevent: {m.event.type}\ndata: {data}\n\n".encode()
            if m.event.payload.get("to_state") in terminal_states:
                finished = True
        if finished or await request.is_disconnected():
            return
        yield b": keep-alive\n\n"
        await asyncio.sleep(SSE_POLL_S)
