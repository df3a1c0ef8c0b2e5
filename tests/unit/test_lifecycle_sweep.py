"""The sweep over the ports (in-memory stores, fake clock): catalog completeness, deletion with events, holds,
orphans both ways, legacy adoption, batches, a crash mid-sweep, checked downloads."""

from __future__ import annotations

from pathlib import Path

from datetime import datetime, timedelta, timezone

import pytest

from actors.lifecycle.catalog import read_artifact, verify
from actors.lifecycle.sweep import SWEPT_PREFIXES, sweep
from actors.object_store import job_key, job_prefix, legacy_job_key
from actors.orchestrator.runner import JobRunner, RunnerConfig
from schemas import (
    ArtifactGone,
    ArtifactKind,
    ArtifactStatus,
    EventType,
    IntegrityFailure,
    JobState,
)
from schemas.lifecycle import CleanupRules
from tests.conftest import TEST_KEYRING
from tests.fakes import Crash, FakeAgents, FakeClock, MemoryJobStore, MemoryObjectStore

pytestmark = pytest.mark.unit

YEAR = timedelta(days=366)


@pytest.fixture
def done(make_brief):  # type: ignore[no-untyped-def]
    """A completed job (in memory, on a fake clock that starts at the wall time) with its store and objects."""
    clock = FakeClock(start=datetime.now(timezone.utc))
    store, objects = MemoryJobStore(keyring=TEST_KEYRING, clock=clock), MemoryObjectStore(clock=clock)
    config = RunnerConfig(providers=["openai", "gemini", "xai"], deadline_s=2, grace_s=0.2, retry_base_delay_s=0.01)
    runner = JobRunner(store=store, objects=objects, agents=FakeAgents(objects), config=config, clock=clock)
    job = store.submit(make_brief())
    final = runner.run(job.id)
    assert final.state == JobState.COMPLETED
    return store, objects, clock, final


def _deleted_events(store: MemoryJobStore) -> list[str]:
    return [m.event.payload["artifact_id"] for m in store.outbox if m.event.type == EventType.ARTIFACT_DELETED]


def test_every_object_of_a_job_has_a_row_and_a_date(done) -> None:  # type: ignore[no-untyped-def]
    store, objects, _, job = done
    listed = {o.key for o in objects.list_objects(job_prefix(job.project, job.id))}
    rows = store.catalog(job_id=job.id)
    assert listed and listed <= {a.key for a in rows}
    kinds = {a.kind for a in rows}
    assert {ArtifactKind.CHECKPOINT, ArtifactKind.VAULT, ArtifactKind.RAW_BRIEF, ArtifactKind.EXPORT} <= kinds
    assert all(a.project == job.project and a.retention_until is not None for a in rows)  # dated as the run ended
    merge = next(a for a in rows if a.step == "merge")
    [report] = store.artifacts(job.id)
    assert merge.id in report.lineage and "step:render" in report.lineage
    assert verify(store, objects, rows) == []


def test_gc_a_year_later_deletes_everything_but_held_rows_and_a_rerun_deletes_nothing(done) -> None:  # type: ignore[no-untyped-def]
    store, objects, clock, job = done
    rows = store.catalog(job_id=job.id)
    [report] = store.artifacts(job.id)
    store.hold_artifact(report.id, "litigation 2026-17")
    later = clock.now() + YEAR

    dry = sweep(store, objects, later, CleanupRules(), dry_run=True)
    assert {d["id"] for d in dry.deleted} == {a.id for a in rows} - {report.id}
    assert [h["id"] for h in dry.held] == [report.id] and dry.held[0]["hold_reason"] == "litigation 2026-17"
    assert len(objects.objects) == len(objects.list_objects()) and store.catalog(job_id=job.id) == store.catalog(job_id=job.id)
    assert all(a.status == ArtifactStatus.STORED for a in store.catalog(job_id=job.id))  # a dry run changes nothing

    real = sweep(store, objects, later, CleanupRules())
    assert sorted(d["id"] for d in real.deleted) == sorted(d["id"] for d in dry.deleted)
    assert {o.key for o in objects.list_objects(job_prefix(job.project, job.id))} == {report.key}
    assert store.sealed_brief(job.id) is None  # the raw brief row went with its bytes
    assert sorted(_deleted_events(store)) == sorted(d["id"] for d in real.deleted)  # one event per deletion
    summaries = [m.event for m in store.outbox if m.event.type == EventType.SWEEP_COMPLETED]
    assert summaries[-1].payload["deleted"] == len(real.deleted) and summaries[-1].project == "mka-system"

    again = sweep(store, objects, later, CleanupRules())
    assert again.deleted == [] and [h["id"] for h in again.held] == [report.id]
    gone = store.get_artifact(rows[0].id)
    assert gone.status == ArtifactStatus.DELETED and gone.deleted_at == clock.now() and gone.deletion_reason
    with pytest.raises(ArtifactGone) as info:
        store.hold_artifact(gone.id, "too late")
    assert info.value.reason == gone.deletion_reason

    store.release_artifact(report.id)
    assert [d["id"] for d in sweep(store, objects, later, CleanupRules()).deleted] == [report.id]


def test_a_sweep_that_crashes_halfway_is_finished_by_the_next_nothing_twice(done) -> None:  # type: ignore[no-untyped-def]
    store, objects, clock, job = done
    rows = store.catalog(job_id=job.id)
    held = next(a for a in rows if a.kind == ArtifactKind.VAULT)
    store.hold_artifact(held.id, "regulator request")
    deletes, real_delete = [], objects.delete

    def crash_on_third(key: str) -> None:
        deletes.append(key)
        if len(deletes) == 3:
            raise Crash("process killed mid-sweep")
        real_delete(key)

    objects.delete = crash_on_third  # type: ignore[method-assign]
    with pytest.raises(Crash):
        sweep(store, objects, clock.now() + YEAR, CleanupRules())
    objects.delete = real_delete  # type: ignore[method-assign]
    stuck = [a for a in store.catalog(job_id=job.id) if a.status == ArtifactStatus.DELETING]
    assert stuck and len(_deleted_events(store)) == 0  # marked, objects partly gone, no row closed yet

    rerun = sweep(store, objects, clock.now() + YEAR, CleanupRules())
    assert {a.id for a in stuck} <= {d["id"] for d in rerun.deleted}
    assert not [a for a in store.catalog(job_id=job.id) if a.status == ArtifactStatus.DELETING]
    events = _deleted_events(store)
    assert len(events) == len(set(events)) == len(rows) - 1  # each deletion announced exactly once
    assert objects.exists(held.key) and store.get_artifact(held.id).status == ArtifactStatus.STORED


def test_orphans_both_ways_and_legacy_objects_adopted(done) -> None:  # type: ignore[no-untyped-def]
    store, objects, clock, job = done
    rules = CleanupRules(orphan_grace_hours=24)
    stray = objects.put(job_key(job.project, job.id, "tmp/half-written.bin"), b"x", content_type="application/octet-stream")
    legacy = objects.put(legacy_job_key(job.id, "report.html"), b"<html>", content_type="text/html")
    unknown_job = objects.put(legacy_job_key("no-such-job", "report.pdf"), b"%PDF", content_type="application/pdf")
    outside = objects.put("exports-by-hand/readme.txt", b"not ours", content_type="text/plain")
    [report] = store.artifacts(job.id)
    objects.delete(report.key)  # the row's object vanished

    clock.advance(23 * 3600)
    young = sweep(store, objects, clock.now(), rules, clock=clock)
    assert young.orphan_objects == []  # within the grace: a write may be committing its row
    assert [a["key"] for a in young.adopted] == [legacy.key]  # legacy keys are never being written: adopted at once
    adopted = store.artifact_at(legacy.key)
    assert adopted is not None and (adopted.kind, adopted.project, adopted.job_id) == (ArtifactKind.HTML, job.project, job.id)
    assert [r["id"] for r in young.orphan_rows] == [report.id]
    assert store.get_artifact(report.id).status == ArtifactStatus.LOST
    assert [m.event.type for m in store.outbox if m.event.payload.get("artifact_id") == report.id][-1] == "artifact.lost"

    # `gc --now <a year later>` decides the rules as of then, but the orphan grace runs on the wall clock.
    future = sweep(store, objects, clock.now() + timedelta(days=366), rules, clock=clock, dry_run=True)
    assert future.orphan_objects == [] and stray.key not in {d["key"] for d in future.deleted}

    clock.advance(2 * 3600)
    old = sweep(store, objects, clock.now(), rules, clock=clock)
    assert sorted(o["key"] for o in old.orphan_objects) == sorted([stray.key, unknown_job.key])
    assert not objects.exists(stray.key) and not objects.exists(unknown_job.key)
    assert objects.exists(outside.key)  # outside the system's prefixes: never touched
    assert old.adopted == [] and old.orphan_rows == []  # a lost row is reported once
    orphan_events = [m.event.payload["key"] for m in store.outbox if m.event.type == EventType.ORPHAN_DELETED]
    assert sorted(orphan_events) == sorted([stray.key, unknown_job.key])

    objects.put(report.key, b"restored from backup", content_type=report.content_type)
    sweep(store, objects, clock.now(), rules, clock=clock)
    assert store.get_artifact(report.id).status == ArtifactStatus.STORED  # found again
    assert SWEPT_PREFIXES == ("projects/", "jobs/")


def test_an_empty_listing_marks_nothing_lost(done) -> None:  # type: ignore[no-untyped-def]
    store, objects, clock, job = done
    saved = dict(objects.objects)
    objects.objects.clear()  # an unmounted root lists nothing
    assert sweep(store, objects, clock.now(), CleanupRules(), clock=clock).orphan_rows == []
    assert all(a.status == ArtifactStatus.STORED for a in store.catalog(job_id=job.id))
    objects.objects.update(saved)


def test_a_row_rewritten_or_being_deleted_is_never_deleted_under_the_writer(done) -> None:  # type: ignore[no-untyped-def]
    from schemas import StorageError

    store, objects, clock, job = done
    [report] = store.artifacts(job.id)
    seen = store.get_artifact(report.id)
    clock.advance(60)
    rewritten = store.add_artifact(report.model_copy(update={"sha256": "f" * 64, "created_at": clock.now()}))
    assert store.begin_delete(report.id, "ttl", seen=seen) is None  # decided on the old row: refused
    marked = store.begin_delete(report.id, "ttl", seen=rewritten)
    assert marked is not None and marked.status == ArtifactStatus.DELETING
    with pytest.raises(StorageError) as info:  # a writer waits for the sweep to finish, then writes again
        store.add_artifact(report)
    assert info.value.retryable


def test_batches_bound_each_run(done) -> None:  # type: ignore[no-untyped-def]
    store, objects, clock, job = done
    total = len(store.catalog(job_id=job.id))
    rules = CleanupRules(batch_size=4)
    first = sweep(store, objects, clock.now() + YEAR, rules)
    assert len(first.deleted) == 4 and first.more
    runs = 1
    while sweep(store, objects, clock.now() + YEAR, rules).more:
        runs += 1
    assert len(_deleted_events(store)) == total and runs == -(-total // 4) - 1


def test_downloads_are_checked_against_the_catalog(done) -> None:  # type: ignore[no-untyped-def]
    store, objects, clock, job = done
    [report] = store.artifacts(job.id)
    row, data = read_artifact(store, objects, report.id)
    assert row.id == report.id and data == objects.get(report.key)
    objects.put(report.key, b"tampered", content_type=report.content_type)
    with pytest.raises(IntegrityFailure, match=report.id):
        read_artifact(store, objects, report.id)
    assert verify(store, objects, store.catalog(job_id=job.id)) == [
        {"id": report.id, "key": report.key, "problem": verify(store, objects, [report])[0]["problem"]}]
    assert "sha256 mismatch" in verify(store, objects, [report])[0]["problem"]
    sweep(store, objects, clock.now() + YEAR, CleanupRules())
    with pytest.raises(ArtifactGone, match="ttl: export"):
        read_artifact(store, objects, report.id)


def test_portal_serves_metadata_checks_downloads_and_answers_410_once_deleted(done, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    from serve_app.backend import ClientBackend
    from tests.portal import signed_in

    store, objects, clock, job = done
    http = signed_in(ClientBackend(SimpleNamespace(store=store, objects=objects, get=store.get)), project=job.project,
                     home=tmp_path / "identity", role="viewer")
    [report] = store.artifacts(job.id)
    listed = http.get(f"/v1/jobs/{job.id}/artifacts").json()
    assert [a["id"] for a in listed] == [report.id]  # deliverables only: no checkpoint, vault or raw brief
    meta = http.get(f"/v1/artifacts/{report.id}/meta").json()
    assert meta["sha256"] == report.sha256 and meta["status"] == "stored" and meta["href"] == f"/v1/artifacts/{report.id}"
    assert "uri" not in meta and "local_path" not in meta  # no server path or storage URI
    vault = next(a for a in store.catalog(job_id=job.id) if a.kind == ArtifactKind.VAULT)
    assert http.get(f"/v1/artifacts/{vault.id}/meta").status_code == 404
    assert http.get(f"/v1/artifacts/{vault.id}").status_code == 404
    assert http.get("/v1/jobs/nope/artifacts").status_code == 404
    assert http.get(f"/v1/artifacts/{report.id}").content == objects.get(report.key)

    objects.put(report.key, b"tampered", content_type=report.content_type)
    broken = http.get(f"/v1/artifacts/{report.id}")
    assert broken.status_code == 500 and broken.json()["code"] == "integrity_failure"

    sweep(store, objects, clock.now() + YEAR, CleanupRules())
    gone = http.get(f"/v1/artifacts/{report.id}")
    assert gone.status_code == 410 and gone.json()["reason"] == "ttl: export 90 days"
    assert http.get(f"/v1/artifacts/{report.id}/meta").json()["status"] == "deleted"
    assert http.get(f"/v1/jobs/{job.id}/artifacts").json()[0]["deletion_reason"] == "ttl: export 90 days"


def test_a_lost_object_answers_gone_and_the_sweeper_starts_without_a_bucket_rule(done) -> None:  # type: ignore[no-untyped-def]
    from actors.lifecycle.sweeper import Sweeper
    from schemas import StorageError

    store, objects, clock, job = done
    [report] = store.artifacts(job.id)
    objects.delete(report.key)
    with pytest.raises(ArtifactGone, match="lost"):
        read_artifact(store, objects, report.id)

    class NoLifecycle(MemoryObjectStore):
        def apply_lifecycle(self, expiry_days: dict[str, int]) -> bool:
            raise StorageError("AccessDenied: PutBucketLifecycle", retryable=False)

    sweeper = Sweeper(store, NoLifecycle(clock=clock), CleanupRules(), interval_s=3600, clock=clock)
    sweeper.start()  # the backstop failed; the sweeper runs anyway (PII retention depends on it)
    sweeper.stop()
    assert sweeper.runs == 1
