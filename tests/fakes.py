"""Fakes that subclass the real interfaces, for unit tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from actors.clock import Clock


class FakeClock(Clock):
    """A clock that moves only when told to (or when code sleeps on it); records every sleep."""

    def __init__(self, *, start: datetime | None = None) -> None:
        self._t = 0.0
        self._start = start or datetime(2026, 1, 1, tzinfo=timezone.utc)
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """Return the fake monotonic time."""
        return self._t

    def now(self) -> datetime:
        """Return the fake wall time."""
        return self._start + timedelta(seconds=self._t)

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self._t += seconds

    def sleep(self, seconds: float) -> None:
        """Record the sleep and advance instead of waiting."""
        self.sleeps.append(seconds)
        self.advance(max(0.0, seconds))

    async def asleep(self, seconds: float) -> None:
        """Record the sleep and advance instead of waiting."""
        self.sleep(seconds)


# --- agents -------------------------------------------------------------------------------------

import hashlib
import inspect
import re
from collections import Counter

from actors.llm import StubLlmAgent
from actors.localization.agent import LocalizerRole
from actors.object_store import artifact_for, job_key
from actors.orchestrator.local_agents import LocalCalls, LoopThread
from actors.orchestrator.ports import (
    Agents,
    CollectOutput,
    RedactOutput,
    merge_analysis,
)
from schemas import AgentRequest, Artifact, ArtifactKind, Evidence, StoredPii
from schemas.pipeline import AnalysisRequest, ReportInput

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


from actors.figma.export import FigmaRole  # noqa: E402  (the report role's real Figma method)


class _NoBroker:
    """A broker with no MCP server behind it."""

    async def resolve(self, uri: str) -> Any:
        raise ConnectionError(f"no MCP server for {uri}")


class FakeAgents(Agents):
    """In-process agents: an email-only redactor, fixed evidence, stub LLMs, the real merge, a tiny report.

    Counts calls per method and can be told to crash (raise `Crash`) on a given call.
    """

    def __init__(self, objects, *, evidence: list[Evidence] | None = None) -> None:  # type: ignore[no-untyped-def]
        self.objects = objects
        self.calls: Counter[str] = Counter()
        self.crash_on: dict[str, int] = {}
        self.fail_on: dict[str, Exception] = {}
        self.sent_to_llm: list[AgentRequest[AnalysisRequest]] = []
        # The localizer reads the bundled profiles and rates (no MCP server here); stub LLMs translate per script.
        self.roles: dict[str, Any] = {"localizer": LocalizerRole(_NoBroker()), "report": FigmaRole(),
                                      **{f"llm-{p}": StubLlmAgent(p) for p in ("openai", "gemini", "xai")}}
        self._loop: LoopThread | None = None
        self.evidence = evidence or [
            Evidence(id="ev-de-market", source="mcp://market-data/market_size?country=DE", text="DE market is 1200 EUR m", data={"value_eur_m": 1200.0}),
            Evidence(id="ev-fr-market", source="mcp://market-data/market_size?country=FR", text="FR market is 800 EUR m", data={"value_eur_m": 800.0}),
        ]

    def _enter(self, name: str) -> None:
        self.calls[name] += 1
        if self.crash_on.get(name) == self.calls[name]:
            raise Crash(name)
        if name in self.fail_on:
            raise self.fail_on[name]

    def _redact(self, text: str, vault: dict[str, str]) -> str:
        def sub(m: re.Match[str]) -> str:
            return vault.setdefault(m.group(0), f"<EMAIL_ADDRESS_{len(vault) + 1}>")

        return _EMAIL.sub(sub, text)

    def redact_brief(self, envelope, vault):  # type: ignore[no-untyped-def]
        """Replace emails in the audience and notes."""
        self._enter("redact_brief")
        mapping = json.loads(vault or b"{}")
        brief = envelope.payload
        out = brief.model_copy(update={"audience": self._redact(brief.audience, mapping), "notes": self._redact(brief.notes, mapping)})
        return RedactOutput(brief=out, entities={"EMAIL_ADDRESS": len(mapping)}), json.dumps(mapping).encode()

    def collect(self, envelope):  # type: ignore[no-untyped-def]
        """Return the fixed evidence (one dataset source)."""
        from schemas.pipeline import CollectResult, SourceReport

        self._enter("collect")
        report = SourceReport(source="mcp://fake", source_type="dataset", label="fake", status="ok",
                              items=len(self.evidence))
        return CollectResult(evidence=list(self.evidence), sources=[report])

    def redact_evidence(self, envelope, vault, allow):  # type: ignore[no-untyped-def]
        """Replace emails in evidence text."""
        self._enter("redact_evidence")
        mapping = json.loads(vault)
        items = [e.model_copy(update={"text": self._redact(e.text, mapping)}) for e in envelope.payload]
        return CollectOutput(evidence=items), json.dumps(mapping).encode()

    def call(self, role, method, envelope, *args):  # type: ignore[no-untyped-def]
        """A role registered in `roles` (the localizer and stub LLMs by default); counted as `<role>.<method>`."""
        self._enter(f"{role}.{method}")
        result = getattr(self.roles[role], method)(envelope, *args)
        if inspect.iscoroutine(result):
            if self._loop is None:
                self._loop = LoopThread("fake-agents")
            return self._loop.run(result)
        return result

    def provider_calls(self):  # type: ignore[no-untyped-def]
        """Stub LLM agents as futures on a private loop."""
        if self._loop is None:
            self._loop = LoopThread("fake-agents")
        return LocalCalls({p: StubLlmAgent(p) for p in ("openai", "gemini", "xai")}, self._loop.submit)

    def analyze(self, envelopes, *, required, deadline_s, grace_s, deadlines=None):  # type: ignore[no-untyped-def]
        """Ask stub LLMs in-process through the one fan-out; counted, and what was sent is kept."""
        self._enter("analyze")
        self.sent_to_llm.extend(envelopes.values())
        return super().analyze(envelopes, required=required, deadline_s=deadline_s, grace_s=grace_s, deadlines=deadlines)

    def merge(self, envelope, evidence):  # type: ignore[no-untyped-def]
        """The real merge agent."""
        self._enter("merge")
        return merge_analysis(envelope.payload, evidence)

    def render(self, envelope):  # type: ignore[no-untyped-def]
        """Store the report input as JSON instead of a PDF."""
        self._enter("render")
        report: ReportInput = envelope.payload
        data = report.model_dump_json().encode()
        locale = report.localization.locale if report.localization else None
        key = job_key(report.brief.project, report.job_id, f"{locale}/report.json" if locale else "report.json")
        stored = self.objects.put(key, data, content_type="application/json")
        return [artifact_for(stored, project=report.brief.project, job_id=report.job_id, kind=ArtifactKind.EXPORT,
                             artifact_id=hashlib.sha256(key.encode()).hexdigest()[:32], created_at=report.generated_at,
                             step="render", locale=locale, pii_class=StoredPii.PSEUDONYMIZED)]


class Crash(BaseException):
    """Simulates the process dying mid-step (not an Exception: nothing catches it)."""


import json

# --- in-memory ports ----------------------------------------------------------------------------
import threading
import uuid
from collections.abc import Callable, Sequence

from actors.job_store import (
    EventBlocked,
    JobStore,
    OutboxMessage,
    Signer,
    guarded_event,
    signed_event,
    stream_event,
)
from actors.lifecycle.catalog import (
    ANNOUNCED_KINDS,
    SYSTEM_PROJECT,
    check_holdable,
    deletion_payload,
    hold_payload,
    raw_brief_row,
    stored_payload,
)
from actors.object_store import ListedObject, ObjectStore, StoredObject
from actors.pii.briefs import mask_brief, open_brief, request_hashes, seal_brief
from actors.pii.guard import EgressBlocked, GuardRegistry, guard_registry
from actors.pii.keys import Keyring
from actors.state_machine import StateMachine, default_machine
from schemas import (
    TERMINAL_STATES,
    ArtifactNotFound,
    ArtifactStatus,
    Brief,
    Event,
    EventType,
    IdempotencyConflict,
    JobError,
    JobNotFound,
    JobRecord,
    JobState,
    StaleJobVersion,
    StepOutcome,
    StepRecord,
    StorageError,
)


class MemoryObjectStore(ObjectStore):
    """Objects in a dict: the object store port with nothing behind it (URIs are `memory://<key>`)."""

    def __init__(self, *, clock: Clock | None = None) -> None:
        from actors.clock import SystemClock

        self.clock = clock or SystemClock()
        self.objects: dict[str, tuple[bytes, StoredObject]] = {}
        self.written: dict[str, datetime] = {}

    def _put(self, key: str, data: bytes, content_type: str, sha256: str, metadata: dict[str, str]) -> StoredObject:
        obj = StoredObject(key=key, uri=f"memory://{key}", size=len(data), sha256=sha256, content_type=content_type,
                           metadata=metadata)
        self.objects[key] = (data, obj)
        self.written[key] = self.clock.now()
        return obj

    def _entry(self, key: str) -> tuple[bytes, StoredObject]:
        try:
            return self.objects[key]
        except KeyError:
            raise StorageError(f"no object at {key}", retryable=False) from None

    def _get(self, key: str) -> bytes:
        return self._entry(key)[0]

    def _exists(self, key: str) -> bool:
        return key in self.objects

    def _delete(self, key: str) -> None:
        self.objects.pop(key, None)
        self.written.pop(key, None)

    def _presign(self, key: str, expires_s: int | None) -> str:
        return f"memory://{key}"

    def _stat(self, key: str) -> StoredObject:
        return self._entry(key)[1]

    def _list(self, prefix: str) -> list[ListedObject]:
        return [ListedObject(key=k, size=len(data), modified_at=self.written[k]) for k, (data, _) in self.objects.items()]


class MemoryJobStore(JobStore):
    """Jobs, steps, artifacts and the outbox in dicts under one lock: the job store port's semantics, no database.

    Like the SQL store it seals raw briefs with the keyring, keeps the masked brief on the record,
    checks every event with the job's egress guard (a blocked write changes nothing and fails the
    job), and emits an event with every change.
    """

    def __init__(self, *, keyring: Keyring, clock: Clock | None = None, machine: StateMachine | None = None,
                 new_id: Callable[[], str] | None = None, guards: GuardRegistry | None = None,
                 signer: Signer | None = None) -> None:
        from actors.clock import SystemClock

        self._keyring, self._clock, self._signer = keyring, clock or SystemClock(), signer
        self._machine = machine or default_machine()
        self._guards = guards or guard_registry()
        self._new_id = new_id or (lambda: str(uuid.uuid4()))
        self._lock = threading.RLock()
        self.jobs: dict[str, JobRecord] = {}
        self.sealed: dict[str, bytes | None] = {}
        self.keys: dict[tuple[str, str], tuple[str, str]] = {}
        self.step_rows: dict[str, list[StepRecord]] = {}
        self.artifact_rows: dict[str, Artifact] = {}
        self.outbox: list[OutboxMessage] = []
        self._purged = 0  # outbox rows retention deleted: sequences never repeat
        self.tombstones: dict[str, dict[str, Any]] = {}

    # --- transactions: work on copies, commit only when nothing raised ------------------------

    def _commit(self, job: JobRecord, events: list[tuple[str, dict[str, object], str | None]], *, scrub: bool = False) -> list[OutboxMessage]:
        out = []
        for event_type, payload, tp in events:
            built = guarded_event(event_id=self._new_id(), job=job, event_type=event_type, payload=payload,
                                  traceparent=tp, now=self._clock.now(), guard=self._guards.guard(job.id), scrub=scrub)
            if built is not None:
                out.append(self._message(self._purged + len(self.outbox) + len(out) + 1, *built))
        return out

    def _message(self, seq: int, event: Event, headers: dict[str, str]) -> OutboxMessage:
        event, _, headers = signed_event(event, headers, sequence=seq, signer=self._signer)
        return OutboxMessage(seq=seq, event=event, subject=event.subject, headers=headers)

    def _write(self, job: JobRecord, events: list[tuple[str, dict[str, object], str | None]]) -> None:
        try:
            messages = self._commit(job, events)
        except EventBlocked as blocked:
            self._fail_blocked(blocked)
            raise EgressBlocked(blocked.message, channel="event", entity_type=blocked.entity_type) from None
        self.jobs[job.id] = job
        self.outbox.extend(messages)

    def _fail_blocked(self, blocked: EventBlocked) -> None:
        job = self.jobs.get(blocked.job_id)
        if job is None:
            return
        error = EgressBlocked(blocked.message, channel="event", entity_type=blocked.entity_type).to_dict()
        now, closed, events = self._clock.now(), [], []
        for i, step in enumerate(self.step_rows.get(job.id, [])):
            if step.outcome == StepOutcome.RUNNING:
                self.step_rows[job.id][i] = step.model_copy(update={"outcome": StepOutcome.FAILED, "error": error, "finished_at": now})
                closed.append(step.step)
                events.append((EventType.STEP_RECORDED, {"step": step.step, "attempt": step.attempt, "outcome": "failed",
                                                 "error_code": error["code"]}, job.traceparent))
        if job.state not in TERMINAL_STATES:
            details = {**error, "step": closed[-1] if closed else None, "state": job.state.value, "resumable": False}
            if blocked.cause:
                details["cause"] = blocked.cause
            decision = self._machine.decide(job.state, JobState.FAILED, reason=error["code"], error_code=error["code"], degraded=job.degraded)
            job = job.model_copy(update={"state": JobState.FAILED, "version": job.version + 1, "error": details, "updated_at": now})
            events.append((decision.event_type, decision.payload, job.traceparent))
        self.jobs[job.id] = job
        self.outbox.extend(self._commit(job, events, scrub=True))

    def _get(self, job_id: str) -> JobRecord:
        try:
            return self.jobs[job_id]
        except KeyError:
            raise JobNotFound(f"no job {job_id}") from None

    # --- jobs --------------------------------------------------------------------------------

    def submit(self, brief: Brief, *, idempotency_key: str | None = None, trace_id: str | None = None,
               traceparent: str | None = None, script: dict[str, Any] | None = None) -> JobRecord:
        """Create a job in `submitted`, or return the job already created with this key (same request)."""
        hashes = request_hashes(self._keyring, brief, script)
        with self._lock:
            if idempotency_key and (brief.project, idempotency_key) in self.keys:
                job_id, digest = self.keys[(brief.project, idempotency_key)]
                if digest not in hashes:
                    raise IdempotencyConflict(f"idempotency key {idempotency_key!r} was used for a different request")
                return self.jobs[job_id]
            now, job_id = self._clock.now(), self._new_id()
            job = JobRecord(id=job_id, project=brief.project, state=JobState.SUBMITTED, version=1, degraded=False,
                            brief=mask_brief(brief), idempotency_key=idempotency_key, trace_id=trace_id,
                            traceparent=traceparent, error=None, created_at=now, updated_at=now)
            self._write(job, [(EventType.JOB_SUBMITTED, {"state": "submitted"}, traceparent)])
            self.sealed[job_id] = seal_brief(self._keyring, job_id, brief)
            sealed_row = raw_brief_row(artifact_id=self._new_id(), project=job.project, job_id=job_id,
                                       sealed=self.sealed[job_id] or b"", created_at=now)
            self.artifact_rows[sealed_row.id] = sealed_row
            self.step_rows[job_id] = []
            if idempotency_key:
                self.keys[(brief.project, idempotency_key)] = (job_id, hashes[0])
            return job

    def keyring(self) -> Keyring:
        """The vault keyring."""
        return self._keyring

    def raw_brief(self, job_id: str) -> Brief | None:
        """Open the sealed raw brief; None once purged."""
        sealed = self.sealed_brief(job_id)
        return None if sealed is None else open_brief(self._keyring, job_id, sealed)

    def sealed_brief(self, job_id: str) -> bytes | None:
        """The sealed raw brief as stored."""
        with self._lock:
            self._get(job_id)
            return self.sealed.get(job_id)

    def reseal_brief(self, job_id: str, sealed: bytes) -> bool:
        """Replace the sealed raw brief; False when there is none."""
        return self._set_sealed(job_id, sealed)

    def purge_raw_brief(self, job_id: str) -> bool:
        """Delete the sealed raw brief; True if there was one."""
        return self._set_sealed(job_id, None)

    def _set_sealed(self, job_id: str, sealed: bytes | None) -> bool:
        with self._lock:
            self._get(job_id)
            if self.sealed.get(job_id) is None:
                return False
            self.sealed[job_id] = sealed
            row = next((a for a in self.artifact_rows.values() if a.job_id == job_id and a.kind == ArtifactKind.RAW_BRIEF), None)
            if sealed is not None and row is not None:
                self._update(row, size=len(sealed), sha256=hashlib.sha256(sealed).hexdigest())
            return True

    def set_brief(self, job_id: str, brief: Brief) -> None:
        """Replace the masked brief by its pseudonymized copy (free-text fields only)."""
        with self._lock:
            job = self._get(job_id)
            if mask_brief(job.brief) != mask_brief(brief):
                raise JobError(f"job {job_id}: a brief may be replaced only by its redacted copy (free-text fields)")
            self.jobs[job_id] = job.model_copy(update={"brief": brief})

    def get(self, job_id: str, *, project: str | None = None) -> JobRecord:
        """The job; `JobNotFound` otherwise (and for another project's job when `project` is given)."""
        with self._lock:
            job = self._get(job_id)
        if project is not None and job.project != project:
            raise JobNotFound(f"no job {job_id}")
        return job

    def list_jobs(self, *, project: str | None = None, states: list[JobState] | None = None, limit: int = 50,
                  before: tuple[datetime, str] | None = None) -> list[JobRecord]:
        """Newest first (ties by id), optionally one project's or only those in `states`, after the cursor."""
        with self._lock:
            jobs = [j for j in self.jobs.values()
                    if (not project or j.project == project) and (not states or j.state in states)
                    and (before is None or (j.created_at, j.id) < before)]
        return sorted(jobs, key=lambda j: (j.created_at, j.id), reverse=True)[:limit]

    def transition(self, job_id: str, to_state: JobState, *, expected_version: int, reason: str = "",
                   error: dict[str, object] | None = None, degraded: bool | None = None,
                   traceparent: str | None = None) -> JobRecord:
        """Move the job if it is at `expected_version` and the move is legal; emit its event."""
        with self._lock:
            job = self._get(job_id)
            if job.version != expected_version:
                raise StaleJobVersion(f"job {job_id} is at version {job.version}, not {expected_version} ({job.state.value})")
            new_degraded = job.degraded if degraded is None else degraded
            decision = self._machine.decide(job.state, to_state, reason=reason,
                                            error_code=str(error.get("code")) if error else None, degraded=new_degraded)
            moved = job.model_copy(update={"state": to_state, "version": expected_version + 1, "degraded": new_degraded,
                                           "error": error if error is not None else job.error, "updated_at": self._clock.now()})
            self._write(moved, [(decision.event_type, decision.payload, traceparent)])
            return moved

    # --- steps and artifacts -----------------------------------------------------------------

    def record_event(self, job_id, event_type, payload, *, traceparent=None):  # type: ignore[no-untyped-def]
        """Write one event to the outbox."""
        with self._lock:
            self._write(self._get(job_id), [(event_type, payload, traceparent)])

    def record_step(self, step: StepRecord, *, traceparent: str | None = None) -> None:
        """Insert or update one attempt; emit `step.recorded`."""
        with self._lock:
            job = self._get(step.job_id)
            payload: dict[str, object] = {"step": step.step, "attempt": step.attempt, "outcome": step.outcome.value}
            if step.error:
                payload["error_code"] = str(step.error.get("code", "error"))
            self._write(job, [(EventType.STEP_RECORDED, payload, traceparent)])
            rows = self.step_rows[step.job_id]
            at = next((i for i, r in enumerate(rows) if (r.step, r.attempt) == (step.step, step.attempt)), None)
            if at is None:
                rows.append(step)
            else:
                rows[at] = step

    def steps(self, job_id: str, *, project: str | None = None) -> list[StepRecord]:
        """The job's attempts in the order first recorded (none for another project's job)."""
        with self._lock:
            job = self.jobs.get(job_id)
            if project is not None and (job is None or job.project != project):
                return []
            return list(self.step_rows.get(job_id, []))

    def add_artifact(self, artifact: Artifact, *, traceparent: str | None = None) -> Artifact:
        """Commit an object's catalog row (one per key; a rewrite keeps id and hold); announce deliverables."""
        with self._lock:
            if artifact.job_id is not None:
                self._get(artifact.job_id)
            same = next((a for a in self.artifact_rows.values() if a.key == artifact.key), None)
            if same is not None and same.status == ArtifactStatus.DELETING:
                raise StorageError(f"{artifact.key!r} is being deleted by a sweep; write it again", retryable=True)
            if same is not None:
                artifact = artifact.model_copy(update={"id": same.id, "legal_hold": same.legal_hold,
                                                       "hold_reason": same.hold_reason})
            if artifact.kind in ANNOUNCED_KINDS:
                self._announce(artifact, EventType.ARTIFACT_STORED, stored_payload(artifact), traceparent)
            self.artifact_rows[artifact.id] = artifact
            return artifact

    def _announce(self, artifact: Artifact, event_type: str, payload: dict[str, object], traceparent: str | None = None) -> None:
        if artifact.job_id is not None:
            self._write(self._get(artifact.job_id), [(event_type, payload, traceparent)])
        else:
            self._system(artifact.id, artifact.project, event_type, payload)

    def _system(self, stream: str, project: str, event_type: str, payload: dict[str, object]) -> None:
        event, headers = stream_event(event_id=self._new_id(), stream=stream, project=project, event_type=event_type,
                                      payload=payload, now=self._clock.now())
        self.outbox.append(self._message(self._purged + len(self.outbox) + 1, event, headers))

    def get_artifact(self, artifact_id: str, *, project: str | None = None) -> Artifact:
        """One catalog row; `ArtifactNotFound` when there is none (in `project`, when given)."""
        with self._lock:
            if artifact_id not in self.artifact_rows or project not in (None, self.artifact_rows[artifact_id].project):
                raise ArtifactNotFound(f"no artifact {artifact_id}")
            return self.artifact_rows[artifact_id]

    def artifacts(self, job_id: str) -> list[Artifact]:
        """The job's deliverables that are not deleted, oldest first."""
        return [a for a in self.catalog(job_id=job_id) if a.kind in ANNOUNCED_KINDS]

    def catalog(self, *, job_id=None, project=None, kinds=None, include_deleted=False, limit=None):  # type: ignore[no-untyped-def]
        """Catalog rows, oldest first (ties in the order first recorded)."""
        with self._lock:
            rows = sorted(self.artifact_rows.values(), key=lambda a: a.created_at)
        rows = [a for a in rows if (job_id is None or a.job_id == job_id) and (project is None or a.project == project)
                and (kinds is None or a.kind in kinds) and (include_deleted or a.status != ArtifactStatus.DELETED)]
        return rows[:limit] if limit is not None else rows

    def artifact_at(self, key: str) -> Artifact | None:
        """The row of an object key."""
        with self._lock:
            return next((a for a in self.artifact_rows.values() if a.key == key), None)

    def _update(self, artifact: Artifact, **changes: object) -> Artifact:
        updated = artifact.model_copy(update=changes)
        self.artifact_rows[artifact.id] = updated
        return updated

    def hold_artifact(self, artifact_id: str, reason: str) -> Artifact:
        """Hold a live row; emit `artifact.held`."""
        with self._lock:
            row = self.get_artifact(artifact_id)
            check_holdable(row)
            held = self._update(row, legal_hold=True, hold_reason=reason)
            self._announce(held, EventType.ARTIFACT_HELD, hold_payload(held))
            return held

    def release_artifact(self, artifact_id: str) -> Artifact:
        """Lift a hold; emit `artifact.released`."""
        with self._lock:
            row = self.get_artifact(artifact_id)
            if not row.legal_hold:
                return row
            released = self._update(row, legal_hold=False, hold_reason=None)
            self._announce(released, EventType.ARTIFACT_RELEASED, hold_payload(released))
            return released

    def begin_delete(self, artifact_id: str, reason: str, *, seen: Artifact | None = None) -> Artifact | None:
        """Mark `deleting` unless held, gone or rewritten since `seen`."""
        with self._lock:
            row = self.get_artifact(artifact_id)
            if row.legal_hold or row.status not in (ArtifactStatus.STORED, ArtifactStatus.LOST):
                return None
            if seen is not None and (row.sha256, row.created_at) != (seen.sha256, seen.created_at):
                return None
            return self._update(row, status=ArtifactStatus.DELETING, deletion_reason=reason)

    def finish_delete(self, artifact_id: str) -> Artifact:
        """Mark a `deleting` row deleted; emit `artifact.deleted` once."""
        with self._lock:
            row = self.get_artifact(artifact_id)
            if row.status != ArtifactStatus.DELETING:
                return row
            done = self._update(row, status=ArtifactStatus.DELETED, deleted_at=self._clock.now())
            self._announce(done, EventType.ARTIFACT_DELETED, deletion_payload(done))
            return done

    def mark_lost(self, artifact_id: str) -> Artifact | None:
        """Mark a stored row `lost`; emit `artifact.lost`."""
        with self._lock:
            row = self.get_artifact(artifact_id)
            if row.status != ArtifactStatus.STORED:
                return None
            lost = self._update(row, status=ArtifactStatus.LOST)
            self._announce(lost, EventType.ARTIFACT_LOST, deletion_payload(lost))
            return lost

    def restore_found(self, artifact_id: str) -> Artifact | None:
        """Mark a `lost` row stored again."""
        with self._lock:
            row = self.get_artifact(artifact_id)
            return self._update(row, status=ArtifactStatus.STORED) if row.status == ArtifactStatus.LOST else None

    def set_retention(self, until: dict[str, datetime | None]) -> None:
        """Record each row's `retention_until`."""
        with self._lock:
            for artifact_id, when in until.items():
                if artifact_id in self.artifact_rows:
                    self._update(self.artifact_rows[artifact_id], retention_until=when)

    def purge_events(self, before: datetime, *, project: str | None = None, exclude: Sequence[str] = (),
                     keep_jobs: Sequence[str] = (), published_only: bool = True, dry_run: bool = False,
                     limit: int | None = None, audit_stream: str | None = None) -> int:
        """Old outbox rows of `project` (or of every project not in `exclude`) go, oldest first, at most `limit`."""
        def due(m: OutboxMessage) -> bool:
            return (m.event.occurred_at < before and (project is None or m.event.project == project)
                    and m.event.project not in exclude and m.event.job_id not in keep_jobs
                    and (m.published_at is not None or not published_only))

        with self._lock:
            gone = {m.seq for m in [m for m in self.outbox if due(m)][:limit]}
            if not dry_run and gone:
                self.outbox = [m for m in self.outbox if m.seq not in gone]
                self._purged += len(gone)
                if audit_stream:
                    self._system(audit_stream, SYSTEM_PROJECT, EventType.EVENTS_PURGED, {
                        "project": project or "*", "before": before.isoformat(), "deleted": len(gone),
                        "relayed_only": published_only})
            return len(gone)

    def outbox_backlog(self) -> tuple[int, datetime | None]:
        """Messages waiting for the relay and the oldest one's time."""
        with self._lock:
            waiting = [m.event.occurred_at for m in self.outbox if m.published_at is None]
        return len(waiting), min(waiting, default=None)

    def job_counts(self) -> dict[str, int]:
        """Jobs per state."""
        with self._lock:
            return dict(Counter(j.state.value for j in self.jobs.values()))

    def any_published(self) -> bool:
        """Whether any message was ever relayed."""
        with self._lock:
            return any(m.published_at is not None for m in self.outbox)

    def tombstone_jobs(self, job_ids: Sequence[str]) -> list[str]:
        """Finished jobs with no live catalog row become tombstones, each with a `job.purged` event."""
        done = []
        live = {ArtifactStatus.STORED, ArtifactStatus.LOST, ArtifactStatus.DELETING}
        with self._lock:
            for job_id in job_ids:
                job = self.jobs.get(job_id)
                if job is None or job.state not in TERMINAL_STATES or any(
                        a.job_id == job_id and a.status in live for a in self.artifact_rows.values()):
                    continue
                self.tombstones[job_id] = {"id": job_id, "project": job.project, "state": job.state.value,
                                           "created_at": job.created_at, "ended_at": job.updated_at,
                                           "purged_at": self._clock.now()}
                del self.jobs[job_id]
                self.sealed.pop(job_id, None)
                self.step_rows.pop(job_id, None)
                self.keys = {k: v for k, v in self.keys.items() if v[0] != job_id}
                self.artifact_rows = {i: a for i, a in self.artifact_rows.items() if a.job_id != job_id}
                self._system(job_id, job.project, EventType.JOB_PURGED, {
                    "job_id": job_id, "state": job.state.value, "created_at": job.created_at.isoformat(),
                    "ended_at": job.updated_at.isoformat() if job.updated_at else None})
                done.append(job_id)
        return done

    def tombstone(self, job_id: str) -> dict[str, Any] | None:
        """A purged job's tombstone."""
        with self._lock:
            return self.tombstones.get(job_id)

    def record_system_event(self, event_type: str, payload: dict[str, object], *, stream: str) -> None:
        """An event of no job."""
        with self._lock:
            self._system(stream, SYSTEM_PROJECT, event_type, payload)

    # --- outbox ------------------------------------------------------------------------------

    def events(self, job_id: str, *, project: str | None = None) -> list[OutboxMessage]:
        """Every event of the job, in order (none when the job is not `project`'s)."""
        with self._lock:
            job = self.jobs.get(job_id)
            if project is not None and (job is None or job.project != project):
                return []
            return [m for m in self.outbox if m.event.job_id == job_id]

    def pending_events(self, *, limit: int = 100) -> list[OutboxMessage]:
        """Unpublished messages, oldest first."""
        with self._lock:
            return [m for m in self.outbox if m.published_at is None][:limit]

    def mark_published(self, event_ids: list[str]) -> None:
        """Mark messages published."""
        ids, now = set(event_ids), self._clock.now()
        with self._lock:
            self.outbox = [m.model_copy(update={"published_at": now}) if m.event.id in ids and m.published_at is None else m
                           for m in self.outbox]
