"""PII retention as a rule of the artifact lifecycle: `purge_expired` (vaults and raw briefs), the sweeper's schedule on a
fake clock, `mka pii purge`."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from typer.testing import CliRunner

from actors.lifecycle.catalog import write_object
from actors.lifecycle.sweep import SweepResult
from actors.lifecycle.sweeper import Sweeper
from actors.object_store import VAULT_NAME, legacy_job_key, parse_job_key, vault_key
from actors.periodic import Periodic
from actors.pii.retention import RETENTION_KEY, PurgeResult, purge_expired
from cluster.bootstrap import build_objects
from cluster.objects import FsObjectStore
from cluster.settings import Settings
from cluster.sql_store import SqlJobStore
from schemas import ArtifactKind, Brief, JobState, StoredPii
from schemas.lifecycle import CleanupRules
from tests.conftest import TEST_KEYRING, brief_data
from tests.fakes import FakeClock

pytestmark = pytest.mark.unit

DAY = 86400.0


def _vault(store: SqlJobStore, objects: FsObjectStore, job_id: str, until: datetime | None) -> None:
    metadata = {RETENTION_KEY: until.isoformat()} if until else {}
    write_object(objects, store, project=store.get(job_id).project, job_id=job_id, name=VAULT_NAME, data=b"sealed vault",
                 kind=ArtifactKind.VAULT, content_type="application/octet-stream", pii_class=StoredPii.RAW_ENCRYPTED,
                 step="redact", created_at=store.get(job_id).created_at, metadata=metadata)


def _finished(store: SqlJobStore) -> str:
    job = store.submit(Brief.model_validate(brief_data()))
    store.transition(job.id, JobState.CANCELLED, expected_version=job.version)
    return job.id


@pytest.fixture
def env(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A store on a fake clock, objects, and jobs: finished with a vault, finished without, running, and a legacy
    vault (written before keys carried the project, so without a catalog row)."""
    clock = FakeClock()
    store = SqlJobStore.from_settings(Settings(home=tmp_path), clock=clock, keyring=TEST_KEYRING)
    objects = FsObjectStore(tmp_path / "objects")
    jobs = {"done": _finished(store), "early": _finished(store), "legacy": _finished(store)}
    jobs["running"] = store.submit(Brief.model_validate(brief_data())).id
    expiry = clock.now() + timedelta(days=30)
    _vault(store, objects, jobs["done"], expiry)
    _vault(store, objects, jobs["running"], expiry)
    objects.put(legacy_job_key(jobs["legacy"], VAULT_NAME), b"sealed vault", content_type="application/octet-stream")
    return store, objects, clock, jobs


def _left(store: SqlJobStore, objects: FsObjectStore, job_id: str) -> tuple[bool, bool]:
    project = store.get(job_id).project
    vault = objects.exists(vault_key(project, job_id)) or objects.exists(legacy_job_key(job_id, VAULT_NAME))
    return store.sealed_brief(job_id) is not None, vault


def test_purge_deletes_vault_and_raw_brief_of_expired_finished_jobs_only(env) -> None:  # type: ignore[no-untyped-def]
    store, objects, clock, jobs = env
    clock.advance(30 * DAY - 1)
    assert purge_expired(store, objects, clock.now(), retention_days=30) == PurgeResult()
    clock.advance(1)

    dry = purge_expired(store, objects, clock.now(), retention_days=30, dry_run=True)
    assert sorted(dry.purged) == sorted([jobs["done"], jobs["early"], jobs["legacy"]]) and dry.raw_briefs == 3
    assert dry.dry_run
    assert _left(store, objects, jobs["done"]) == (True, True)  # a dry run deletes nothing

    done = purge_expired(store, objects, clock.now(), retention_days=30)
    assert done.to_dict() == {"dry_run": False, "purged": list(dry.purged), "raw_briefs": 3}
    assert _left(store, objects, jobs["done"]) == (False, False)
    assert _left(store, objects, jobs["early"]) == (False, False)  # no vault: 30 days after it finished
    assert _left(store, objects, jobs["running"]) == (True, True)  # running jobs keep everything
    # A legacy vault (no row yet) is adopted by the purge, then purged in the same run.
    assert _left(store, objects, jobs["legacy"]) == (False, False)
    assert store.get(jobs["done"]).brief.audience  # the record stays (masked or pseudonymized)
    assert purge_expired(store, objects, clock.now(), retention_days=30) == PurgeResult()  # idempotent


def test_a_project_override_and_a_legal_hold_keep_pii_longer(env) -> None:  # type: ignore[no-untyped-def]
    store, objects, clock, jobs = env
    [vault] = [a for a in store.catalog(job_id=jobs["done"]) if a.kind == ArtifactKind.VAULT]
    store.hold_artifact(vault.id, "litigation 2026-17")
    clock.advance(30 * DAY)
    rules = CleanupRules(projects={store.get(jobs["done"]).project: {"pii_retention_days": 60}})
    first = purge_expired(store, objects, clock.now(), rules=rules)
    assert sorted(first.purged) == sorted([jobs["early"], jobs["legacy"]])  # other projects: 30 days
    clock.advance(30 * DAY)
    purged = purge_expired(store, objects, clock.now(), rules=rules)
    assert purged.purged == (jobs["done"],) and purged.raw_briefs == 1  # the other jobs are in other projects
    assert _left(store, objects, jobs["done"]) == (False, True)  # the held vault stays, its brief goes


def test_the_sweeper_runs_the_pii_rule_when_the_fake_clock_advances(env) -> None:  # type: ignore[no-untyped-def]
    store, objects, clock, jobs = env
    results: list[SweepResult] = []
    sweeper = Sweeper(store, objects, CleanupRules(), interval_s=3600, clock=clock, on_sweep=results.append)
    assert sweeper.schedule.tick() and results[0].deleted == []  # at start
    clock.advance(3599)
    assert not sweeper.schedule.tick()
    clock.advance(1)
    assert sweeper.schedule.tick() and len(results) == 2
    clock.advance(30 * DAY)
    assert sweeper.schedule.tick()
    gone = {(d["kind"], parse_job_key(d["key"])[1]) for d in results[-1].deleted}  # type: ignore[index]
    assert {("vault", jobs["done"]), ("raw_brief", jobs["done"]), ("raw_brief", jobs["early"]),
            ("vault", jobs["legacy"])} <= gone  # the legacy vault was adopted at start
    assert _left(store, objects, jobs["running"]) == (True, True)


def test_the_sweeper_thread_wakes_up_on_the_fake_clock(env) -> None:  # type: ignore[no-untyped-def]
    store, objects, clock, jobs = env
    ran = threading.Semaphore(0)
    results: list[SweepResult] = []

    def record(result: SweepResult) -> None:
        results.append(result)
        ran.release()

    sweeper = Sweeper(store, objects, CleanupRules(), interval_s=3600, clock=clock, on_sweep=record).start()
    try:
        assert ran.acquire(timeout=30)  # the run at start
        clock.advance(30 * DAY)
        sweeper.schedule.wake()
        assert ran.acquire(timeout=30)
        assert _left(store, objects, jobs["done"]) == (False, False)
        sweeper.schedule.wake()  # not due again: nothing runs
        assert not ran.acquire(timeout=0.2) and sweeper.runs == 2
    finally:
        sweeper.stop()


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
    _vault(store, objects, finished, datetime.now(timezone.utc) + timedelta(days=30))  # type: ignore[arg-type]
    later = (datetime.now(timezone.utc) + timedelta(days=31)).isoformat()

    dry = CliRunner().invoke(app, ["pii", "purge", "--dry-run", "--now", later, "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output) == {"dry_run": True, "purged": [finished], "raw_briefs": 1}
    assert json.loads(CliRunner().invoke(app, ["pii", "purge", "--json"]).output)["purged"] == []  # not expired today
    done = CliRunner().invoke(app, ["pii", "purge", "--now", later, "--json"])
    assert json.loads(done.output) == {"dry_run": False, "purged": [finished], "raw_briefs": 1}
    assert store.sealed_brief(finished) is None and not objects.exists(vault_key(store.get(finished).project, finished))
    assert store.sealed_brief(running) is not None
    assert CliRunner().invoke(app, ["pii", "purge", "--now", "yesterday"]).exit_code == 2
    text = CliRunner().invoke(app, ["pii", "purge", "--now", later])
    assert text.exit_code == 0 and "purged the PII of 0 job(s)" in text.output
