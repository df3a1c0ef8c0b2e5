"""Vault retention metadata, and re-identification only for readers allowed PII (the purge: test_pii_purge)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from actors.object_store import VAULT_NAME, legacy_job_key, vault_key
from actors.pii import (
    Keyring,
    Vault,
    guard_registry,
    load_job_vault,
    reveal,
    reveal_model,
)
from actors.pii.retention import RETENTION_KEY
from cluster.objects import FsObjectStore
from cluster.settings import Settings
from schemas import MergeResult

pytestmark = pytest.mark.unit

KEY = Keyring([Keyring.generate()])


@pytest.fixture(autouse=True)
def _clean_registry() -> Iterator[None]:
    guard_registry().reset()
    yield
    guard_registry().reset()


def test_retention_days_default_to_thirty() -> None:
    assert Settings().retention_days == 30
    assert vault_key("acme", "j1") == "projects/acme/jobs/j1/vault.bin"


def test_vault_metadata_carries_the_expiry() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=datetime.now().astimezone().tzinfo)
    assert guard_registry().vault_metadata(now) == {}
    guard_registry().configure(keyring=KEY, retention_days=30)
    until = guard_registry().vault_metadata(now)[RETENTION_KEY]
    assert datetime.fromisoformat(until) == now + timedelta(days=30)


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
    objects.put(vault_key("acme", "j1"), _vault().encrypt(KEY, "j1"), content_type="application/octet-stream")
    vault = load_job_vault(SimpleNamespace(project="acme", id="j1"), objects=objects, keyring=KEY)
    assert reveal_model(merge, vault, allow_pii=False) is merge
    shown = reveal_model(merge, vault, allow_pii=True)
    assert shown.claims[0].text == "Sabine Fischer expects growth"
    assert merge.claims[0].text == "<PERSON_1> expects growth"  # the stored result is untouched
    assert len(load_job_vault(SimpleNamespace(project="acme", id="missing"), objects=objects, keyring=KEY)) == 0
    # A vault written before keys carried the project is read from its legacy key.
    objects.put(legacy_job_key("j2", VAULT_NAME), _vault().encrypt(KEY, "j2"), content_type="application/octet-stream")
    assert len(load_job_vault(SimpleNamespace(project="acme", id="j2"), objects=objects, keyring=KEY)) == 2
