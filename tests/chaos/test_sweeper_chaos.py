"""Chaos for the artifact lifecycle: the `mka-sweeper` actor killed mid-sweep, then run again, on PostgreSQL + S3.

Nothing is deleted twice (one `artifact.deleted` event per row), nothing held is deleted, nothing is left half-done.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
import ray

from actors.lifecycle.catalog import hold, write_object
from schemas import ArtifactKind, ArtifactStatus, EventType, JobState, StoredPii
from tests.conftest import brief_data
from tests.integration.stack import Stack, running_stack

pytestmark = [pytest.mark.chaos, pytest.mark.integration, pytest.mark.timeout(900)]

JOBS, OBJECTS_PER_JOB = 10, 60  # more rows than one deletion chunk (200)


@pytest.fixture(scope="module")
def stack(pg_url: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    """A running system of its own: this module's sweeps delete everything that is due."""
    with running_stack(pg_url, tmp_path_factory.mktemp("mka-sweeper-chaos")) as running:
        yield running


def _finished_jobs_with_objects(stack: Stack) -> tuple[list[str], set[str]]:
    """Finished jobs with many catalog objects each; every fifth one held. Return job ids and held ids."""
    from schemas import Brief

    store, objects = stack.client.store, stack.client.objects
    job_ids, held = [], set()
    for _ in range(JOBS):
        job = store.submit(Brief.model_validate(brief_data()))
        job = store.transition(job.id, JobState.CANCELLED, expected_version=job.version)
        job_ids.append(job.id)
        for i in range(OBJECTS_PER_JOB):
            row = write_object(objects, store, project=job.project, job_id=job.id, name=f"charts/chart-{i}.svg",
                               data=b"<svg/>" * (i + 1), kind=ArtifactKind.CHART, content_type="image/svg+xml",
                               pii_class=StoredPii.PSEUDONYMIZED, step="render", created_at=job.created_at)
            if i % 5 == 0:
                held.add(hold(store, objects, row.id, "chaos hold").id)
    return job_ids, held


def test_sweeper_killed_mid_sweep_then_rerun_deletes_nothing_twice_and_nothing_held(stack: Stack) -> None:
    client = stack.client
    store, objects = client.store, client.objects
    job_ids, held = _finished_jobs_with_objects(stack)
    rows = [a for j in job_ids for a in store.catalog(job_id=j)]
    later = (datetime.now(timezone.utc) + timedelta(days=400)).isoformat()
    sweeper = client.handles["sweeper"]
    assert ray.get(sweeper.ping.remote()) == "ok"

    sweeper.run.remote(later)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # a chunk is marked `deleting` and its objects are going
        if any(a.status == ArtifactStatus.DELETING for a in store.catalog(kinds=[ArtifactKind.CHART])):
            break
        time.sleep(0.01)
    time.sleep(0.2)
    ray.kill(sweeper, no_restart=False)  # mid-sweep
    mid = [a for j in job_ids for a in store.catalog(job_id=j, include_deleted=True)]
    assert sum(a.status == ArtifactStatus.DELETED for a in mid) < len(rows) - len(held)  # not finished
    assert any(a.status == ArtifactStatus.DELETING for a in mid)  # killed inside a chunk

    deadline = time.monotonic() + 60
    while True:  # Ray restarts the actor (max_restarts=-1)
        try:
            ray.get(sweeper.ping.remote(), timeout=5)
            break
        except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    first = ray.get(sweeper.run.remote(later), timeout=300)
    assert first["deleted"] and ray.get(sweeper.run.remote(later), timeout=300)["deleted"] == []

    after = {a.id: a for j in job_ids for a in store.catalog(job_id=j, include_deleted=True)}
    for row in rows:
        if row.id in held:
            assert after[row.id].status == ArtifactStatus.STORED and objects.exists(row.key), row.key
        else:
            assert after[row.id].status == ArtifactStatus.DELETED and not objects.exists(row.key), row.key
    deleted_events = [m.event.payload["artifact_id"] for j in job_ids for m in store.events(j)
                      if m.event.type == EventType.ARTIFACT_DELETED]
    assert len(deleted_events) == len(set(deleted_events)) == len(rows) - len(held)  # each exactly once
    assert not set(deleted_events) & held
