"""Vault retention (metadata, purge on a fake clock) and re-identification only for readers allowed PII."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from actors.orchestrator.runner import vault_key
from actors.pii import Keyring, Vault, guard_registry, load_job_vault, purge_expired_vaults, reveal, reveal_model
from actors.pii.retention import RETENTION_KEY, vault_object_key
from cluster.objects import FsObjectStore
from cluster.settings import Settings
from cluster.sql_store import SqlJobStore
from schemas import JobState, MergeResult
from tests.fakes import FakeClock

pytestmark = pytest.mark.unit

KEY = Keyring([Keyring.generate()])


@pytest.fixture(autouse=True)
def _clean_registry() -> Iterator[None]:
    guard_registry().reset()
    yield
    guard_registry().reset()


def test_retention_days_default_to_thirty() -> None:
    assert Settings().retention_days == 30
    assert vault_object_key("j1") == vault_key("j1")  # the orchestrator's key of the same object


def test_vault_metadata_carries_the_expiry() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=datetime.now().astimezone().tzinfo)
    assert guard_registry().vault_metadata(now) == {}
    guard_registry().configure(keyring=KEY, retention_days=30)
    until = guard_registry().vault_metadata(now)[RETENTION_KEY]
    assert datetime.fromisoformat(until) == now + timedelta(days=30)


def _finished_job(store: SqlJobStore, make_brief, state: JobState = JobState.CANCELLED) -> str:  # type: ignore[no-untyped-def]
    job = store.submit(make_brief())
    store.transition(job.id, state, expected_version=job.version)
    return job.id


def test_expired_vaults_of_finished_jobs_are_purged(tmp_path: Path, make_brief) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock()
    store = SqlJobStore.from_settings(Settings(home=tmp_path), clock=clock)
    objects = FsObjectStore(tmp_path / "objects")
    guard_registry().configure(keyring=KEY, retention_days=30)
    old, fresh, legacy = (_finished_job(store, make_brief) for _ in range(3))
    running = store.submit(make_brief()).id
    for job_id in (old, running):
        objects.put(vault_key(job_id), Vault().encrypt(KEY, job_id), content_type="application/octet-stream",
                    metadata=guard_registry().vault_metadata(clock.now()))
    clock.advance(10 * 86400)
    objects.put(vault_key(fresh), Vault().encrypt(KEY, fresh), content_type="application/octet-stream",
                metadata=guard_registry().vault_metadata(clock.now()))
    objects.put(vault_key(legacy), Vault().encrypt(KEY, legacy), content_type="application/octet-stream")  # no metadata

    clock.advance(19 * 86400)
    assert purge_expired_vaults(store, objects, clock.now()) == []
    clock.advance(1 * 86400)  # 30 days after the first vaults
    assert purge_expired_vaults(store, objects, clock.now()) == [old]
    assert not objects.exists(vault_key(old))
    assert objects.exists(vault_key(running))  # a running job keeps its vault
    assert objects.exists(vault_key(fresh)) and objects.exists(vault_key(legacy))
    clock.advance(10 * 86400)
    assert purge_expired_vaults(store, objects, clock.now()) == [fresh]


def _vault() -> Vault:
    vault = Vault()
    vault.placeholder_for("Sabine Fischer", "PERSON")
    vault.placeholder_for("sabine.fischer@example.org", "EMAIL_ADDRESS")
    return vault


def test_reveal_only_when_the_reader_may_see_pii() -> None:
    text = "Ask <PERSON_1> (<EMAIL_ADDRESS_1>); <PERSON_7> is unknown"
    assert reveal(text, _vault(), allow_pii=False) == text
    assert reveal(text, _vault(), allow_pii=True) == "Ask Sabine Fischer (sabine.fischer@example.org); <PERSON_7> is unknown"


def test_reveal_a_merge_result(tmp_path: Path) -> None:
    merge = MergeResult.model_validate(
        {
            "claims": [{"text": "<PERSON_1> expects growth", "providers": ["openai"], "member_claim_ids": ["c1"],
                        "agreement": "single", "grounding": "unverifiable", "hallucination": False, "reasons": [],
                        "evidence_ids": []}],
            "disagreements": [],
            "degraded": False,
            "quorum": {"required": 2, "received": 3, "missing": []},
        }
    )
    objects = FsObjectStore(tmp_path)
    objects.put(vault_key("j1"), _vault().encrypt(KEY, "j1"), content_type="application/octet-stream")
    vault = load_job_vault("j1", objects=objects, keyring=KEY)
    assert reveal_model(merge, vault, allow_pii=False) is merge
    shown = reveal_model(merge, vault, allow_pii=True)
    assert shown.claims[0].text == "Sabine Fischer expects growth"
    assert merge.claims[0].text == "<PERSON_1> expects growth"  # the stored result is untouched
    assert len(load_job_vault("missing", objects=objects, keyring=KEY)) == 0
