"""The artifact lifecycle on S3 (moto): catalog writes, the sweep with orphans and legacy keys, holds retagged out of
the bucket lifecycle rule that backs the sweeper up."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from actors.lifecycle.catalog import hold, release, write_object
from actors.lifecycle.rules import bucket_expiry_days
from actors.lifecycle.sweep import sweep
from actors.lifecycle.sweeper import Sweeper
from actors.object_store import job_key, job_prefix, legacy_job_key
from cluster.objects import S3ObjectStore
from schemas import ArtifactKind, ArtifactStatus, JobState, StoredPii
from schemas.lifecycle import CleanupRules
from tests.fakes import FakeClock
from tests.integration.s3_server import S3Server, s3_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration


@pytest.fixture
def s3(s3_server: S3Server) -> S3ObjectStore:  # noqa: F811
    """A fresh bucket on the test S3 server."""
    return S3ObjectStore(endpoint=s3_server.endpoint, access_key=s3_server.access_key,
                         secret_key=s3_server.secret_key, bucket=f"mka-life-{uuid.uuid4().hex[:12]}",
                         region=s3_server.region)


def _write(store, s3, job, name: str, kind: ArtifactKind, step: str | None = None):  # type: ignore[no-untyped-def]
    return write_object(s3, store, project=job.project, job_id=job.id, name=name, data=f"{name}".encode(), kind=kind,
                        content_type="application/octet-stream", pii_class=StoredPii.PSEUDONYMIZED, step=step,
                        created_at=job.created_at)


def test_sweep_on_s3_with_orphans_legacy_keys_and_a_hold(sqlite_store, s3: S3ObjectStore, make_brief) -> None:  # type: ignore[no-untyped-def]
    store = sqlite_store
    job = store.submit(make_brief())
    store.transition(job.id, JobState.CANCELLED, expected_version=job.version)
    pdf = _write(store, s3, job, "report.pdf", ArtifactKind.PDF, "render")
    _write(store, s3, job, "steps/merge.json", ArtifactKind.CHECKPOINT, "merge")
    _write(store, s3, job, "vault.bin", ArtifactKind.VAULT, "redact")
    s3.put(job_key(job.project, job.id, "stray.bin"), b"crashed before its row", content_type="application/octet-stream")
    s3.put(legacy_job_key(job.id, "report.md"), b"# old layout", content_type="text/markdown")
    assert s3.expiry_tag(pdf.key) == "pdf"  # tagged for the bucket rule

    hold(store, s3, pdf.id, "audit")
    assert s3.expiry_tag(pdf.key) == "held"
    clock = FakeClock(start=job.created_at)
    rules = CleanupRules()
    later = clock.now() + timedelta(days=400)
    wall = FakeClock(start=datetime.now(timezone.utc) + timedelta(days=2))  # the stray object is past its grace
    result = sweep(store, s3, later, rules, clock=wall)
    assert {d["kind"] for d in result.deleted} == {"checkpoint", "vault", "raw_brief", "markdown"}  # adopted, then due
    assert [a["key"] for a in result.adopted] == [legacy_job_key(job.id, "report.md")]
    assert [o["key"] for o in result.orphan_objects] == [job_key(job.project, job.id, "stray.bin")]
    assert [o.key for o in s3.list_objects(job_prefix(job.project, job.id))] == [pdf.key]
    assert [h["id"] for h in result.held] == [pdf.id]
    assert s3.list_objects("jobs/") == []
    assert sweep(store, s3, later, rules).deleted == []

    release(store, s3, pdf.id)
    assert s3.expiry_tag(pdf.key) == "pdf"
    assert [d["id"] for d in sweep(store, s3, later, rules).deleted] == [pdf.id]
    assert store.get_artifact(pdf.id).status == ArtifactStatus.DELETED and not s3.exists(pdf.key)


def test_the_sweeper_installs_the_bucket_lifecycle_rule(sqlite_store, s3: S3ObjectStore) -> None:  # type: ignore[no-untyped-def]
    rules = CleanupRules(ttl_days={"pdf": 90}, bucket_margin_days=10)
    sweeper = Sweeper(sqlite_store, s3, rules, interval_s=3600, clock=FakeClock())
    sweeper.start()
    sweeper.stop()
    installed = s3.lifecycle()
    assert installed == bucket_expiry_days(rules) and installed["pdf"] == 100 and "raw_brief" not in installed
    assert installed["vault"] == rules.pii_retention_days + 10
    assert sweeper.runs == 1  # the run at start


def test_the_bucket_rules_of_others_are_kept(s3: S3ObjectStore) -> None:
    from minio.commonconfig import ENABLED, Filter
    from minio.lifecycleconfig import Expiration, LifecycleConfig, Rule

    s3._client.set_bucket_lifecycle(s3.bucket, LifecycleConfig([  # an operator's own rule
        Rule(ENABLED, rule_filter=Filter(prefix="tmp/"), rule_id="ops-tmp", expiration=Expiration(days=1))]))
    s3.apply_lifecycle({"pdf": 210})
    s3.apply_lifecycle({"pdf": 100, "html": 90})  # reapplied with other rules: ours replaced, theirs kept
    ids = sorted(r.rule_id for r in s3._client.get_bucket_lifecycle(s3.bucket).rules)
    assert ids == ["mka-expire-html", "mka-expire-pdf", "ops-tmp"] and s3.lifecycle() == {"pdf": 100, "html": 90}
