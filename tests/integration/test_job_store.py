"""The job store contract, run on every implementation (in-memory fake, SQLite, PostgreSQL): transitions with
outbox events, locking, idempotency; then PostgreSQL under concurrency."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from schemas import (
    Artifact,
    ArtifactGone,
    ArtifactKind,
    ArtifactNotFound,
    ArtifactStatus,
    EventType,
    IdempotencyConflict,
    IllegalTransition,
    JobNotFound,
    JobState,
    StaleJobVersion,
    StepOutcome,
    StepRecord,
)
from tests.conftest import TEST_KEYRING, TEST_SIGNING_KEY
from tests.fakes import MemoryJobStore

pytestmark = pytest.mark.integration


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def store(request):  # type: ignore[no-untyped-def]
    """The store on each implementation of the port."""
    if request.param == "memory":
        return MemoryJobStore(keyring=TEST_KEYRING, signer=TEST_SIGNING_KEY.sign)
    return request.getfixturevalue("sqlite_store" if request.param == "sqlite" else "pg_store")


def test_submit_creates_job_and_event(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    brief = make_brief()
    job = store.submit(brief, trace_id="a" * 32)
    assert (job.state, job.version, job.project, job.trace_id) == (JobState.SUBMITTED, 1, brief.project, "a" * 32)
    assert store.get(job.id) == job
    [msg] = store.events(job.id)
    assert msg.event.type == EventType.JOB_SUBMITTED
    assert msg.subject == f"mka.events.{brief.project}.{job.id}.job_submitted"
    assert msg.headers["Nats-Msg-Id"] == msg.event.id
    assert msg.published_at is None


def test_transition_moves_job_and_writes_event_atomically(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    job = store.submit(make_brief())
    tp = f"00-{'1' * 32}-{'2' * 16}-01"
    moved = store.transition(job.id, JobState.VALIDATING, expected_version=1, reason="start", traceparent=tp)
    assert (moved.state, moved.version) == (JobState.VALIDATING, 2)
    events = store.events(job.id)
    assert [m.event.type for m in events] == [EventType.JOB_SUBMITTED, EventType.JOB_STATE_CHANGED]
    assert events[1].event.payload == {"from_state": "submitted", "to_state": "validating", "reason": "start", "version": 2}
    assert events[1].headers["traceparent"] == tp


def test_illegal_transition_changes_nothing(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    job = store.submit(make_brief())
    with pytest.raises(IllegalTransition):
        store.transition(job.id, JobState.RENDERING, expected_version=1)
    assert store.get(job.id).version == 1
    assert len(store.events(job.id)) == 1


def test_stale_writer_cannot_move_job_backwards(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    job = store.submit(make_brief())
    store.transition(job.id, JobState.VALIDATING, expected_version=1)
    store.transition(job.id, JobState.REDACTING, expected_version=2)
    # A duplicate of the first writer replays its old move: refused, state untouched.
    with pytest.raises(StaleJobVersion):
        store.transition(job.id, JobState.VALIDATING, expected_version=1)
    with pytest.raises(StaleJobVersion):
        store.transition(job.id, JobState.FAILED, expected_version=2)
    current = store.get(job.id)
    assert (current.state, current.version) == (JobState.REDACTING, 3)
    assert len(store.events(job.id)) == 3


def test_terminal_job_stays_terminal(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    job = store.submit(make_brief())
    failed = store.transition(
        job.id, JobState.FAILED, expected_version=1, error={"code": "invalid_brief", "message": "x"}, degraded=True
    )
    assert failed.error == {"code": "invalid_brief", "message": "x"} and failed.degraded and failed.terminal
    assert store.events(job.id)[-1].event.payload["error_code"] == "invalid_brief"
    with pytest.raises(IllegalTransition):
        store.transition(job.id, JobState.COMPLETED, expected_version=2)
    other = store.submit(make_brief())
    store.transition(other.id, JobState.CANCELLED, expected_version=1)
    with pytest.raises(IllegalTransition):
        store.transition(other.id, JobState.VALIDATING, expected_version=2)


def test_unknown_job(store) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(JobNotFound):
        store.get(str(uuid.uuid4()))
    with pytest.raises(JobNotFound):
        store.transition(str(uuid.uuid4()), JobState.VALIDATING, expected_version=1)


def test_idempotent_submit_returns_same_job(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    brief = make_brief()
    first = store.submit(brief, idempotency_key="req-1")
    again = store.submit(brief, idempotency_key="req-1")
    other = store.submit(brief, idempotency_key="req-2")
    assert again.id == first.id and other.id != first.id
    assert len(store.events(first.id)) == 1
    with pytest.raises(IdempotencyConflict):
        store.submit(brief.model_copy(update={"audience": "someone else"}), idempotency_key="req-1")


def test_idempotency_covers_the_provider_script_and_reads_are_scoped_by_project(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    brief = make_brief()
    script = {"deadline_s": 5.0, "providers": {}}
    first = store.submit(brief, idempotency_key="req-s", script=script)
    assert store.submit(brief, idempotency_key="req-s", script=dict(script)).id == first.id
    with pytest.raises(IdempotencyConflict):  # same key, same brief, another script: a different request
        store.submit(brief, idempotency_key="req-s", script={"deadline_s": 3600.0, "providers": {}})
    with pytest.raises(IdempotencyConflict):
        store.submit(brief, idempotency_key="req-s")
    plain = store.submit(brief, idempotency_key="req-p")  # without a script the brief alone is hashed, as before
    assert store.submit(brief, idempotency_key="req-p").id == plain.id
    assert store.get(first.id, project=brief.project).id == first.id
    with pytest.raises(JobNotFound):
        store.get(first.id, project="someone-else")
    assert store.events(first.id, project=brief.project) and store.events(first.id, project="someone-else") == []
    store.record_step(StepRecord(job_id=first.id, step="validate", attempt=1, outcome=StepOutcome.RUNNING,
                                 started_at=datetime.now(timezone.utc)))
    assert len(store.steps(first.id, project=brief.project)) == 1
    assert store.steps(first.id, project="someone-else") == []
    raw = next(a for a in store.catalog(job_id=first.id))
    assert store.get_artifact(raw.id, project=brief.project).id == raw.id
    with pytest.raises(ArtifactNotFound):
        store.get_artifact(raw.id, project="someone-else")


def test_steps_are_upserted_per_attempt(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    job = store.submit(make_brief())
    now = datetime.now(timezone.utc)
    store.record_step(StepRecord(job_id=job.id, step="collect", attempt=1, outcome=StepOutcome.RUNNING, started_at=now))
    store.record_step(
        StepRecord(
            job_id=job.id, step="collect", attempt=1, outcome=StepOutcome.FAILED,
            error={"code": "step_timeout"}, started_at=now, finished_at=now,
        )
    )
    store.record_step(
        StepRecord(
            job_id=job.id, step="collect", attempt=2, outcome=StepOutcome.SUCCEEDED,
            result_ref=f"jobs/{job.id}/steps/collect.json", started_at=now, finished_at=now,
        )
    )
    steps = store.steps(job.id)
    assert [(s.attempt, s.outcome) for s in steps] == [(1, StepOutcome.FAILED), (2, StepOutcome.SUCCEEDED)]
    assert steps[1].result_ref == f"jobs/{job.id}/steps/collect.json"
    step_events = [m.event for m in store.events(job.id) if m.event.type == EventType.STEP_RECORDED]
    assert [e.payload["outcome"] for e in step_events] == ["running", "failed", "succeeded"]
    assert step_events[1].payload["error_code"] == "step_timeout"


def test_artifacts_round_trip(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    job = store.submit(make_brief())
    art = Artifact(
        id=str(uuid.uuid4()), job_id=job.id, project=job.project, kind="pdf", key=f"jobs/{job.id}/report.pdf",
        uri=f"s3://b/jobs/{job.id}/report.pdf", content_type="application/pdf", size=10,
        sha256="0" * 64, created_at=datetime.now(timezone.utc),
    )
    assert store.add_artifact(art) == art
    assert store.artifacts(job.id) == [art]
    assert store.get_artifact(art.id) == art
    with pytest.raises(ArtifactNotFound):
        store.get_artifact(str(uuid.uuid4()))
    assert store.events(job.id)[-1].event.payload == {"artifact_id": art.id, "kind": "pdf", "size": 10, "version": 1}


def test_outbox_pending_and_mark_published(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    job = store.submit(make_brief())
    store.transition(job.id, JobState.VALIDATING, expected_version=1)
    mine = [m for m in store.pending_events(limit=100_000) if m.event.job_id == job.id]
    assert [m.event.type for m in mine] == [EventType.JOB_SUBMITTED, EventType.JOB_STATE_CHANGED]
    assert mine[0].seq < mine[1].seq
    store.mark_published([mine[0].event.id])
    store.mark_published([mine[0].event.id])  # idempotent
    left = [m for m in store.pending_events(limit=100_000) if m.event.job_id == job.id]
    assert [m.event.id for m in left] == [mine[1].event.id]
    first = store.events(job.id)[0]
    assert first.published_at is not None


def test_events_hold_no_brief_text(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    planted = "Jane Q. Planted jane.planted@example.com +49 170 1234567"
    job = store.submit(make_brief(audience=f"Lookalikes of {planted}", notes=planted))
    store.transition(job.id, JobState.VALIDATING, expected_version=1)
    blob = repr([(m.event.model_dump(mode="json"), m.headers, m.subject) for m in store.events(job.id)])
    assert "Planted" not in blob and "jane.planted" not in blob and "1234567" not in blob


# --- PostgreSQL under concurrency -----------------------------------------------------------


def test_concurrent_idempotent_submits_make_one_job(pg_store, make_brief) -> None:  # type: ignore[no-untyped-def]
    brief = make_brief()
    barrier = threading.Barrier(24)

    def submit(_: int) -> str:
        barrier.wait()
        return pg_store.submit(brief, idempotency_key="same-request").id

    with ThreadPoolExecutor(max_workers=24) as pool:
        ids = list(pool.map(submit, range(24)))
    assert len(set(ids)) == 1
    assert [m.event.type for m in pg_store.events(ids[0])] == [EventType.JOB_SUBMITTED]
    assert len(pg_store.list_jobs(project=brief.project)) == 1


def test_concurrent_writers_exactly_one_wins(pg_store, make_brief) -> None:  # type: ignore[no-untyped-def]
    job = pg_store.submit(make_brief())
    barrier = threading.Barrier(20)

    def move(i: int) -> str:
        barrier.wait()
        target = JobState.VALIDATING if i % 2 else JobState.CANCELLED
        try:
            pg_store.transition(job.id, target, expected_version=1)
            return "won"
        except StaleJobVersion:
            return "stale"

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(move, range(20)))
    assert results.count("won") == 1 and results.count("stale") == 19
    final = pg_store.get(job.id)
    assert final.version == 2
    assert len(pg_store.events(job.id)) == 2


def test_rewritten_artifact_keeps_one_row(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    job = store.submit(make_brief())
    now = datetime.now(timezone.utc)
    first = Artifact(
        id=str(uuid.uuid4()), job_id=job.id, kind="pdf", key=f"jobs/{job.id}/report.pdf",
        uri="file:///x", content_type="application/pdf", size=1, sha256="1" * 64, created_at=now,
    )
    store.add_artifact(first)
    store.add_artifact(first.model_copy(update={"id": str(uuid.uuid4()), "size": 2, "sha256": "2" * 64}))
    [only] = store.artifacts(job.id)
    assert (only.id, only.size, only.sha256) == (first.id, 2, "2" * 64)


# --- the catalog ----------------------------------------------------------------------------------


def _row(job, name: str, **extra) -> Artifact:  # type: ignore[no-untyped-def]
    key = f"projects/{job.project}/jobs/{job.id}/{name}"
    return Artifact(id=str(uuid.uuid4()), job_id=job.id, project=job.project, kind=extra.pop("kind", "checkpoint"),
                    key=key, uri=f"file:///{key}", content_type="application/json", size=3, sha256="3" * 64,
                    created_at=datetime.now(timezone.utc), **extra)


def test_submit_records_the_sealed_raw_brief_in_the_catalog(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    import hashlib

    job = store.submit(make_brief())
    [raw] = store.catalog(job_id=job.id)
    sealed = store.sealed_brief(job.id)
    assert (raw.kind, raw.pii_class, raw.retention_class, raw.project) == ("raw_brief", "raw_encrypted", "pii", job.project)
    assert raw.uri == f"db://jobs/{job.id}/brief_sealed" and raw.sha256 == hashlib.sha256(sealed).hexdigest()
    assert store.artifacts(job.id) == []  # not a deliverable
    assert [m.event.type for m in store.events(job.id)] == [EventType.JOB_SUBMITTED]  # no event of its own
    store.reseal_brief(job.id, b"resealed")
    assert store.get_artifact(raw.id).sha256 == hashlib.sha256(b"resealed").hexdigest()


def test_catalog_filters_and_internal_rows_are_silent(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    job = store.submit(make_brief())
    checkpoint = store.add_artifact(_row(job, "steps/merge.json", step="merge"))
    pdf = store.add_artifact(_row(job, "report.pdf", kind="pdf", step="render"))
    assert [a.id for a in store.catalog(job_id=job.id, kinds=["pdf"])] == [pdf.id]
    assert {a.id for a in store.catalog(project=job.project)} >= {checkpoint.id, pdf.id}
    assert len(store.catalog(job_id=job.id, limit=1)) == 1
    assert store.artifact_at(checkpoint.key) == checkpoint and store.artifact_at("projects/x/none") is None
    assert store.artifacts(job.id) == [pdf]
    stored = [m.event.payload["artifact_id"] for m in store.events(job.id) if m.event.type == EventType.ARTIFACT_STORED]
    assert stored == [pdf.id]


def test_delete_is_two_phase_and_a_hold_always_wins(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    job = store.submit(make_brief())
    a = store.add_artifact(_row(job, "steps/collect.json", step="collect"))
    b = store.add_artifact(_row(job, "report.pdf", kind="pdf"))
    held = store.hold_artifact(b.id, "audit 7")
    assert (held.legal_hold, held.hold_reason) == (True, "audit 7")
    assert store.begin_delete(b.id, "ttl: pdf") is None  # refused: held
    marked = store.begin_delete(a.id, "checkpoint: job ended + 7 days")
    assert marked is not None and marked.status == ArtifactStatus.DELETING
    assert store.begin_delete(a.id, "again") is None  # already being deleted
    with pytest.raises(ArtifactGone):
        store.hold_artifact(a.id, "too late")
    done = store.finish_delete(a.id)
    assert done.status == ArtifactStatus.DELETED and done.deleted_at is not None
    assert store.finish_delete(a.id) == done  # idempotent, one event
    deleted = [m.event.payload for m in store.events(job.id) if m.event.type == EventType.ARTIFACT_DELETED]
    assert deleted == [{"artifact_id": a.id, "kind": "checkpoint", "key": a.key,
                        "reason": "checkpoint: job ended + 7 days", "version": 1}]
    assert a.id not in {r.id for r in store.catalog(job_id=job.id)}
    assert a.id in {r.id for r in store.catalog(job_id=job.id, include_deleted=True)}
    released = store.release_artifact(b.id)
    assert not released.legal_hold and released.hold_reason is None
    types = [m.event.type for m in store.events(job.id)]
    assert types.count(EventType.ARTIFACT_HELD) == 1 and types.count(EventType.ARTIFACT_RELEASED) == 1
    rewritten = store.add_artifact(_row(job, "steps/collect.json", step="collect"))
    assert rewritten.id == a.id and rewritten.status == ArtifactStatus.STORED  # a re-run step stores it again


def test_lost_rows_retention_and_system_events(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    job = store.submit(make_brief())
    a = store.add_artifact(_row(job, "vault.bin", kind="vault"))
    lost = store.mark_lost(a.id)
    assert lost is not None and lost.status == ArtifactStatus.LOST and store.mark_lost(a.id) is None
    when = datetime(2027, 1, 1, tzinfo=timezone.utc)
    store.set_retention({a.id: when})
    assert store.get_artifact(a.id).retention_until == when
    stream = f"sweep-{uuid.uuid4().hex[:12]}"
    store.record_system_event(EventType.SWEEP_COMPLETED, {"deleted": 0}, stream=stream)
    [summary] = [m for m in store.pending_events(limit=1_000_000) if m.event.job_id == stream]
    assert summary.subject == f"mka.events.mka-system.{stream}.sweep_completed" and summary.event.payload == {"deleted": 0}


def test_a_job_or_project_object_records_its_project(tmp_path, pg_url: str, make_brief) -> None:  # type: ignore[no-untyped-def]
    """The CLI may submit into a project nobody created: the store records it, so the portal can reach it."""
    from cluster.db import make_engine
    from cluster.identity_store import SqlIdentityStore
    from cluster.sql_store import SqlJobStore
    from tests.conftest import TEST_KEYRING

    for url in (f"sqlite:///{tmp_path / 'p.db'}", pg_url):
        engine = make_engine(url)
        store = SqlJobStore(engine, keyring=TEST_KEYRING)
        brief = make_brief()
        identity = SqlIdentityStore(engine)
        assert identity.get_project(brief.project) is None
        store.submit(brief)
        store.submit(brief)  # a second job in it: no conflict
        assert identity.get_project(brief.project) is not None
        project = f"{brief.project}-t"
        key = f"projects/{project}/templates/t/v1.json"
        store.add_artifact(Artifact(id=str(uuid.uuid4()), job_id=None, project=project, kind=ArtifactKind.TEMPLATE,
                                    key=key, uri=f"file:///{key}", content_type="application/json", size=3,
                                    sha256="3" * 64, created_at=datetime.now(timezone.utc)))
        assert identity.get_project(f"{brief.project}-t") is not None
        engine.dispose()


def test_a_blocked_jobs_scrubbed_events_stay_in_its_scoped_stream(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    """A job whose project name is a vault value fails with events filed under `pii-blocked`; reading the job's
    events within its project still shows the failure (or an event stream would never see the end)."""
    from actors.pii import EgressBlocked, EgressGuard, guard_registry

    project = f"berlin-launch-{uuid.uuid4().hex[:8]}"
    job = store.submit(make_brief(project=project))
    guard_registry().register(job.id, EgressGuard([("Berlin", "LOCATION")]))
    try:
        with pytest.raises(EgressBlocked):
            store.transition(job.id, JobState.FAILED, expected_version=job.version, reason="x", error={"code": "x"})
    finally:
        guard_registry().reset()
    scoped = [m.event.payload.get("to_state") for m in store.events(job.id, project=project)]
    assert "failed" in scoped and scoped == [m.event.payload.get("to_state") for m in store.events(job.id)]


def test_list_jobs_pages_by_cursor_within_a_project(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    """Pages after a (created_at, id) cursor: newest first, each job once, none of another project's."""
    project = f"pager-{uuid.uuid4().hex[:8]}"  # the PostgreSQL database is shared between runs
    mine = [store.submit(make_brief(project=project)).id for _ in range(5)]
    store.submit(make_brief(project=f"{project}-other"))
    everything = store.list_jobs(project=project, limit=100)
    assert sorted(j.id for j in everything) == sorted(mine)
    assert [(j.created_at, j.id) for j in everything] == sorted(((j.created_at, j.id) for j in everything),
                                                                 reverse=True)
    seen, before = [], None
    while True:
        page = store.list_jobs(project=project, limit=2, before=before)
        if not page:
            break
        seen += [j.id for j in page]
        before = (page[-1].created_at, page[-1].id)
    assert seen == [j.id for j in everything]
    assert store.list_jobs(project=project, states=[JobState.COMPLETED]) == []


# --- retention of rows --------------------------------------------------------------------------


def test_events_past_retention_go_relayed_ones_only_unless_told_and_per_project(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    a, b = store.submit(make_brief(), idempotency_key="k1"), store.submit(make_brief())
    relayed = [m.event.id for m in store.events(a.id)]
    last_seq = max(m.seq for m in store.events(b.id))
    store.mark_published(relayed)
    later = datetime.now(timezone.utc) + timedelta(days=1)
    assert store.purge_events(later - timedelta(days=2)) == 0  # nothing that old
    assert store.purge_events(later, project=a.project, dry_run=True) == len(relayed)
    assert [m.event.id for m in store.events(a.id)] == relayed  # a dry run deletes nothing
    assert store.purge_events(later, project=b.project, published_only=True) == 0  # b's event is not relayed
    assert store.purge_events(later, project=a.project) == len(relayed)
    assert store.events(a.id) == [] and len(store.events(b.id)) == 1
    if getattr(getattr(store, "engine", None), "dialect", None) is None or store.engine.dialect.name != "postgresql":
        # every project but one (the shared PostgreSQL database holds other tests' rows: not there)
        assert store.purge_events(later, exclude=[a.project, b.project], published_only=False) == 0
        assert store.purge_events(later, exclude=[a.project], published_only=False) == 1
    else:
        assert store.purge_events(later, project=b.project, published_only=False) == 1
    assert store.events(b.id) == []
    after = store.submit(make_brief())  # sequences never repeat after a purge
    assert store.events(after.id)[0].seq > last_seq


def test_a_finished_job_with_no_object_left_becomes_a_tombstone(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    running = store.submit(make_brief())
    done = store.submit(make_brief(), idempotency_key="again")
    done = store.transition(done.id, JobState.VALIDATING, expected_version=done.version)
    done = store.transition(done.id, JobState.FAILED, expected_version=done.version,
                            error={"code": "invalid_brief", "message": "no"})
    [raw] = store.catalog(job_id=done.id)  # the sealed raw brief: retention deletes it before the row
    assert store.tombstone_jobs([done.id]) == []
    store.finish_deletes([r.id for r in store.begin_deletes([(raw.id, "pii retention", raw)])])
    kept = store.submit(make_brief())
    kept = store.transition(kept.id, JobState.CANCELLED, expected_version=kept.version)
    store.add_artifact(Artifact(id=str(uuid.uuid4()), job_id=kept.id, project=kept.project, kind=ArtifactKind.PDF,
                                key=f"projects/{kept.project}/jobs/{kept.id}/report.pdf", uri="memory://x",
                                content_type="application/pdf", size=1, sha256="0" * 64,
                                created_at=datetime.now(timezone.utc)))
    assert store.tombstone_jobs([running.id, done.id, kept.id, "no-such-job"]) == [done.id]
    with pytest.raises(JobNotFound):
        store.get(done.id)
    stone = store.tombstone(done.id)
    assert stone is not None and stone["state"] == "failed" and stone["project"] == done.project
    assert stone["created_at"] == done.created_at and stone["purged_at"] >= stone["ended_at"]
    assert store.steps(done.id) == [] and store.catalog(job_id=done.id, include_deleted=True) == []
    purged = [m for m in store.pending_events(limit=10_000) if m.event.type == "job.purged" and m.event.job_id == done.id]
    assert len(purged) == 1 and purged[0].event.payload["state"] == "failed"
    again = store.submit(make_brief(project=done.project), idempotency_key="again")  # the key went with the row
    assert again.id != done.id
    assert store.tombstone(running.id) is None and store.get(kept.id).state == JobState.CANCELLED
    assert store.tombstone_jobs([done.id]) == []


def test_the_backlog_and_the_state_counts(store, make_brief) -> None:  # type: ignore[no-untyped-def]
    before_count, _ = store.outbox_backlog()
    before_states = store.job_counts()
    job = store.submit(make_brief())
    store.transition(job.id, JobState.VALIDATING, expected_version=job.version)
    count, oldest = store.outbox_backlog()
    assert count == before_count + 2 and oldest is not None and oldest.tzinfo is not None
    after = store.job_counts()
    assert after.get("validating", 0) == before_states.get("validating", 0) + 1
    store.mark_published([m.event.id for m in store.events(job.id)])
    assert store.outbox_backlog()[0] == before_count
