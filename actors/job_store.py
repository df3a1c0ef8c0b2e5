"""The job store port: job repository and event outbox behind one interface (SQL lives in cluster/)."""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from actors.pii.guard import EgressBlocked, EgressGuard
from actors.pii.keys import Keyring
from schemas import (
    EVENT_SCHEMA_VERSION,
    Artifact,
    ArtifactKind,
    Brief,
    Event,
    JobRecord,
    JobState,
    StepRecord,
)

__all__ = [
    "BLOCKED_PROJECT", "EventBlocked", "JobStore", "OutboxMessage", "Signer", "guarded_event", "signed_event", "stream_event",
]

BLOCKED_PROJECT = "pii-blocked"
"""The project token of a scrubbed event whose project name carries a vault value."""


class EventBlocked(EgressBlocked):
    """An event of `job_id` carried a vault value (raised inside a store's transaction, which then fails the job)."""

    def __init__(self, job_id: str, entity_type: str, payload: dict[str, object]) -> None:
        super().__init__(
            f"blocked outbound event payload: it carries a {entity_type} value of the job's PII vault",
            channel="event",
            entity_type=entity_type,
        )
        self.job_id = job_id
        # The error code of a failure that was being written, if the blocked event announced one.
        self.cause = str(payload["error_code"]) if payload.get("to_state") == JobState.FAILED.value and payload.get("error_code") else None


def guarded_event(
    *, event_id: str, job: JobRecord, event_type: str, payload: dict[str, object], traceparent: str | None,
    now: datetime, guard: EgressGuard | None, scrub: bool = False,
) -> tuple[Event, dict[str, str]] | None:
    """The outbox event announcing a change of `job` (at its new version) and its headers, checked by the job's guard.

    Fail closed: an event carrying a value of the job's PII vault raises `EventBlocked`, so the
    store's transaction rolls back and the store fails the job instead. With `scrub`, the failure
    path gets the event without the values: strings carrying one become `<BLOCKED>`, a project
    that carries one becomes `pii-blocked` (in the event and its subject), headers carrying one go.
    An event the guard still flags after that comes back as None: it is not written at all.
    """
    event = Event(
        id=event_id, type=event_type, job_id=job.id, project=job.project, occurred_at=now,
        payload={**payload, "version": job.version},
    )
    headers = _headers(event, traceparent)
    found = guard.find({"event": event.model_dump(mode="json"), "headers": headers}) if guard else None
    if guard is None or found is None:
        return event, headers
    if not scrub:
        raise EventBlocked(job.id, found, payload)
    project = event.project if guard.find(event.project) is None else BLOCKED_PROJECT
    event = event.model_copy(update={"project": project, "payload": guard.scrub(event.payload)})
    headers = {k: v for k, v in headers.items() if guard.find(v) is None and guard.find(k) is None}
    if guard.find({"event": event.model_dump(mode="json"), "headers": headers}) is not None:
        return None
    return event, headers


def _headers(event: Event, traceparent: str | None = None) -> dict[str, str]:
    headers = {
        "Nats-Msg-Id": event.id,
        "Mka-Correlation-Id": event.job_id,
        "Mka-Event-Type": event.type,
        "Mka-Schema-Version": EVENT_SCHEMA_VERSION,
    }
    if traceparent:
        headers["traceparent"] = traceparent
    return headers


def stream_event(
    *, event_id: str, stream: str, project: str, event_type: str, payload: dict[str, object], now: datetime,
) -> tuple[Event, dict[str, str]]:
    """An event that belongs to no job (a sweep's summary, a jobless artifact's deletion) and its headers.

    Its payload holds ids, kinds, keys and counts only, so no job guard applies.
    """
    event = Event(id=event_id, type=event_type, job_id=stream, project=project, occurred_at=now, payload=payload)
    return event, _headers(event)


Signer = Callable[[dict[str, Any]], dict[str, Any]]
"""Signs an event envelope (JSON data): returns it with `key_id` and `signature` (`cluster.signing.SigningKey.sign`)."""


def signed_event(
    event: Event, headers: dict[str, str], *, sequence: int, signer: Signer | None,
) -> tuple[Event, dict[str, Any], dict[str, str]]:
    """The event at its outbox `sequence`, signed when a signer is given: the event, its stored JSON and its headers.

    The signature and key id also travel as the `Mka-Signature` and `Mka-Key-Id` headers.
    """
    body = event.model_copy(update={"sequence": sequence, "key_id": None, "signature": None}).model_dump(mode="json")
    if signer is None:
        return Event.model_validate(body), body, headers
    body = signer(body)
    return Event.model_validate(body), body, {**headers, "Mka-Key-Id": body["key_id"], "Mka-Signature": body["signature"]}


class OutboxMessage(BaseModel):
    """An event waiting in (or relayed from) the outbox, with the headers it is published with."""

    seq: int = Field(description="Outbox order; relays publish in this order.")
    event: Event
    subject: str
    headers: dict[str, str] = Field(description="Nats-Msg-Id, traceparent, Mka-Correlation-Id, ...")
    published_at: datetime | None = None


class JobStore(abc.ABC):
    """Jobs, steps, artifacts and the outbox; every method is one transaction.

    A state change and the event announcing it commit together, so an event is
    never lost nor published for a change that did not happen.
    """

    @abc.abstractmethod
    def submit(
        self,
        brief: Brief,
        *,
        idempotency_key: str | None = None,
        trace_id: str | None = None,
        traceparent: str | None = None,
        script: dict[str, Any] | None = None,
    ) -> JobRecord:
        """Create a job in `submitted`, or return the job already created with this key.

        The key's fingerprint covers the whole request (brief and provider `script`): the same key with a
        different request raises `IdempotencyConflict`.

        Nothing raw at rest: the record's brief is masked (`actors.pii.briefs.mask_brief`), the
        brief as submitted is kept sealed with the job's key, and the idempotency fingerprint is
        a keyed hash.
        """

    @abc.abstractmethod
    def raw_brief(self, job_id: str) -> Brief | None:
        """Open the job's sealed raw brief (validate and redact steps); None once purged or never sealed."""

    @abc.abstractmethod
    def keyring(self) -> Keyring:
        """The vault keyring the store seals raw briefs with (documents are sealed with it too)."""

    @abc.abstractmethod
    def sealed_brief(self, job_id: str) -> bytes | None:
        """The job's raw brief as stored, sealed (None once purged or never sealed)."""

    @abc.abstractmethod
    def reseal_brief(self, job_id: str, sealed: bytes) -> bool:
        """Replace the sealed raw brief (key rotation: same brief, newer key); False when there is none."""

    @abc.abstractmethod
    def purge_raw_brief(self, job_id: str) -> bool:
        """Delete the job's sealed raw brief (with its vault, at the end of retention); True if there was one."""

    @abc.abstractmethod
    def set_brief(self, job_id: str, brief: Brief) -> None:
        """Store the pseudonymized brief in the record in place of the masked one (after the redact step).

        Only free-text fields may differ from the stored brief. Not a state change: no version bump, no event.
        """

    @abc.abstractmethod
    def get(self, job_id: str, *, project: str | None = None) -> JobRecord:
        """Return the job; raise `JobNotFound` (also for a job of another project than `project`, when given)."""

    @abc.abstractmethod
    def list_jobs(
        self, *, project: str | None = None, states: list[JobState] | None = None, limit: int = 50,
        before: tuple[datetime, str] | None = None,
    ) -> list[JobRecord]:
        """Return the newest jobs first (ties by id, descending), optionally only those in `states`; `before` is a
        cursor `(created_at, id)`: only jobs strictly after it in that order."""

    @abc.abstractmethod
    def transition(
        self,
        job_id: str,
        to_state: JobState,
        *,
        expected_version: int,
        reason: str = "",
        error: dict[str, object] | None = None,
        degraded: bool | None = None,
        traceparent: str | None = None,
    ) -> JobRecord:
        """Move the job if it is still at `expected_version` and the move is legal; emit its event."""

    @abc.abstractmethod
    def record_step(self, step: StepRecord, *, traceparent: str | None = None) -> None:
        """Insert or update one step attempt (keyed by job, step, attempt); emit `step.recorded`."""

    @abc.abstractmethod
    def steps(self, job_id: str, *, project: str | None = None) -> list[StepRecord]:
        """Return the job's step attempts in order (none for a job of another project than `project`)."""

    @abc.abstractmethod
    def record_event(
        self, job_id: str, event_type: str, payload: dict[str, object], *, traceparent: str | None = None
    ) -> None:
        """Announce something a step did that changes no state (a translation retried or fallen back)."""

    @abc.abstractmethod
    def add_artifact(self, artifact: Artifact, *, traceparent: str | None = None) -> Artifact:
        """Commit the catalog row of an object just written (one row per key: a rewrite updates it, keeps its id
        and hold, and makes a deleted row stored again); emit `artifact.stored` for deliverables. Return the row.

        A row a sweep is deleting raises a retryable `StorageError`: the writer retries once the sweep is done.
        """

    @abc.abstractmethod
    def get_artifact(self, artifact_id: str, *, project: str | None = None) -> Artifact:
        """Return one catalog row (deleted ones too); raise `ArtifactNotFound` when there is none."""

    @abc.abstractmethod
    def artifacts(self, job_id: str) -> list[Artifact]:
        """Return the job's deliverables that are not deleted (reports, charts, exports), oldest first."""

    @abc.abstractmethod
    def catalog(
        self, *, job_id: str | None = None, project: str | None = None, kinds: list[ArtifactKind] | None = None,
        include_deleted: bool = False, limit: int | None = None,
    ) -> list[Artifact]:
        """Return catalog rows (every kind), oldest first; deleted rows only with `include_deleted`."""

    @abc.abstractmethod
    def artifact_at(self, key: str) -> Artifact | None:
        """Return the catalog row of an object key, if there is one."""

    @abc.abstractmethod
    def hold_artifact(self, artifact_id: str, reason: str) -> Artifact:
        """Put a legal hold on a row (no rule deletes it until released); emit `artifact.held`.

        Raise `ArtifactNotFound`, or `ArtifactGone` when the row is already deleted or being deleted.
        """

    @abc.abstractmethod
    def release_artifact(self, artifact_id: str) -> Artifact:
        """Lift a legal hold; emit `artifact.released` (a no-op on a row without one)."""

    @abc.abstractmethod
    def begin_delete(self, artifact_id: str, reason: str, *, seen: Artifact | None = None) -> Artifact | None:
        """Mark a row `deleting` with its reason, unless it is held, already deleted, or rewritten since the sweep
        read it as `seen` (another sha256 or creation time); None when refused.

        The check and the mark are one conditional update, so a hold placed before it always wins.
        """

    @abc.abstractmethod
    def finish_delete(self, artifact_id: str) -> Artifact:
        """Mark a `deleting` row deleted (its object is gone); emit `artifact.deleted` once."""

    def begin_deletes(self, items: list[tuple[str, str, Artifact | None]]) -> list[Artifact]:
        """`begin_delete` for many `(id, reason, seen)` at once (one transaction where the store has them);
        return the rows marked, in order."""
        return [row for i, reason, seen in items if (row := self.begin_delete(i, reason, seen=seen)) is not None]

    def finish_deletes(self, artifact_ids: list[str]) -> list[Artifact]:
        """`finish_delete` for many rows at once (one transaction where the store has them)."""
        return [self.finish_delete(i) for i in artifact_ids]

    @abc.abstractmethod
    def mark_lost(self, artifact_id: str) -> Artifact | None:
        """Mark a stored row whose object is missing `lost`; emit `artifact.lost`. None unless it was stored."""

    @abc.abstractmethod
    def restore_found(self, artifact_id: str) -> Artifact | None:
        """Mark a `lost` row stored again (its object is listed again); None unless it was lost."""

    @abc.abstractmethod
    def set_retention(self, until: dict[str, datetime | None]) -> None:
        """Record when the cleanup rules will delete each row (`retention_until`), by artifact id."""

    @abc.abstractmethod
    def purge_events(self, before: datetime, *, project: str | None = None, exclude: Sequence[str] = (),
                     keep_jobs: Sequence[str] = (), published_only: bool = True, dry_run: bool = False,
                     limit: int | None = None, audit_stream: str | None = None) -> int:
        """Delete outbox rows that happened before `before`, of `project` (or of every project not in `exclude`),
        oldest first and at most `limit`; only relayed ones when `published_only`; never those of `keep_jobs` (a
        legal hold). With `audit_stream`, one `retention.events_purged` event on that system stream in the same
        transaction. Return how many went (or, dry, would go)."""

    @abc.abstractmethod
    def outbox_backlog(self) -> tuple[int, datetime | None]:
        """How many outbox rows wait for the relay, and when the oldest of them happened (None: none waits)."""

    @abc.abstractmethod
    def job_counts(self) -> dict[str, int]:
        """How many jobs are in each state (states with none left out)."""

    @abc.abstractmethod
    def any_published(self) -> bool:
        """Whether any outbox row was ever relayed: the deployment has a relay, whatever this process's settings say."""

    @abc.abstractmethod
    def tombstone_jobs(self, job_ids: Sequence[str]) -> list[str]:
        """Replace finished jobs with no live catalog row (stored, lost or being deleted) by tombstones: id, project,
        state and times stay; the brief, error, steps, idempotency key and catalog history go. One `job.purged`
        event each; return the ids replaced (a job that runs or still has objects is skipped)."""

    @abc.abstractmethod
    def tombstone(self, job_id: str) -> dict[str, Any] | None:
        """The tombstone of a purged job (`id`, `project`, `state`, `created_at`, `ended_at`, `purged_at`), if any."""

    @abc.abstractmethod
    def record_system_event(self, event_type: str, payload: dict[str, object], *, stream: str) -> None:
        """Write an event that belongs to no job (the sweeper's run summary) on `mka.events.mka-system.<stream>`."""

    @abc.abstractmethod
    def events(self, job_id: str, *, project: str | None = None) -> list[OutboxMessage]:
        """Return every event of the job from the outbox, in order (none when the job is not `project`'s)."""

    @abc.abstractmethod
    def pending_events(self, *, limit: int = 100) -> list[OutboxMessage]:
        """Return unpublished outbox messages, oldest first."""

    @abc.abstractmethod
    def mark_published(self, event_ids: list[str]) -> None:
        """Mark outbox messages published (called only after their PubAck)."""
