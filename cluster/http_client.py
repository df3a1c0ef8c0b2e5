"""A typed HTTP client of the portal for notebooks and scripts: an API key, the server's own models, submit and
wait over server-sent events, reads, downloads checked against their sha256, and problems raised as errors."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, TypeAdapter

from schemas import TERMINAL_STATES, Brief, IntegrityFailure, MergeResult, MkaError
from schemas.pipeline import ProvidersScript
from serve_app.openapi import (
    ArtifactView,
    CallerView,
    JobAccepted,
    JobEvent,
    JobListItem,
    JobPage,
    JobView,
    Localization,
)

__all__ = ["PortalClient", "PortalError"]

M = TypeVar("M", bound=BaseModel)
TERMINAL = frozenset(s.value for s in TERMINAL_STATES)
_RETRY_STATUSES = frozenset({429, 502, 503, 504})


class PortalError(MkaError):
    """A problem the portal answered (RFC 9457): its status, stable `code`, `detail` and, for 422, each field."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.code = str(problem.get("code") or f"http_{status}")
        self.errors: list[dict[str, str]] = list(problem.get("errors") or [])
        detail = str(problem.get("detail") or problem.get("title") or f"HTTP {status}")
        fields = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in self.errors)
        super().__init__(f"{status} {self.code}: {detail}" + (f" ({fields})" if fields else ""),
                         retryable=bool(problem.get("retryable", status in _RETRY_STATUSES)))


class PortalClient:
    """The portal API with one API key (or OIDC token), acting in its project or the one given.

    Example:
        >>> with PortalClient("http://127.0.0.1:8000", api_key) as portal:          # doctest: +SKIP
        ...     job = portal.submit(brief)
        ...     done = portal.wait(job.job_id, on_event=lambda e: print(e.type))
        ...     pdf = portal.download(next(a for a in portal.artifacts(job.job_id) if a.kind == "pdf"))
    """

    def __init__(self, base_url: str, api_key: str, *, project: str | None = None, timeout: float = 30.0,
                 retries: int = 3, transport: httpx.BaseTransport | None = None) -> None:
        headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        if project:
            headers["X-Mka-Project"] = project
        self.retries = retries
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout,
                                  transport=transport)

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # --- requests ------------------------------------------------------------------------------------------

    def _request(self, method: str, path: str, *, retry: bool = True, **kwargs: Any) -> httpx.Response:
        """One request; 429 and 5xx-unavailable answers are retried (after Retry-After) when `retry`."""
        for attempt in range(self.retries + 1):
            try:
                response = self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if not retry or attempt == self.retries:
                    raise MkaError(f"the portal at {self._http.base_url} did not answer: {exc}", retryable=True) from exc
                time.sleep(min(8.0, 0.5 * 2**attempt))
                continue
            if response.status_code < 400:
                return response
            if retry and response.status_code in _RETRY_STATUSES and attempt < self.retries:
                time.sleep(_retry_after(response, attempt))
                continue
            raise _problem(response)
        raise AssertionError("unreachable")  # pragma: no cover

    def _get(self, path: str, model: type[M], **params: Any) -> M:
        return model.model_validate_json(self._request("GET", path, params=_drop_none(params)).content)

    # --- the caller and jobs -----------------------------------------------------------------------------------

    def me(self) -> CallerView:
        """Who the key is, and its role and permissions in each project."""
        return self._get("/v1/me", CallerView)

    def submit(self, brief: Brief | dict[str, Any], *, idempotency_key: str | None = None,
               providers_script: ProvidersScript | dict[str, Any] | None = None) -> JobAccepted:
        """Submit a brief; an idempotency key (one is made when none is given) makes retries return the same
        job. Raises `PortalError` with `errors` per field for an invalid brief."""
        data = brief.model_dump(mode="json", exclude_unset=True) if isinstance(brief, Brief) else dict(brief)
        body: dict[str, Any] = {"brief": data}
        if providers_script is not None:
            body["providers_script"] = (providers_script.model_dump(mode="json")
                                        if isinstance(providers_script, ProvidersScript) else providers_script)
        key = idempotency_key or f"py-{uuid.uuid4()}"
        response = self._request("POST", "/v1/jobs", json=body, headers={"Idempotency-Key": key})
        return JobAccepted.model_validate_json(response.content)

    def get(self, job_id: str) -> JobView:
        """The job: state, steps, providers, quorum, deliverables."""
        return self._get(f"/v1/jobs/{job_id}", JobView)

    def jobs(self, *, state: str | list[str] | None = None, terminal: bool | None = None, limit: int = 20,
             cursor: str | None = None) -> JobPage:
        """One page of the project's jobs, newest first (`next_cursor` for the next)."""
        return self._get("/v1/jobs", JobPage, state=state, terminal=terminal, limit=limit, cursor=cursor)

    def iter_jobs(self, **filters: Any) -> Iterator[JobListItem]:
        """Every job matching the filters, page after page."""
        cursor = None
        while True:
            page = self.jobs(cursor=cursor, **filters)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def events(self, job_id: str, *, after: int = 0) -> list[JobEvent]:
        """The job's events after sequence `after`, as stored."""
        headers = {"Last-Event-ID": str(after)} if after else {}
        response = self._request("GET", f"/v1/jobs/{job_id}/events", headers=headers)
        return TypeAdapter(list[JobEvent]).validate_json(response.content)

    def stream(self, job_id: str, *, after: int = 0, timeout_s: float | None = None) -> Iterator[JobEvent]:
        """The job's events as they happen (server-sent), until the job is terminal; a dropped or timed-out stream
        is resumed after the last event seen, a busy portal (429, 503) waited out as `Retry-After` says."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        failures = 0
        state: str | None = None  # the latest state seen: a resumed job's old `failed` is followed by more
        while True:
            headers = {"Accept": "text/event-stream", **({"Last-Event-ID": str(after)} if after else {})}
            read = 60.0 if deadline is None else max(0.1, min(60.0, deadline - time.monotonic()))
            try:
                with self._http.stream("GET", f"/v1/jobs/{job_id}/events", headers=headers,
                                       timeout=httpx.Timeout(self._http.timeout.connect, read=read)) as response:
                    if response.status_code >= 400:
                        response.read()
                        if response.status_code in _RETRY_STATUSES and failures < self.retries:
                            failures += 1
                            time.sleep(_retry_after(response, failures))
                            continue
                        raise _problem(response)
                    for kind, seq, data in _sse(response.iter_lines()):
                        _check_deadline(job_id, deadline)
                        if kind == "stream.closed":
                            raise MkaError(f"the portal closed the event stream: {data}", retryable=False)
                        if seq is None:  # stream.timeout: reconnect after the last event
                            continue
                        event = JobEvent.model_validate({**json.loads(data), "seq": seq})
                        after, failures = seq, 0
                        if event.type == "job.state_changed":
                            state = event.payload.get("to_state")
                        yield event
            except httpx.ReadTimeout:
                _check_deadline(job_id, deadline)
                continue
            except httpx.TransportError as exc:
                failures += 1
                if failures > self.retries:
                    raise MkaError(f"the event stream of job {job_id} keeps failing: {exc}", retryable=True) from exc
                time.sleep(min(8.0, 0.5 * 2**failures))
                continue
            # The portal ends a stream when the job's latest state is terminal, or when the stream's time is up
            # (then: resume after the last event).
            if state in TERMINAL:
                return
            _check_deadline(job_id, deadline)
            if self.get(job_id).state in TERMINAL and not self.events(job_id, after=after):
                return

    def wait(self, job_id: str, *, timeout_s: float | None = None,
             on_event: Callable[[JobEvent], None] | None = None) -> JobView:
        """Follow the job's events until it is terminal (calling `on_event` on each); return the finished job."""
        for event in self.stream(job_id, timeout_s=timeout_s):
            if on_event is not None:
                on_event(event)
        return self.get(job_id)

    def cancel(self, job_id: str) -> str:
        """Cancel an unfinished job; its state."""
        return str(self._request("POST", f"/v1/jobs/{job_id}/cancel", retry=False).json()["state"])

    def resume(self, job_id: str) -> str:
        """Resume a job that failed on infrastructure."""
        return str(self._request("POST", f"/v1/jobs/{job_id}/resume", retry=False).json()["state"])

    # --- results -----------------------------------------------------------------------------------------

    def merge(self, job_id: str, *, reveal_pii: bool = False) -> MergeResult:
        """The merge result: claims, the disagreement table, the quorum (placeholders unless revealed, which
        needs the pii_reader grant)."""
        return self._get(f"/v1/jobs/{job_id}/merge", MergeResult, reveal_pii=reveal_pii or None)

    def artifacts(self, job_id: str) -> list[ArtifactView]:
        """The job's deliverables with their catalog metadata."""
        response = self._request("GET", f"/v1/jobs/{job_id}/artifacts")
        return TypeAdapter(list[ArtifactView]).validate_json(response.content)

    def localizations(self, job_id: str) -> list[Localization]:
        """The job's localized reports and their deliverables."""
        response = self._request("GET", f"/v1/jobs/{job_id}/localizations")
        return TypeAdapter(list[Localization]).validate_json(response.content)

    def download(self, artifact: ArtifactView | str) -> bytes:
        """A deliverable's bytes, checked against the sha256 the portal sends (`IntegrityFailure` otherwise)."""
        artifact_id = artifact if isinstance(artifact, str) else artifact.id
        response = self._request("GET", f"/v1/artifacts/{artifact_id}", headers={"Accept": "*/*"})
        expected = response.headers.get("x-content-sha256") or (None if isinstance(artifact, str) else artifact.sha256)
        if expected and hashlib.sha256(response.content).hexdigest() != expected:
            raise IntegrityFailure(f"artifact {artifact_id} arrived damaged (sha256 differs)")
        return response.content

    def save(self, artifact: ArtifactView, directory: Path | str) -> Path:
        """Download a deliverable into `directory` at its path within the job (a localized report keeps its locale
        folder, so nothing is overwritten); the path written."""
        relative = artifact.key.split(f"/jobs/{artifact.job_id}/", 1)[-1] if artifact.job_id else artifact.key
        parts = [p for p in relative.split("/") if p not in ("", ".", "..")]
        target = Path(directory).joinpath(*parts or [artifact.id])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(self.download(artifact))
        return target


def _check_deadline(job_id: str, deadline: float | None) -> None:
    if deadline is not None and time.monotonic() > deadline:
        raise MkaError(f"job {job_id} did not finish in time", retryable=True)


def _drop_none(params: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def _retry_after(response: httpx.Response, attempt: int) -> float:
    try:
        return min(30.0, max(0.0, float(response.headers.get("retry-after", ""))))
    except ValueError:
        return min(8.0, 0.5 * 2**attempt)


def _problem(response: httpx.Response) -> PortalError:
    """The answer's problem, or one made from its status when the body is not a problem."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        body = {"code": f"http_{response.status_code}", "detail": response.text[:200]}
    return PortalError(response.status_code, body)


def _sse(lines: Iterator[str]) -> Iterator[tuple[str, int | None, str]]:
    """Server-sent events as (event type, id, data); comments skipped, multi-line data joined."""
    kind, seq, data = "message", None, []
    for line in lines:
        if not line:
            if data:
                yield kind, seq, "\n".join(data)
            kind, seq, data = "message", None, []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            kind = value
        elif name == "data":
            data.append(value)
        elif name == "id" and value.isdigit():
            seq = int(value)
    if data:
        yield kind, seq, "\n".join(data)
