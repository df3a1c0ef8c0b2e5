"""The portal's documented contract: response and request models, RFC 9457 problems per route, links between
operations, and the OpenAPI document built from them (one place, applied to every route from the RBAC table)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from schemas import Artifact, Brief, Event, StepRecord
from schemas.brief import PROJECT_PATTERN
from schemas.pipeline import ProvidersScript
from schemas.summary import JobSummary
from serve_app.auth.identity import SUBJECT_PATTERN, KeyRecord
from serve_app.auth.rbac import Role
from serve_app.auth.rbac import PUBLIC, SIGNED_IN, Permission, access_for

__all__ = [
    "ArtifactView",
    "BODIES",
    "CallerView",
    "JobAccepted",
    "JobEvent",
    "JobPage",
    "JobView",
    "Localization",
    "Problem",
    "build_openapi",
    "content",
]

PROBLEM_JSON = "application/problem+json"


class FieldProblem(BaseModel):
    """One bad field of a request: its dotted path, what is wrong, and pydantic's error type."""

    field: str = Field(description="Dotted path inside the body (inside the brief for POST /v1/jobs), or a "
                                   "parameter's name.", examples=["markets.0"])
    message: str = Field(examples=["unknown country code 'XX'"])
    type: str = Field(examples=["value_error"])


class Problem(BaseModel):
    """An RFC 9457 problem: every error the portal answers has this shape (`application/problem+json`)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="urn:mka:problem:<code>.", examples=["urn:mka:problem:not_found"])
    title: str = Field(description="The HTTP status phrase.", examples=["Not Found"])
    status: int = Field(ge=400, le=599, examples=[404])
    detail: str = Field(description="What went wrong, for a person.", examples=["no job 0f3c…"])
    code: str = Field(description="A stable code for programs.", examples=["not_found"])
    instance: str | None = Field(default=None, description="The request path.", examples=["/v1/jobs/0f3c"])
    retryable: bool | None = Field(default=None, description="Whether the same request may succeed later.")
    errors: list[FieldProblem] | None = Field(default=None, description="Each bad field (422 only).")
    reason: str | None = Field(default=None, description="A finer code for a rejected request (too_large, …).")


class Health(BaseModel):
    """The process answers."""

    status: str = Field(examples=["ok"])
    api: str = Field(examples=["v1"])


class Ready(BaseModel):
    """Each part the portal depends on, `ok` or what is wrong; `failing` names the parts that are not ok."""

    status: str = Field(examples=["ok", "unavailable"])
    checks: dict[str, str] = Field(examples=[{"database": "ok", "objects": "ok", "orchestrator": "ok"}])
    failing: list[str] = Field(examples=[[]])


class JobRequest(BaseModel):
    """POST /v1/jobs body: the brief (its project defaults to the caller's), and optionally a provider script that
    drives the stub LLMs (accepted only where the operator allows scripts)."""

    brief: Brief
    providers_script: ProvidersScript | None = None


class HoldRequest(BaseModel):
    """POST /v1/artifacts/{id}/hold body: why the artifact is kept past its retention."""

    reason: str = Field(min_length=1, max_length=500, examples=["litigation 2026-114"])


class JobLinks(BaseModel):
    """Where to follow a job."""

    self: str = Field(examples=["/v1/jobs/0f3c2a9e"])
    events: str = Field(examples=["/v1/jobs/0f3c2a9e/events"])


class JobAccepted(BaseModel):
    """A submitted job (202): its id and project, and where to follow it."""

    job_id: str
    project: str = Field(pattern=PROJECT_PATTERN)
    links: JobLinks


class JobListItem(BaseModel):
    """A job as listed: id, state and times; its title is masked or pseudonymized like the rest of the brief."""

    job_id: str
    project: str
    state: str = Field(examples=["completed"])
    title: str = Field(description="The brief's title, masked or pseudonymized.")
    markets: list[str]
    degraded: bool
    error_code: str | None = Field(default=None, description="The failure's code for a failed job.")
    created_at: datetime
    updated_at: datetime


class JobPage(BaseModel):
    """One page of jobs, newest first; pass `next_cursor` as `cursor` for the next page (null: the last page)."""

    items: list[JobListItem]
    next_cursor: str | None = None


class JobArtifactLink(BaseModel):
    """A deliverable of the job: its id, kind, checksum, locale and download link (never a server path)."""

    id: str
    kind: str
    uri: str | None = Field(default=None, description="s3:// URI when stored in object storage.")
    sha256: str
    locale: str | None = None
    href: str


class JobView(JobSummary):
    """The job: the run summary (state, degraded, each provider's outcome, the quorum, the brief masked or
    pseudonymized), with download links for its deliverables, its steps, version and times."""

    artifacts: list[JobArtifactLink] = Field(default_factory=list)  # type: ignore[assignment]
    wall_s: SkipJsonSchema[float | None] = Field(default=None, exclude=True)
    project: str
    version: int
    steps: list[StepRecord] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class EvidenceView(BaseModel):
    """One piece of evidence as collected, pseudonymized."""

    id: str
    source: str
    source_type: str | None = Field(default=None, description="dataset, web, document, tool; None on older jobs.")
    text: str
    data: dict[str, Any] | None = Field(default=None, description="The figures it carries, when it has any.")
    retrieved_at: datetime | None = None


class JobEvent(Event):
    """One of the job's events with its sequence number (the SSE `id`, and what Last-Event-ID resumes after)."""

    seq: int = Field(ge=1)
    verification: str = Field(
        description="`verified` when the signature holds under a key of GET /v1/signing-keys, else why not "
                    "(`unsigned`, `unknown key`, `bad signature`, ...).", examples=["verified"],
    )


class SigningKeyView(BaseModel):
    """One Ed25519 public key as an RFC 8037 JWK, and whether it signs new events (`active`) or only old ones."""

    kty: str = Field(examples=["OKP"])
    crv: str = Field(examples=["Ed25519"])
    alg: str = Field(examples=["EdDSA"])
    use: str = Field(examples=["sig"])
    kid: str = Field(description="The `key_id` signed events carry.", examples=["ed25519-c948aeb411b49609"])
    x: str = Field(description="The raw public key, base64url.")
    status: str = Field(examples=["active", "retired"])


class SigningKeys(BaseModel):
    """The keys events are verified with: the active one first, then retired ones (kept after rotations)."""

    keys: list[SigningKeyView]


class ArtifactView(Artifact):
    """A deliverable's catalog row as the portal shows it: no server path or storage URI, a download link."""

    uri: SkipJsonSchema[str | None] = Field(default=None, exclude=True)
    local_path: SkipJsonSchema[str | None] = Field(default=None, exclude=True)
    href: str = Field(description="Download the content.", examples=["/v1/artifacts/7d1e"])
    meta: str = Field(description="This row.", examples=["/v1/artifacts/7d1e/meta"])


class Localization(BaseModel):
    """One localized report of the job: its locale, how its translation went, and its deliverables."""

    locale: str = Field(examples=["de_DE"])
    language: str | None = Field(default=None, examples=["de"])
    rtl: bool = False
    status: str | None = Field(default=None, description="translated, partial or untranslated.")
    reason: str = ""
    translated_by: str | None = None
    artifacts: list[ArtifactView] = Field(default_factory=list)


class DocumentView(BaseModel):
    """An uploaded document as listed: its id (for a brief's `documents`), when it goes, and whether it is still
    there; its name and content stay sealed."""

    document_id: str
    project: str
    created_at: datetime
    retention_until: datetime | None = None
    legal_hold: bool = False
    status: str = Field(examples=["stored", "deleted"])


class StateView(BaseModel):
    """A job's state after cancel or resume."""

    job_id: str
    state: str = Field(examples=["cancelled", "resuming"])


class CallerProject(BaseModel):
    """The caller's role and permissions in one project."""

    project: str
    role: str
    permissions: list[str]


class CallerView(BaseModel):
    """The caller: an API key (id), a token subject, or the local developer; and each project's role."""

    kind: str = Field(examples=["key", "jwt", "dev"])
    id: str
    deployment_admin: bool
    projects: list[CallerProject]


class ProjectView(BaseModel):
    """A project and the caller's role in it."""

    name: str
    created_at: datetime
    role: str


class ProjectRequest(BaseModel):
    """POST /v1/projects body."""

    name: str = Field(min_length=1, max_length=63, json_schema_extra={"pattern": PROJECT_PATTERN})


class MemberRequest(BaseModel):
    """POST /v1/projects/{project}/members body: a token subject's role (and grant) in the project."""

    subject: str = Field(min_length=1, max_length=255, json_schema_extra={"pattern": SUBJECT_PATTERN})
    role: Role
    pii_reader: bool = False


class KeyRequest(BaseModel):
    """POST /v1/keys body: a key of the caller's project (its secret is in the answer only)."""

    role: Role
    pii_reader: bool = False
    expires: str | None = Field(default=None, max_length=8, json_schema_extra={"pattern": r"^\s*[0-9]{1,4}[hdwy]\s*$"},
                                description="12h, 30d, 4w or 1y (at most 10 years); none: never expires.")
    name: str = Field(default="", max_length=200)


class KeyCreated(KeyRecord):
    """A new key's row and the key itself, shown in this answer only."""

    api_key: str = Field(description="mka_<key id>_<secret>: store it now, it is never shown again.")


BODIES: dict[tuple[str, str], type[BaseModel]] = {
    ("POST", "/v1/jobs"): JobRequest,
    ("POST", "/v1/artifacts/{artifact_id}/hold"): HoldRequest,
    ("POST", "/v1/projects"): ProjectRequest,
    ("POST", "/v1/projects/{project}/members"): MemberRequest,
    ("POST", "/v1/keys"): KeyRequest,
}
"""Request bodies read by hand after the guard (so an anonymous caller gets 401, not a parse error): documented
here."""

_PROBLEM_EXAMPLES: dict[int, tuple[str, str]] = {
    400: ("request_rejected", f"X-Mka-Project must match {PROJECT_PATTERN}"),
    401: ("unauthenticated", "the API key is not valid"),
    403: ("permission_denied", "this credential may not jobs:write in project 'acme'"),
    404: ("not_found", "no job 0f3c2a9e"),
    409: ("illegal_transition", "job 0f3c2a9e is completed; only a job that failed on infrastructure resumes"),
    410: ("artifact_gone", "artifact 7d1e was deleted by retention"),
    413: ("request_rejected", "the request body is over the 1 MiB limit (MKA_MAX_BODY_BYTES)"),
    415: ("request_rejected", "send the body as application/json"),
    422: ("invalid_brief", "1 problem(s) in the request"),
    429: ("rate_limited", "too many requests; retry after 3 s"),
    500: ("internal_error", "the portal failed on this request"),
    503: ("unavailable", "the portal is starting; try again shortly"),
}
_DESCRIPTIONS = {
    400: "A bad header or host.", 401: "No credential, or one that is not valid (expired, revoked).",
    403: "The credential's role or grant does not allow this in the project.",
    404: "No such resource in the caller's project (another project's ids answer 404 too).",
    409: "The resource is not in a state that allows this.", 410: "The artifact was deleted; the reason is given.",
    413: "The body is over the size limit.", 415: "The body is not JSON (or, for uploads, not multipart).",
    422: "The request is well-formed but invalid: `errors` lists each field.",
    429: "Over the caller's rate limit; see Retry-After.", 500: "An unexpected failure (logged).",
    503: "A dependency is unavailable or busy; retry later.",
}


def content(*media: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """An OpenAPI `content` map of one schema (a binary string by default) for each media type."""
    return {m: {"schema": schema or {"type": "string", "format": "binary"}} for m in media}


def _statuses(method: str, path: str, operation: dict[str, Any]) -> list[int]:
    """The problem statuses a route can answer: from its access rule, its parameters and its method."""
    access = access_for(method, path)
    found = {400, 500, 503}
    if access != PUBLIC:
        found |= {401, 404, 422, 429}
        if access != SIGNED_IN:
            found.add(403)
    if method in {"POST", "PUT", "PATCH", "DELETE"}:
        found |= {413, 415, 422}
    if operation.get("parameters") or operation.get("requestBody"):
        found.add(422)
    return sorted(found | {int(s) for s in operation.get("responses", {}) if s.isdigit() and int(s) >= 400})


def _problem_response(status: int, described: dict[str, Any] | None) -> dict[str, Any]:
    code, detail = _PROBLEM_EXAMPLES.get(status, ("http_error", "see detail"))
    example: dict[str, Any] = {"type": f"urn:mka:problem:{code}", "title": "", "status": status, "detail": detail,
                               "code": code, "retryable": status in (429, 500, 503)}
    from http import HTTPStatus

    example["title"] = HTTPStatus(status).phrase
    if status == 422:
        example["errors"] = [{"field": "markets.0", "message": "unknown country code 'XX'", "type": "value_error"}]
    response: dict[str, Any] = {
        "description": (described or {}).get("description") or _DESCRIPTIONS.get(status, "A problem."),
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}, "example": example}},
    }
    if status == 429:
        response["headers"] = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
    if status == 401:
        response["headers"] = {"WWW-Authenticate": {"description": "Bearer realm=\"mka\"",
                                                    "schema": {"type": "string"}}}
    return response


_LINKS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("POST", "/v1/jobs"): {
        name: {"operationId": op, "parameters": {"job_id": "$response.body#/job_id"}}
        for name, op in (("GetJob", "get_job"), ("JobEvents", "job_events"), ("JobMerge", "job_merge"),
                         ("JobArtifacts", "job_artifacts"), ("JobEvidence", "job_evidence"),
                         ("JobLocalizations", "job_localizations"), ("CancelJob", "cancel_job"),
                         ("ResumeJob", "resume_job"))
    },
}


def _exact_brief(schemas: dict[str, Any]) -> None:
    """Say in the document what the brief's validators check: country, locale and currency codes as enums (so a
    front end can offer them, and a generated brief is a valid one)."""
    import pycountry
    from babel import localedata

    countries = sorted(c.alpha_2 for c in pycountry.countries)
    locales = sorted(localedata.locale_identifiers())
    currencies = sorted(c.alpha_3 for c in pycountry.currencies)
    brief = schemas["Brief"]["properties"]
    brief["markets"]["items"] = {"type": "string", "enum": countries}
    brief["locale"]["enum"] = locales
    for option in brief["locales"]["anyOf"]:
        if option.get("type") == "array":
            option["items"] = {"type": "string", "enum": locales}
    source_url = schemas.get("SourceRef", {}).get("properties", {}).get("url")
    if source_url is not None:  # what the validator checks: an http(s) URL with a host
        source_url["pattern"] = r"^[Hh][Tt][Tt][Pp][Ss]?://[^/\s?#]+\S*$"
    for option in schemas["Product"]["properties"]["currency"]["anyOf"]:
        if option.get("type") == "string":
            option["enum"] = currencies


def build_openapi(app: FastAPI, *, extra_models: list[type[BaseModel]] = (), version: str) -> dict[str, Any]:  # type: ignore[assignment]
    """The OpenAPI document: FastAPI's, with every hand-read body, every problem response (as problem+json),
    the bearer scheme on signed-in routes, the X-Mka-Project header where it picks the project, and links."""
    routes = [r for r in app.routes if isinstance(r, APIRoute)]
    doc = get_openapi(title=app.title, version=version, description=app.description, routes=routes)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for model in (Problem, *BODIES.values(), *extra_models):
        generated = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, sub in generated.pop("$defs", {}).items():
            schemas.setdefault(name, sub)
        schemas[model.__name__] = generated
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    _exact_brief(schemas)
    doc["components"]["securitySchemes"] = {
        "apiKey": {"type": "http", "scheme": "bearer", "description": "An API key (mka_…) or an OIDC access token."}}
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            upper = method.upper()
            access = access_for(upper, path)
            body = BODIES.get((upper, path))
            if body is not None:
                operation["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": {"$ref": f"#/components/schemas/{body.__name__}"}}}}
            if access != PUBLIC:
                operation["security"] = [{"apiKey": []}]
                if access not in (SIGNED_IN, Permission.PROJECTS_CREATE) and "{project}" not in path:
                    operation.setdefault("parameters", []).append({
                        "name": "X-Mka-Project", "in": "header", "required": False,
                        "description": "The project to act in (default: the credential's only project, or the "
                                       "portal's default project).",
                        "schema": {"type": "string", "pattern": PROJECT_PATTERN}})
            responses = operation.setdefault("responses", {})
            for status in _statuses(upper, path, operation):
                declared = responses.get(str(status)) or {}
                own = "$ref" in str(declared) and "HTTPValidationError" not in str(declared)  # not FastAPI's 422
                if own and any(media != PROBLEM_JSON for media in declared.get("content", {})):
                    continue  # the route answers this status with its own model (readiness: 503 with the checks)
                responses[str(status)] = _problem_response(status, declared)
            links = _LINKS.get((upper, path))
            if links:
                for status, response in responses.items():
                    if status.startswith("2"):
                        response["links"] = links
    return doc
