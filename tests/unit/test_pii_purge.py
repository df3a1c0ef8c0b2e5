"""PII retention as part of the system: `purge_expired` (vaults and raw briefs), its schedule on a fake clock, `mka pii purge`."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from actors.periodic import Periodic
from actors.pii.retention import (
    RETENTION_KEY,
    PurgeResult,
    purge_expired,
    purge_schedule,
    vault_object_key,
)
from cluster.bootstrap import build_objects
from cluster.objects import FsObjectStore
from cluster.settings import Settings
from cluster.sql_store import SqlJobStore
from schemas import Brief, JobState
from tests.conftest import TEST_KEYRING, brief_data
from tests.fakes import FakeClock

pytestmark = pytest.mark.unit

DAY = 86400.0


def _vault(objects: FsObjectStore, job_id: str, until: datetime | None) -> None:
    metadata = {RETENTION_KEY: until.isoformat()} if until else {}
    objects.put(vault_object_key(job_id), b"sealed vault", content_type="application/octet-stream", metadata=metadata)


def _finished(store: SqlJobStore) -> str:
    job = store.submit(Brief.model_validate(brief_data()))
    store.transition(job.id, JobState.CANCELLED, expected_version=job.version)
    return job.id


@pytest.fixture
def env(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A store on a fake clock, objects, and jobs: finished with a vault, finished without, running, legacy."""
    clock = FakeClock()
    store = SqlJobStore.from_settings(Settings(home=tmp_path), clock=clock, keyring=TEST_KEYRING)
    objects = FsObjectStore(tmp_path / "objects")
    jobs = {"done": _finished(store), "early": _finished(store), "legacy": _finished(store)}
    jobs["running"] = store.submit(Brief.model_validate(brief_data())).id
    expiry = clock.now() + timedelta(days=30)
    _vault(objects, jobs["done"], expiry)
    _vault(objects, jobs["running"], expiry)
    _vault(objects, jobs["legacy"], None)  # stored before vaults carried their retention
    return store, objects, clock, jobs


def _left(store: SqlJobStore, objects: FsObjectStore, job_id: str) -> tuple[bool, bool]:
    return store.sealed_brief(job_id) is not None, objects.exists(vault_object_key(job_id))


def test_purge_deletes_vault_and_raw_brief_of_expired_finished_jobs_only(env) -> None:  # type: ignore[no-untyped-def]
    store, objects, clock, jobs = env
    clock.advance(30 * DAY - 1)
    assert purge_expired(store, objects, clock.now(), retention_days=30) == PurgeResult()
    clock.advance(1)

    dry = purge_expired(store, objects, clock.now(), retention_days=30, dry_run=True)
    assert sorted(dry.purged) == sorted([jobs["done"], jobs["early"]]) and dry.raw_briefs == 2 and dry.dry_run
    assert _left(store, objects, jobs["done"]) == (True, True)  # a dry run deletes nothing

    done = purge_expired(store, objects, clock.now(), retention_days=30)
    assert done.to_dict() == {"dry_run": False, "purged": list(dry.purged), "raw_briefs": 2}
    assert _left(store, objects, jobs["done"]) == (False, False)
    assert _left(store, objects, jobs["early"]) == (False, False)  # no vault: 30 days after it finished
    assert _left(store, objects, jobs["running"]) == (True, True)  # running jobs keep everything
    assert _left(store, objects, jobs["legacy"]) == (True, True)  # an undated vault is kept, with its brief
    assert store.get(jobs["done"]).brief.audience  # the record stays (masked or pseudonymized)
    assert purge_expired(store, objects, clock.now(), retention_days=30) == PurgeResult()  # idempotent


def test_without_a_retention_jobs_without_vault_are_kept(env) -> None:  # type: ignore[no-untyped-def]
    store, objects, clock, jobs = env
    clock.advance(365 * DAY)
    assert purge_expired(store, objects, clock.now()).purged == (jobs["done"],)
    assert _left(store, objects, jobs["early"]) == (True, False)


def test_scheduled_purge_runs_when_the_fake_clock_advances(env) -> None:  # type: ignore[no-untyped-def]
    store, objects, clock, jobs = env
    results: list[PurgeResult] = []
    schedule = purge_schedule(store, objects, retention_days=30, interval_s=3600, clock=clock, on_purge=results.append)
    assert schedule.tick() and results == [PurgeResult()]  # at start
    clock.advance(3599)
    assert not schedule.tick()
    clock.advance(1)
    assert schedule.tick() and len(results) == 2
    clock.advance(30 * DAY)
    assert schedule.tick()
    assert sorted(results[-1].purged) == sorted([jobs["done"], jobs["early"]])


def test_the_schedule_thread_wakes_up_on_the_fake_clock(env) -> None:  # type: ignore[no-untyped-def]
    store, objects, clock, jobs = env
    ran = threading.Semaphore(0)
    results: list[PurgeResult] = []

    def record(result: PurgeResult) -> None:
        results.append(result)
        ran.release()

    schedule = purge_schedule(store, objects, retention_days=30, interval_s=3600, clock=clock, on_purge=record).start()
    try:
        assert ran.acquire(timeout=30)  # the run at start
        clock.advance(30 * DAY)
        schedule.wake()
        assert ran.acquire(timeout=30)
        assert sorted(results[-1].purged) == sorted([jobs["done"], jobs["early"]])
        schedule.wake()  # not due again: nothing runs
        assert not ran.acquire(timeout=0.2) and schedule.runs == 2
    finally:
        schedule.stop()


def test_a_failing_run_does_not_end_the_schedule() -> None:
    clock, errors, calls = FakeClock(), [], []

    def flaky(now: datetime) -> None:
        calls.append(now)
        if len(calls) == 1:
            raise RuntimeError("database down")

    task = Periodic(flaky, interval_s=60, clock=clock, on_error=errors.append)
    assert task.tick() and [type(e) for e in errors] == [RuntimeError]
    clock.advance(60)
    assert task.tick() and len(calls) == 2
    with pytest.raises(ValueError):
        Periodic(flaky, interval_s=0)


def test_mka_pii_purge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cluster.cli import app

    for name in ("MKA_DATABASE_URL", "MKA_VAULT_KEY", "MKA_S3_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MKA_HOME", str(tmp_path))
    settings = Settings(home=tmp_path)
    store, objects = SqlJobStore.from_settings(settings), build_objects(settings)
    finished, running = _finished(store), store.submit(Brief.model_validate(brief_data())).id
    _vault(objects, finished, datetime.now(timezone.utc) + timedelta(days=30))  # type: ignore[arg-type]
    later = (datetime.now(timezone.utc) + timedelta(days=31)).isoformat()

    dry = CliRunner().invoke(app, ["pii", "purge", "--dry-run", "--now", later, "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output) == {"dry_run": True, "purged": [finished], "raw_briefs": 1}
    assert json.loads(CliRunner().invoke(app, ["pii", "purge", "--json"]).output)["purged"] == []  # not expired today
    done = CliRunner().invoke(app, ["pii", "purge", "--now", later, "--json"])
    assert json.loads(done.output) == {"dry_run": False, "purged": [finished], "raw_briefs": 1}
    assert store.sealed_brief(finished) is None and not objects.exists(vault_object_key(finished))
    assert store.sealed_brief(running) is not None
    assert CliRunner().invoke(app, ["pii", "purge", "--now", "yesterday"]).exit_code == 2
    text = CliRunner().invoke(app, ["pii", "purge", "--now", later])
    assert text.exit_code == 0 and "purged the PII of 0 job(s)" in text.output
