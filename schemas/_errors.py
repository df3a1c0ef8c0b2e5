"""One error tree for the whole system; each error says whether a retry can help.

    MkaError
    ├── InvalidInput            a file or value given to a command is unreadable or invalid
    │   └── RequestRejected     an HTTP request refused before it is read (header, size, media type, host)
    ├── AccessError             who is asking, and may they
    │   ├── Unauthenticated     no credential, or one that is invalid, expired or revoked
    │   ├── PermissionDenied    the caller's role lacks the permission
    │   └── RateLimited         too many requests for this credential (retry_after_s)
    ├── NotFound                no such resource in the caller's project (projects, members, keys)
    ├── AlreadyExists           a project (or another named thing) of that name exists
    ├── InvalidBrief            the brief failed validation (lists every bad field)
    ├── ArtifactNotFound
    ├── JobError
    │   ├── JobNotFound
    │   ├── IllegalTransition   the state machine forbids the move
    │   ├── StaleJobVersion     another writer moved the job first (optimistic lock)
    │   ├── IdempotencyConflict same key, different request
    │   ├── BelowQuorum         fewer providers answered than the quorum needs
    │   └── BriefTooLong        placeholders made a brief field longer than its limit
    ├── AgentError              a step's agent failed
    │   ├── ProviderError       an LLM provider failed (kind, retry_after_s)
    │   ├── StepTimeout         an attempt or the step's deadline ran out
    │   └── RetriesExhausted    the retry policy gave up (last error chained)
    └── AdapterError            infrastructure failed
        ├── StorageError
        └── EventBusError
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import ValidationError


class MkaError(Exception):
    """Base of every error the system raises on purpose."""

    retryable: bool = False
    code: str = "mka_error"

    def __init__(self, message: str, *, retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        if retryable is not None:
            self.retryable = retryable

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-safe description for users and events (never a traceback)."""
        return {"code": self.code, "message": self.message, "retryable": self.retryable}


def problems_from(exc: ValidationError, *, prefix: str = "", whole: str = "brief") -> list[dict[str, str]]:
    """Each validation error as `{"field", "message", "type"}`: a dotted path (under `prefix`), pydantic's wording.

    The one translation of a pydantic `ValidationError` for users; `whole` names an error on the value itself.
    """
    problems = []
    for err in exc.errors(include_url=False, include_input=False):
        path = ".".join(str(part) for part in err["loc"])
        field = ".".join(p for p in (prefix, path) if p) or whole
        problems.append({"field": field, "message": err["msg"].removeprefix("Value error, "), "type": err["type"]})
    return problems


class InvalidInput(MkaError):
    """A file or value given to a command is unreadable or invalid (the message says which and why); `reason`, when
    set, is a stable code for programs (`too_large`, `unsupported_type`, …)."""

    code = "invalid_input"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason

    def to_dict(self) -> dict[str, Any]:
        """Return the error, with its reason code when it has one."""
        data = super().to_dict()
        return data if self.reason is None else {**data, "reason": self.reason}


class RequestRejected(InvalidInput):
    """An HTTP request refused before its body is read; `reason` is a stable code.

    Reasons: `bad_header`, `too_large`, `unsupported_type`, `bad_host`, `not_allowed` (an operator setting
    forbids what the request asks for).
    """

    code = "request_rejected"


class AccessError(MkaError):
    """Authentication and authorization failures."""

    code = "access_error"


class Unauthenticated(AccessError):
    """No credential, or one that is invalid, expired or revoked (the message never says which key)."""

    code = "unauthenticated"


class PermissionDenied(AccessError):
    """The caller is known but its role in the project lacks the permission."""

    code = "forbidden"


class RateLimited(AccessError):
    """Too many requests (or open streams) for one credential; retry after `retry_after_s`."""

    code = "rate_limited"
    retryable = True

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    def to_dict(self) -> dict[str, Any]:
        """Return the error with the wait."""
        return {**super().to_dict(), "retry_after_s": self.retry_after_s}


class NotFound(MkaError):
    """No such project, membership or key in the caller's reach."""

    code = "not_found"


class AlreadyExists(MkaError):
    """A project (or another named resource) of that name exists already."""

    code = "already_exists"


class ArtifactNotFound(MkaError):
    """No artifact has this id."""

    code = "artifact_not_found"


class ArtifactGone(MkaError):
    """The artifact was deleted (or is being deleted) by the cleanup rules; `reason` says which."""

    code = "artifact_gone"

    def __init__(self, message: str, *, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason

    def to_dict(self) -> dict[str, Any]:
        """Return the error with the deletion reason."""
        return {**super().to_dict(), "reason": self.reason}


class IntegrityFailure(MkaError):
    """A stored object no longer matches the sha256 its catalog row recorded."""

    code = "integrity_failure"


class InvalidBrief(MkaError):
    """The brief failed validation; `problems` lists every bad field."""

    code = "invalid_brief"

    def __init__(self, problems: list[dict[str, str]]) -> None:
        problems = [{"type": "value_error", **p} for p in problems]  # every problem names its kind
        fields = ", ".join(p["field"] for p in problems) or "brief"
        super().__init__(f"invalid brief: {len(problems)} problem(s) in {fields}")
        self.problems = problems

    def to_dict(self) -> dict[str, Any]:
        """Return the error with its per-field problems."""
        return {**super().to_dict(), "problems": self.problems}


class JobError(MkaError):
    """A job-level error."""

    code = "job_error"


class JobNotFound(JobError):
    """No job with that id."""

    code = "job_not_found"


class IllegalTransition(JobError):
    """The state machine has no such transition."""

    code = "illegal_transition"


class StaleJobVersion(JobError):
    """The job changed since the caller read it; re-read and decide again."""

    code = "stale_job_version"


class IdempotencyConflict(JobError):
    """The idempotency key was used before with a different request."""

    code = "idempotency_conflict"


class SourceFailed(JobError):
    """A document or page the brief asked for could not be read, and the brief says `on_source_error: fail`."""

    code = "source_failed"


class BelowQuorum(JobError):
    """Fewer providers answered than the quorum needs; `outcomes` names each provider's outcome kind."""

    code = "below_quorum"

    def __init__(self, message: str, *, outcomes: str = "") -> None:
        super().__init__(message)
        self.outcomes = outcomes


class BriefTooLong(JobError):
    """Placeholders made a brief field longer than its limit; the user must shorten it (never retried)."""

    code = "pseudonymized_brief_too_long"
    retryable = False


class AgentError(MkaError):
    """A step's agent failed."""

    code = "agent_error"


class ProviderError(AgentError):
    """An LLM provider failed; `kind` is one of `KINDS` and decides whether a retry can help.

    Retryable: timeout, rate_limit (wait at least `retry_after_s`), server_error. Final: auth,
    model_not_found (unknown or retired model id), content_filter (the provider refused the
    content), bad_output (the answer did not parse, even after the repair retry).
    """

    code = "provider_error"
    KINDS = ("timeout", "rate_limit", "server_error", "auth", "model_not_found", "content_filter", "bad_output")
    _RETRYABLE = {"timeout", "rate_limit", "server_error"}

    def __init__(self, kind: str, message: str = "", *, retry_after_s: float | None = None) -> None:
        super().__init__(message or kind, retryable=kind in self._RETRYABLE)
        self.kind = kind
        self.retry_after_s = retry_after_s

    def to_dict(self) -> dict[str, Any]:
        """Return the error with its kind (and retry-after when the provider sent one)."""
        out = {**super().to_dict(), "kind": self.kind}
        if self.retry_after_s is not None:
            out["retry_after_s"] = self.retry_after_s
        return out


class StepTimeout(AgentError):
    """An attempt or a step ran past its time budget."""

    code = "step_timeout"
    retryable = True


class RetriesExhausted(AgentError):
    """The retry policy gave up; the last error is the `__cause__`."""

    code = "retries_exhausted"


class AdapterError(MkaError):
    """Infrastructure (database, bus, storage) failed."""

    code = "adapter_error"
    retryable = True


class StorageError(AdapterError):
    """Object storage failed."""

    code = "storage_error"


class EventBusError(AdapterError):
    """The event bus failed."""

    code = "event_bus_error"
