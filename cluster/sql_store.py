"""The SQLAlchemy job store: jobs, steps, artifacts and the outbox, each change in one transaction."""

from __future__ import annotations

import hashlib
import logging
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from actors.clock import Clock, SystemClock
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
from actors.pii.briefs import mask_brief, open_brief, request_hashes, seal_brief
from actors.pii.guard import EgressBlocked, GuardRegistry, guard_registry
from actors.pii.keys import Keyring, VaultKeyError
from actors.state_machine import StateMachine, default_machine
from cluster.db import (
    ArtifactRow,
    IdempotencyRow,
    JobRow,
    JobTombstoneRow,
    OutboxRow,
    ProjectRow,
    StepRow,
    make_engine,
    transaction,
)
from cluster.migrate import upgrade
from cluster.settings import Settings
from schemas import (
    TERMINAL_STATES,
    Artifact,
    ArtifactKind,
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

__all__ = ["SqlJobStore", "write_event"]

_log = logging.getLogger("mka.store")


class SqlJobStore(JobStore):
    """`JobStore` on SQLite (embedded default) or PostgreSQL, migrated by Alembic on construction.

    Example:
        >>> store = SqlJobStore.from_settings(Settings(home=Path("/tmp/mka")))  # doctest: +SKIP
        >>> job = store.submit(brief, idempotency_key="req-1")                    # doctest: +SKIP
        >>> store.transition(job.id, JobState.VALIDATING, expected_version=job.version)  # doctest: +SKIP
    """

    def __init__(
        self,
        engine: Engine,
        *,
        keyring: Keyring | Callable[[], Keyring] | None = None,
        clock: Clock | None = None,
        new_id: Callable[[], str] | None = None,
        migrate: bool = True,
        machine: StateMachine | None = None,
        guards: GuardRegistry | None = None,
        signer: Signer | None = None,
    ) -> None:
        """`keyring` seals raw briefs (a callable loads it on first use); without one, `submit` refuses.

        `signer` signs every event written (`from_settings` gives the deployment's signing key); without
        one, events are written unsigned and consumers that verify refuse them.

        `machine` is the state machine of the pipeline the jobs run (the default registry's if not given).
        """
        self.engine = engine
        self._machine = machine or default_machine()
        self._guards = guards or guard_registry()  # every event is checked against the job's vault
        self._keyring = keyring
        self.signer = signer
        self._clock = clock or SystemClock()
        self._new_id = new_id or (lambda: str(uuid.uuid4()))
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        if migrate:
            upgrade(engine)

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> SqlJobStore:
        """Build the store on the database the settings name, with the vault keyring (loaded on first use) and signing key."""
        from cluster.signing import load_signing_key

        kwargs.setdefault("keyring", lambda: _load_keyring(settings))
        kwargs.setdefault("signer", load_signing_key(settings).sign)
        return cls(make_engine(settings.resolved_database_url(), pool_size=settings.db_pool_size), **kwargs)

    def _ring(self) -> Keyring:
        if self._keyring is None:
            raise VaultKeyError(
                "this job store has no vault keyring, so it cannot seal or open raw briefs: "
                "build it with SqlJobStore.from_settings or pass keyring="
            )
        if not isinstance(self._keyring, Keyring):
            self._keyring = self._keyring()
        return self._keyring

    @contextmanager
    def _tx(self) -> Iterator[Session]:
        # Leaving without commit rolls back: nothing half-written survives an exception.
        try:
            with transaction(self._sessions) as session:
                yield session
        except EventBlocked as blocked:
            # The write that carried a vault value rolled back; the job fails instead, so it is never
            # stranded in a running state. Callers see an ordinary (final) `EgressBlocked`.
            self._fail_blocked(blocked)
            raise EgressBlocked(blocked.message, channel="event", entity_type=blocked.entity_type) from None

    def _ensure_project(self, s: Session, name: str) -> None:
        """Record the project a job or project object is written to (the CLI may name one nobody created yet)."""
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        s.execute(insert(ProjectRow).values(name=name, created_at=self._clock.now())
                  .on_conflict_do_nothing(index_elements=["name"]))

    def _fail_blocked(self, blocked: EventBlocked) -> None:
        """Fail a job whose event the egress guard blocked: `failed`, reason `pii_egress_blocked`.

        Its running step attempts are closed as failed too, and every event this writes is scrubbed
        (see `_emit`). A job that is already terminal keeps its state; a job that does not exist (a
        blocked `submit`) has nothing to fail. The failure is not resumable: it is not infrastructure.
        """
        error = EgressBlocked(blocked.message, channel="event", entity_type=blocked.entity_type).to_dict()
        for _ in range(5):  # a writer racing us moved the version: read again and retry
            try:
                self._fail_blocked_once(blocked, error)
                return
            except StaleJobVersion:
                continue

    def _fail_blocked_once(self, blocked: EventBlocked, error: dict[str, Any]) -> None:
        with self._tx() as s:
            row = s.get(JobRow, blocked.job_id)
            if row is None:
                return
            now = self._clock.now()
            running = select(StepRow).where(StepRow.job_id == row.id, StepRow.outcome == StepOutcome.RUNNING.value)
            closed = []
            for step in s.scalars(running.order_by(StepRow.id)):
                step.outcome, step.error, step.finished_at = StepOutcome.FAILED.value, error, now
                closed.append(step.step)
                payload = {"step": step.step, "attempt": step.attempt, "outcome": step.outcome, "error_code": error["code"]}
                self._emit(s, row, EventType.STEP_RECORDED, payload, row.traceparent, scrub=True)
            state = JobState(row.state)
            if state in TERMINAL_STATES:
                return
            details = {**error, "step": closed[-1] if closed else None, "state": state.value, "resumable": False}
            if blocked.cause:
                details["cause"] = blocked.cause  # the failure that was being written when the guard blocked
            decision = self._machine.decide(state, JobState.FAILED, reason=error["code"], error_code=error["code"], degraded=row.degraded)
            values = {"state": JobState.FAILED.value, "version": row.version + 1, "error": details, "updated_at": now}
            _update_versioned(s, row, row.version, values, doing="failing it")
            self._emit(s, row, decision.event_type, decision.payload, row.traceparent, scrub=True)

    # --- jobs -------------------------------------------------------------------------------

    def submit(
        self,
        brief: Brief,
        *,
        idempotency_key: str | None = None,
        trace_id: str | None = None,
        traceparent: str | None = None,
        script: dict[str, Any] | None = None,
    ) -> JobRecord:
        """Create a job in `submitted`, or return the job already created with this key (same request).

        The row keeps the masked brief and the raw brief sealed with the job's key; the idempotency
        row keeps a keyed hash of the brief. Nothing of the brief's free text is written in clear.
        """
        keyring = self._ring()
        hashes = request_hashes(keyring, brief, script)
        if idempotency_key:
            existing = self._job_for_key(brief.project, idempotency_key, hashes, brief)
            if existing is not None:
                return existing
        now = self._clock.now()
        job_id = self._new_id()
        row = JobRow(
            id=job_id,
            project=brief.project,
            state=JobState.SUBMITTED.value,
            version=1,
            degraded=False,
            brief=mask_brief(brief).model_dump(mode="json"),
            brief_sealed=seal_brief(keyring, job_id, brief),
            idempotency_key=idempotency_key,
            trace_id=trace_id,
            traceparent=traceparent,
            error=None,
            created_at=now,
            updated_at=now,
        )
        try:
            with self._tx() as s:
                self._ensure_project(s, row.project)
                s.add(row)
                s.flush()
                if idempotency_key:
                    s.add(
                        IdempotencyRow(
                            project=brief.project,
                            key=idempotency_key,
                            job_id=job_id,
                            request_hash=hashes[0],
                            created_at=now,
                        )
                    )
                    s.flush()
                self._emit(s, row, EventType.JOB_SUBMITTED, {"state": row.state}, traceparent)
                sealed_row = raw_brief_row(artifact_id=self._new_id(), project=row.project, job_id=job_id,
                                           sealed=row.brief_sealed or b"", created_at=now)
                s.add(ArtifactRow(**sealed_row.model_dump(mode="python")))
        except IntegrityError:
            # A concurrent submit with the same key won the race; its job is the answer.
            if not idempotency_key:
                raise
            existing = self._job_for_key(brief.project, idempotency_key, hashes, brief)
            if existing is None:
                raise
            return existing
        return _job(row)

    def _job_for_key(self, project: str, key: str, hashes: list[str], brief: Brief) -> JobRecord | None:
        with self._tx() as s:
            idem = s.get(IdempotencyRow, (project, key))
            if idem is None:
                return None
            if idem.request_hash not in hashes and idem.request_hash != _legacy_hash(brief):
                raise IdempotencyConflict(f"idempotency key {key!r} was used for a different request")
            return _job(s.get_one(JobRow, idem.job_id))

    # --- the brief at rest ------------------------------------------------------------------

    def raw_brief(self, job_id: str) -> Brief | None:
        """Open the job's sealed raw brief with the keyring; None once purged or never sealed."""
        sealed = self.sealed_brief(job_id)
        return None if sealed is None else open_brief(self._ring(), job_id, sealed)

    def keyring(self) -> Keyring:
        """The vault keyring (loaded on first use)."""
        return self._ring()

    def sealed_brief(self, job_id: str) -> bytes | None:
        """The job's raw brief as stored, sealed."""
        with self._tx() as s:
            sealed = self._row(s, job_id).brief_sealed
            return None if sealed is None else bytes(sealed)

    def reseal_brief(self, job_id: str, sealed: bytes) -> bool:
        """Replace the sealed raw brief (key rotation); False when there is none to replace."""
        return self._set_sealed(job_id, sealed)

    def purge_raw_brief(self, job_id: str) -> bool:
        """Delete the job's sealed raw brief; True if there was one."""
        return self._set_sealed(job_id, None)

    def _set_sealed(self, job_id: str, sealed: bytes | None) -> bool:
        with self._tx() as s:
            self._row(s, job_id)
            result = s.execute(
                update(JobRow)
                .where(JobRow.id == job_id, JobRow.brief_sealed.is_not(None))
                .values(brief_sealed=sealed)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount == 1 and sealed is not None:  # the catalog row follows a reseal
                s.execute(
                    update(ArtifactRow)
                    .where(ArtifactRow.job_id == job_id, ArtifactRow.kind == ArtifactKind.RAW_BRIEF.value)
                    .values(size=len(sealed), sha256=hashlib.sha256(sealed).hexdigest())
                    .execution_options(synchronize_session=False)
                )
            return result.rowcount == 1

    def set_brief(self, job_id: str, brief: Brief) -> None:
        """Store the pseudonymized brief in place of the masked one; only free-text fields may differ."""
        with self._tx() as s:
            row = self._row(s, job_id)
            stored = Brief.model_validate(row.brief)
            if mask_brief(stored) != mask_brief(brief):
                raise JobError(f"job {job_id}: a brief may be replaced only by its redacted copy (free-text fields)")
            s.execute(
                update(JobRow)
                .where(JobRow.id == job_id)
                .values(brief=brief.model_dump(mode="json"))
                .execution_options(synchronize_session=False)
            )

    def get(self, job_id: str, *, project: str | None = None) -> JobRecord:
        """Return the job; raise `JobNotFound` (also for another project's job when `project` is given)."""
        with self._tx() as s:
            row = _scoped(s, JobRow, JobRow.id == job_id, project)
            if row is None:
                raise JobNotFound(f"no job {job_id}")
            return _job(row)

    def list_jobs(
        self, *, project: str | None = None, states: list[JobState] | None = None, limit: int = 50,
        before: tuple[datetime, str] | None = None,
    ) -> list[JobRecord]:
        """Return the newest jobs first (ties by id), optionally only those in `states`, after the cursor `before`."""
        query = select(JobRow).order_by(JobRow.created_at.desc(), JobRow.id.desc()).limit(limit)
        if before is not None:
            at, last_id = before
            query = query.where(or_(JobRow.created_at < at, and_(JobRow.created_at == at, JobRow.id < last_id)))
        if project:
            query = query.where(JobRow.project == project)
        if states:
            query = query.where(JobRow.state.in_([s.value for s in states]))
        with self._tx() as s:
            return [_job(r) for r in s.scalars(query)]

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
        with self._tx() as s:
            row = self._row(s, job_id)
            if row.version != expected_version:
                raise StaleJobVersion(
                    f"job {job_id} is at version {row.version}, not {expected_version} ({row.state})"
                )
            new_degraded = row.degraded if degraded is None else degraded
            decision = self._machine.decide(
                JobState(row.state),
                to_state,
                reason=reason,
                error_code=str(error.get("code")) if error else None,
                degraded=new_degraded,
            )
            values = {
                "state": to_state.value,
                "version": expected_version + 1,
                "degraded": new_degraded,
                "error": error if error is not None else row.error,
                "updated_at": self._clock.now(),
            }
            # The version guard in WHERE makes the check above hold even against a racing writer.
            _update_versioned(s, row, expected_version, values, doing=f"moving it to {to_state.value}")
            self._emit(s, row, decision.event_type, decision.payload, traceparent)
            return _job(row)

    # --- steps and artifacts ----------------------------------------------------------------

    def record_step(self, step: StepRecord, *, traceparent: str | None = None) -> None:
        """Insert or update one step attempt (keyed by job, step, attempt); emit `step.recorded`."""
        with self._tx() as s:
            job = self._row(s, step.job_id)
            existing = s.scalars(
                select(StepRow).where(
                    StepRow.job_id == step.job_id, StepRow.step == step.step, StepRow.attempt == step.attempt
                )
            ).one_or_none()
            values = step.model_dump(mode="python")
            if existing is None:
                s.add(StepRow(**{**values, "outcome": step.outcome.value}))
            else:
                for key, value in values.items():
                    setattr(existing, key, value.value if key == "outcome" else value)
            payload: dict[str, object] = {
                "step": step.step,
                "attempt": step.attempt,
                "outcome": step.outcome.value,
            }
            if step.error:
                payload["error_code"] = str(step.error.get("code", "error"))
            self._emit(s, job, EventType.STEP_RECORDED, payload, traceparent)

    def steps(self, job_id: str, *, project: str | None = None) -> list[StepRecord]:
        """Return the job's step attempts in the order they were first recorded (only of `project`'s job)."""
        query = select(StepRow).where(StepRow.job_id == job_id).order_by(StepRow.id)
        if project is not None:
            query = query.join(JobRow, JobRow.id == StepRow.job_id).where(JobRow.project == project)
        with self._tx() as s:
            rows = s.scalars(query)
            return [
                StepRecord(
                    job_id=r.job_id,
                    step=r.step,
                    attempt=r.attempt,
                    outcome=r.outcome,
                    result_ref=r.result_ref,
                    error=r.error,
                    started_at=_utc(r.started_at),
                    finished_at=_utc(r.finished_at) if r.finished_at else None,
                )
                for r in rows
            ]

    def record_event(
        self, job_id: str, event_type: str, payload: dict[str, object], *, traceparent: str | None = None
    ) -> None:
        """Write one event to the outbox, checked by the job's egress guard."""
        with self._tx() as s:
            self._emit(s, self._row(s, job_id), event_type, payload, traceparent)

    def add_artifact(self, artifact: Artifact, *, traceparent: str | None = None) -> Artifact:
        """Commit an object's catalog row (one per key; a rewrite keeps id and hold); announce deliverables."""
        with self._tx() as s:
            job = self._row(s, artifact.job_id) if artifact.job_id else None
            same = s.scalars(
                select(ArtifactRow).where(ArtifactRow.key == artifact.key).with_for_update()
            ).one_or_none()
            if same is not None and same.status == ArtifactStatus.DELETING.value:
                raise StorageError(f"{artifact.key!r} is being deleted by a sweep; write it again", retryable=True)
            if same is None:
                if job is None and artifact.project != SYSTEM_PROJECT:  # a template or document: its project exists
                    self._ensure_project(s, artifact.project)
                s.add(ArtifactRow(**artifact.model_dump(mode="python")))
            else:  # a re-run step rewrote the same object: update its row, keep its id and any hold
                artifact = artifact.model_copy(update={"id": same.id, "legal_hold": same.legal_hold,
                                                       "hold_reason": same.hold_reason})
                for key, value in artifact.model_dump(mode="python").items():
                    setattr(same, key, value)
            if artifact.kind in ANNOUNCED_KINDS:
                self._emit_for(s, job, artifact, EventType.ARTIFACT_STORED, stored_payload(artifact), traceparent)
            return artifact

    def get_artifact(self, artifact_id: str, *, project: str | None = None) -> Artifact:
        """Return one catalog row; raise `ArtifactNotFound` when there is none (in `project`, when given)."""
        with self._tx() as s:
            row = _scoped(s, ArtifactRow, ArtifactRow.id == artifact_id, project)
            if row is None:
                raise ArtifactNotFound(f"no artifact {artifact_id}")
            return _artifact(row)

    def artifacts(self, job_id: str) -> list[Artifact]:
        """Return the job's deliverables that are not deleted, oldest first."""
        rows = self.catalog(job_id=job_id, kinds=sorted(ANNOUNCED_KINDS, key=lambda k: k.value))
        return [a for a in rows if a.status != ArtifactStatus.DELETED]

    def catalog(
        self, *, job_id: str | None = None, project: str | None = None, kinds: list[ArtifactKind] | None = None,
        include_deleted: bool = False, limit: int | None = None,
    ) -> list[Artifact]:
        """Return catalog rows, oldest first (ties by key)."""
        query = select(ArtifactRow).order_by(ArtifactRow.created_at, ArtifactRow.key)
        if job_id is not None:
            query = query.where(ArtifactRow.job_id == job_id)
        if project is not None:
            query = query.where(ArtifactRow.project == project)
        if kinds is not None:
            query = query.where(ArtifactRow.kind.in_([ArtifactKind(k).value for k in kinds]))
        if not include_deleted:
            query = query.where(ArtifactRow.status != ArtifactStatus.DELETED.value)
        if limit is not None:
            query = query.limit(limit)
        with self._tx() as s:
            return [_artifact(r) for r in s.scalars(query)]

    def artifact_at(self, key: str) -> Artifact | None:
        """Return the catalog row of an object key, if there is one."""
        with self._tx() as s:
            row = s.scalars(select(ArtifactRow).where(ArtifactRow.key == key)).one_or_none()
            return None if row is None else _artifact(row)

    def hold_artifact(self, artifact_id: str, reason: str) -> Artifact:
        """Put a legal hold on a live row (one conditional update: a row being deleted is refused); emit `artifact.held`."""
        with self._tx() as s:
            result = s.execute(
                update(ArtifactRow)
                .where(ArtifactRow.id == artifact_id,
                       ArtifactRow.status.in_([ArtifactStatus.STORED.value, ArtifactStatus.LOST.value]))
                .values(legal_hold=True, hold_reason=reason)
                .execution_options(synchronize_session=False)
            )
            row = self._artifact_row(s, artifact_id)
            s.refresh(row)
            if result.rowcount != 1:
                check_holdable(_artifact(row))
            held = _artifact(row)
            self._emit_for(s, self._job_of(s, row), held, EventType.ARTIFACT_HELD, hold_payload(held), None)
            return held

    def release_artifact(self, artifact_id: str) -> Artifact:
        """Lift a legal hold; emit `artifact.released`."""
        with self._tx() as s:
            row = self._artifact_row(s, artifact_id)
            if not row.legal_hold:
                return _artifact(row)
            row.legal_hold, row.hold_reason = False, None
            released = _artifact(row)
            self._emit_for(s, self._job_of(s, row), released, EventType.ARTIFACT_RELEASED, hold_payload(released), None)
            return released

    def begin_delete(self, artifact_id: str, reason: str, *, seen: Artifact | None = None) -> Artifact | None:
        """Mark a row `deleting` unless held, already deleted, or rewritten since `seen` (one conditional update)."""
        [marked] = self._begin([(artifact_id, reason, seen)]) or [None]
        return marked

    def begin_deletes(self, items: list[tuple[str, str, Artifact | None]]) -> list[Artifact]:
        """`begin_delete` for many rows in one transaction; return the rows marked."""
        return self._begin(items) if items else []

    def _begin(self, items: list[tuple[str, str, Artifact | None]]) -> list[Artifact]:
        # One read under row locks, one conditional update per reason, in one transaction: held, deleted or
        # rewritten rows are left out, and the update's own conditions refuse any that changed meanwhile.
        wanted = {artifact_id: (reason, seen) for artifact_id, reason, seen in items}
        live = [ArtifactStatus.STORED.value, ArtifactStatus.LOST.value]
        with self._tx() as s:
            current = s.scalars(select(ArtifactRow).where(ArtifactRow.id.in_(wanted)).with_for_update()).all()
            by_reason: dict[str, list[str]] = {}
            for row in current:
                reason, seen = wanted[row.id]
                if seen is not None and (row.sha256, _utc(row.created_at)) != (seen.sha256, seen.created_at):
                    continue  # a re-run step rewrote the object after the sweep decided: decided again next run
                by_reason.setdefault(reason, []).append(row.id)
            marked: set[str] = set()
            for reason, ids in by_reason.items():
                result = s.execute(
                    update(ArtifactRow)
                    .where(ArtifactRow.id.in_(ids), ArtifactRow.legal_hold.is_(False), ArtifactRow.status.in_(live))
                    .values(status=ArtifactStatus.DELETING.value, deletion_reason=reason)
                    .returning(ArtifactRow.id)
                    .execution_options(synchronize_session=False)
                )
                marked.update(result.scalars().all())
            rows = {r.id: r for r in s.scalars(select(ArtifactRow).where(ArtifactRow.id.in_(marked))
                                               .execution_options(populate_existing=True))} if marked else {}
            return [_artifact(rows[i]) for i, _, _ in items if i in marked]

    def finish_delete(self, artifact_id: str) -> Artifact:
        """Mark a `deleting` row deleted (a conditional update: two sweeps cannot both close it); emit `artifact.deleted`."""
        [done] = self.finish_deletes([artifact_id])
        return done

    def finish_deletes(self, artifact_ids: list[str]) -> list[Artifact]:
        """`finish_delete` for many rows in one transaction (one conditional update; one event per row it closed)."""
        if not artifact_ids:
            return []
        with self._tx() as s:
            closed = set(s.execute(
                update(ArtifactRow)
                .where(ArtifactRow.id.in_(artifact_ids), ArtifactRow.status == ArtifactStatus.DELETING.value)
                .values(status=ArtifactStatus.DELETED.value, deleted_at=self._clock.now())
                .returning(ArtifactRow.id)
                .execution_options(synchronize_session=False)
            ).scalars().all())
            rows = {r.id: r for r in s.scalars(select(ArtifactRow).where(ArtifactRow.id.in_(artifact_ids))
                                               .execution_options(populate_existing=True))}
            jobs = {j.id: j for j in s.scalars(select(JobRow).where(
                JobRow.id.in_({r.job_id for r in rows.values() if r.job_id})))}
            out = []
            for artifact_id in artifact_ids:
                if artifact_id not in rows:
                    raise ArtifactNotFound(f"no artifact {artifact_id}")
                done = _artifact(rows[artifact_id])
                if artifact_id in closed:
                    job = jobs.get(done.job_id) if done.job_id else None
                    self._emit_for(s, job, done, EventType.ARTIFACT_DELETED, deletion_payload(done), None)
                out.append(done)
            return out

    def mark_lost(self, artifact_id: str) -> Artifact | None:
        """Mark a stored row whose object is missing `lost` (conditional on `stored`); emit `artifact.lost`."""
        with self._tx() as s:
            lost = self._move(s, artifact_id, ArtifactStatus.STORED, ArtifactStatus.LOST)
            if lost is not None:
                job = s.get(JobRow, lost.job_id) if lost.job_id else None
                self._emit_for(s, job, lost, EventType.ARTIFACT_LOST, deletion_payload(lost), None)
            return lost

    def restore_found(self, artifact_id: str) -> Artifact | None:
        """Mark a `lost` row stored again: its object is listed again (a storage outage ended)."""
        with self._tx() as s:
            return self._move(s, artifact_id, ArtifactStatus.LOST, ArtifactStatus.STORED)

    def _move(self, s: Session, artifact_id: str, from_: ArtifactStatus, to: ArtifactStatus) -> Artifact | None:
        """One conditional status update; the row as moved, or None when it was not in `from_`."""
        result = s.execute(
            update(ArtifactRow).where(ArtifactRow.id == artifact_id, ArtifactRow.status == from_.value)
            .values(status=to.value).execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            return None
        row = self._artifact_row(s, artifact_id)
        s.refresh(row)
        return _artifact(row)

    def set_retention(self, until: dict[str, datetime | None]) -> None:
        """Record each row's `retention_until`."""
        if not until:
            return
        with self._tx() as s:
            for artifact_id, when in until.items():
                s.execute(update(ArtifactRow).where(ArtifactRow.id == artifact_id).values(retention_until=when)
                          .execution_options(synchronize_session=False))

    def purge_events(self, before: datetime, *, project: str | None = None, exclude: Sequence[str] = (),
                     keep_jobs: Sequence[str] = (), published_only: bool = True, dry_run: bool = False,
                     limit: int | None = None, audit_stream: str | None = None) -> int:
        """Delete old outbox rows of `project` (or of every project not in `exclude`), oldest first, at most `limit`;
        relayed ones only when `published_only`; never those of `keep_jobs` (held). With `audit_stream`, the
        `retention.events_purged` event is written in the same transaction. Return how many went (or would)."""
        match = [OutboxRow.occurred_at < before]
        if project is not None:
            match.append(OutboxRow.project == project)
        if exclude:
            match.append(OutboxRow.project.not_in(list(exclude)))
        if keep_jobs:
            match.append(OutboxRow.job_id.not_in(list(keep_jobs)))
        if published_only:
            match.append(OutboxRow.published_at.is_not(None))
        with self._tx() as s:
            if dry_run:
                counted = select(OutboxRow.seq).where(*match).limit(limit)
                return int(s.scalar(select(func.count()).select_from(counted.subquery())) or 0)
            seqs = list(s.scalars(select(OutboxRow.seq).where(*match).order_by(OutboxRow.seq).limit(limit)))
            for start in range(0, len(seqs), 1000):
                s.execute(delete(OutboxRow).where(OutboxRow.seq.in_(seqs[start:start + 1000]))
                          .execution_options(synchronize_session=False))
            if seqs and audit_stream:
                self._emit_stream(s, audit_stream, SYSTEM_PROJECT, EventType.EVENTS_PURGED, {
                    "project": project or "*", "before": before.isoformat(), "deleted": len(seqs),
                    "relayed_only": published_only})
        if seqs:
            self._forget_freed_pages()
        return len(seqs)

    def outbox_backlog(self) -> tuple[int, datetime | None]:
        """Rows waiting for the relay and the oldest one's time (the pending index answers both)."""
        with self._tx() as s:
            count, oldest = s.execute(select(func.count(), func.min(OutboxRow.occurred_at))
                                      .where(OutboxRow.published_at.is_(None))).one()
        return int(count or 0), _utc(oldest)

    def job_counts(self) -> dict[str, int]:
        """Jobs per state."""
        with self._tx() as s:
            return {state: int(n) for state, n in s.execute(select(JobRow.state, func.count()).group_by(JobRow.state))}

    def any_published(self) -> bool:
        """Whether any outbox row was ever relayed (the deployment has a relay)."""
        with self._tx() as s:
            return s.scalar(select(OutboxRow.seq).where(OutboxRow.published_at.is_not(None)).limit(1)) is not None

    def tombstone_jobs(self, job_ids: Sequence[str]) -> list[str]:
        """Replace finished jobs with no live catalog row by tombstones, each with a `job.purged` event."""
        done: list[str] = []
        terminal = [state.value for state in TERMINAL_STATES]
        live = [ArtifactStatus.STORED.value, ArtifactStatus.LOST.value, ArtifactStatus.DELETING.value]
        for job_id in job_ids:
            with self._tx() as s:
                row = s.get(JobRow, job_id, with_for_update=True)
                if row is None or row.state not in terminal:
                    continue
                if s.scalar(select(func.count()).select_from(ArtifactRow).where(
                        ArtifactRow.job_id == job_id, ArtifactRow.status.in_(live))):
                    continue
                now = self._clock.now()
                stone = JobTombstoneRow(id=row.id, project=row.project, state=row.state, created_at=row.created_at,
                                        ended_at=row.updated_at, purged_at=now)
                s.add(stone)
                for table in (StepRow, IdempotencyRow, ArtifactRow):
                    s.execute(delete(table).where(table.job_id == job_id).execution_options(synchronize_session=False))
                s.delete(row)
                self._emit_stream(s, job_id, stone.project, EventType.JOB_PURGED, {
                    "job_id": job_id, "state": stone.state, "created_at": _utc(stone.created_at).isoformat(),
                    "ended_at": _utc(stone.ended_at).isoformat() if stone.ended_at else None,
                })
            done.append(job_id)
        if done:
            self._forget_freed_pages()
        return done

    def tombstone(self, job_id: str) -> dict[str, Any] | None:
        """The tombstone of a purged job, if any."""
        with self._tx() as s:
            row = s.get(JobTombstoneRow, job_id)
            if row is None:
                return None
            return {"id": row.id, "project": row.project, "state": row.state, "created_at": _utc(row.created_at),
                    "ended_at": _utc(row.ended_at), "purged_at": _utc(row.purged_at)}

    def _forget_freed_pages(self) -> None:
        """SQLite: copy the WAL back and truncate it, so no old copy of a deleted row stays in the WAL file.

        `secure_delete` (set on every connection) already zeroes the freed pages in the database file.
        PostgreSQL keeps dead tuples until VACUUM reclaims them (docs/security.md).
        """
        if self.engine.dialect.name != "sqlite":
            return
        with self.engine.connect() as conn:
            busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").scalar()
        if busy:  # a reader holds an old snapshot: the next retention delete (or SQLite's own checkpoint) finishes it
            _log.warning("the WAL still holds pages of deleted rows: a reader was busy (checkpoint again later)")

    def record_system_event(self, event_type: str, payload: dict[str, object], *, stream: str) -> None:
        """Write an event that belongs to no job."""
        with self._tx() as s:
            self._emit_stream(s, stream, SYSTEM_PROJECT, event_type, payload)

    def _artifact_row(self, s: Session, artifact_id: str) -> ArtifactRow:
        row = s.get(ArtifactRow, artifact_id)
        if row is None:
            raise ArtifactNotFound(f"no artifact {artifact_id}")
        return row

    @staticmethod
    def _job_of(s: Session, row: ArtifactRow) -> JobRow | None:
        return s.get(JobRow, row.job_id) if row.job_id else None

    def _emit_for(
        self, s: Session, job: JobRow | None, artifact: Artifact, event_type: str, payload: dict[str, object],
        traceparent: str | None,
    ) -> None:
        # A job's artifacts speak on the job's stream; jobless ones (templates, documents) on their own id's.
        if job is not None:
            self._emit(s, job, event_type, payload, traceparent)
        else:
            self._emit_stream(s, artifact.id, artifact.project, event_type, payload)

    def _emit_stream(self, s: Session, stream: str, project: str, event_type: str, payload: dict[str, object]) -> None:
        event, headers = stream_event(event_id=self._new_id(), stream=stream, project=project, event_type=event_type,
                                      payload=payload, now=self._clock.now())
        write_event(s, event, headers, self.signer)

    # --- outbox -----------------------------------------------------------------------------

    def events(self, job_id: str, *, project: str | None = None) -> list[OutboxMessage]:
        """Return every event of the job from the outbox, in order (none when the job is not `project`'s)."""
        query = select(OutboxRow).where(OutboxRow.job_id == job_id).order_by(OutboxRow.seq)
        if project is not None:  # the job's project: a blocked job's scrubbed events say "pii-blocked" instead
            query = query.join(JobRow, JobRow.id == OutboxRow.job_id).where(JobRow.project == project)
        with self._tx() as s:
            rows = s.scalars(query)
            return [_message(r) for r in rows]

    def pending_events(self, *, limit: int = 100) -> list[OutboxMessage]:
        """Return unpublished outbox messages, oldest first."""
        query = select(OutboxRow).where(OutboxRow.published_at.is_(None)).order_by(OutboxRow.seq).limit(limit)
        with self._tx() as s:
            return [_message(r) for r in s.scalars(query)]

    def mark_published(self, event_ids: list[str]) -> None:
        """Mark outbox messages published (called only after their PubAck)."""
        if not event_ids:
            return
        with self._tx() as s:
            s.execute(
                update(OutboxRow)
                .where(OutboxRow.event_id.in_(event_ids), OutboxRow.published_at.is_(None))
                .values(published_at=self._clock.now())
                .execution_options(synchronize_session=False)
            )

    # --- helpers ----------------------------------------------------------------------------

    def _row(self, s: Session, job_id: str) -> JobRow:
        row = s.get(JobRow, job_id)
        if row is None:
            raise JobNotFound(f"no job {job_id}")
        return row

    def _emit(
        self,
        s: Session,
        job: JobRow,
        event_type: str,
        payload: dict[str, object],
        traceparent: str | None,
        *,
        scrub: bool = False,
    ) -> None:
        """Add an event to the outbox, checked by the job's egress guard.

        Fail closed: an event carrying a value of the job's PII vault raises `EventBlocked`, so the
        transaction rolls back (and `_tx` fails the job instead). With `scrub`, the failure path
        writes the event without the values: strings carrying one become `<BLOCKED>`, a project that
        carries one becomes `pii-blocked` (in the event and its subject), headers carrying one go.
        An event the guard still flags after that is not written at all.
        """
        built = guarded_event(
            event_id=self._new_id(), job=_job(job), event_type=event_type, payload=payload, traceparent=traceparent,
            now=self._clock.now(), guard=self._guards.guard(job.id), scrub=scrub,
        )
        if built is None:
            return
        event, headers = built
        write_event(s, event, headers, self.signer)


def write_event(s: Session, event: Event, headers: dict[str, str], signer: Signer | None) -> None:
    """Add the event to the outbox at its sequence (the row's `seq`), signed when there is a signer."""
    row = OutboxRow(event_id=event.id, job_id=event.job_id, project=event.project, type=event.type,
                    subject=event.subject, event={}, headers={}, occurred_at=event.occurred_at, published_at=None)
    s.add(row)
    s.flush()  # the sequence is the row's seq, which the database assigns: signed in the same transaction
    _, row.event, row.headers = signed_event(event, headers, sequence=row.seq, signer=signer)


def _update_versioned(s: Session, row: JobRow, expected_version: int, values: dict[str, Any], *, doing: str) -> None:
    """Update a job row only if it is still at `expected_version`; mirror the values on the loaded row.

    The version guard in WHERE holds even against a racing writer; `StaleJobVersion` otherwise.
    """
    result = s.execute(
        update(JobRow)
        .where(JobRow.id == row.id, JobRow.version == expected_version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleJobVersion(f"job {row.id} changed while {doing}")
    for key, value in values.items():
        set_committed_value(row, key, value)


def _scoped(s: Session, row_type: Any, match: Any, project: str | None) -> Any:
    """The one row `match` selects, within `project` when given (None when there is none)."""
    query = select(row_type).where(match)
    if project is not None:
        query = query.where(row_type.project == project)
    return s.scalars(query).one_or_none()


def _load_keyring(settings: Settings) -> Keyring:
    from actors.pii.vault import (
        load_keyring,  # the key file's checks pull in the PII policy: only when sealing
    )

    return load_keyring(settings)


def _legacy_hash(brief: Brief) -> str:
    """The unkeyed hash idempotency rows stored before hashes were keyed (a retry across the upgrade still matches)."""
    return hashlib.sha256(json.dumps(brief.model_dump(mode="json"), sort_keys=True).encode()).hexdigest()


def _utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes even for timezone-aware columns.
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def _job(row: JobRow) -> JobRecord:
    return JobRecord(
        id=row.id,
        project=row.project,
        state=JobState(row.state),
        version=row.version,
        degraded=row.degraded,
        brief=Brief.model_validate(row.brief),
        idempotency_key=row.idempotency_key,
        trace_id=row.trace_id,
        traceparent=row.traceparent,
        error=row.error,
        created_at=_utc(row.created_at),
        updated_at=_utc(row.updated_at),
    )


def _artifact(row: ArtifactRow) -> Artifact:
    return Artifact.model_validate(
        {c.name: getattr(row, c.name) for c in ArtifactRow.__table__.columns}
        | {"created_at": _utc(row.created_at), "retention_until": _utc(row.retention_until),
           "deleted_at": _utc(row.deleted_at), "lineage": list(row.lineage or [])}
    )


def _message(row: OutboxRow) -> OutboxMessage:
    return OutboxMessage(
        seq=row.seq,
        event=Event.model_validate(row.event),
        subject=row.subject,
        headers=dict(row.headers),
        published_at=_utc(row.published_at),
    )
