"""Unit tests of the object-store interface on its filesystem backend, key rules and helpers."""

from __future__ import annotations

import hashlib
import os
import urllib.request
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from actors.object_store import find_job_object, legacy_job_key, parse_job_key
from cluster.bootstrap import build_objects
from cluster.objects import (
    FsObjectStore,
    StoredObject,
    artifact_for,
    job_key,
)
from cluster.settings import Settings
from schemas import StoredPii
from schemas._errors import StorageError

pytestmark = pytest.mark.unit

DATA = bytes(range(256)) * 17 + b"%PDF-1.7 end"


@pytest.fixture
def store(tmp_path: Path) -> FsObjectStore:
    return FsObjectStore(tmp_path / "objects")


@pytest.fixture
def key() -> str:
    return job_key("acme", f"job-{uuid.uuid4().hex[:8]}", "report.pdf")


def test_put_get_round_trip_records_size_sha256_and_content_type(store: FsObjectStore, key: str) -> None:
    obj = store.put(key, DATA, content_type="application/pdf", metadata={"locale": "de-DE"})

    assert store.get(key) == DATA
    assert obj.key == key
    assert obj.size == len(DATA)
    assert obj.sha256 == hashlib.sha256(DATA).hexdigest()
    assert obj.content_type == "application/pdf"
    assert obj.metadata == {"locale": "de-DE"}
    assert obj.local_path is not None and Path(obj.local_path).read_bytes() == DATA
    assert obj.uri == Path(obj.local_path).as_uri() and obj.uri.startswith("file:///")
    assert Path(obj.local_path) == (store.root / key).absolute()


def test_stat_reads_back_what_put_recorded_from_a_fresh_store(store: FsObjectStore, key: str) -> None:
    put = store.put(key, DATA, content_type="application/pdf", metadata={"kind": "report"})

    assert FsObjectStore(store.root).stat(key) == put


def test_writes_are_atomic_and_leave_no_temp_files(store: FsObjectStore, key: str) -> None:
    for i in range(3):
        store.put(key, DATA + bytes([i]), content_type="application/pdf")

    files = sorted(p.relative_to(store.root).as_posix() for p in store.root.rglob("*") if p.is_file())
    assert files == sorted([key, f".mka-meta/{key}.json"])


def test_delete_removes_the_file_and_its_sidecar(store: FsObjectStore, key: str) -> None:
    store.put(key, DATA, content_type="application/pdf")
    store.delete(key)
    assert not (store.root / key).exists() and not (store.root / ".mka-meta" / f"{key}.json").exists()


def test_missing_key_error_names_the_key(store: FsObjectStore, key: str) -> None:
    with pytest.raises(StorageError, match=key):
        store.get(key)


def test_a_directory_is_not_an_object(store: FsObjectStore) -> None:
    store.put("jobs/j1/charts/a.png", b"png", content_type="image/png")

    assert not store.exists("jobs/j1/charts")
    with pytest.raises(StorageError):
        store.get("jobs/j1/charts")


def test_presigned_url_is_a_file_uri_that_downloads_the_bytes(store: FsObjectStore, key: str) -> None:
    store.put(key, DATA, content_type="application/pdf")

    url = store.presigned_url(key, expires_s=60)

    assert url.startswith("file:///")
    with urllib.request.urlopen(url) as response:
        assert response.read() == DATA


@pytest.mark.parametrize("expires_s", [0, -5, 7 * 24 * 3600 + 1])
def test_presigned_url_rejects_expiry_outside_s3_limits(store: FsObjectStore, key: str, expires_s: int) -> None:
    store.put(key, DATA, content_type="application/pdf")
    with pytest.raises(ValueError, match="expires_s"):
        store.presigned_url(key, expires_s=expires_s)


def test_file_written_outside_the_store_is_described_by_recomputing(store: FsObjectStore) -> None:
    path = store.root / "jobs" / "j2" / "brief.json"
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"product": "x"}')

    obj = store.stat("jobs/j2/brief.json")

    assert obj.sha256 == hashlib.sha256(b'{"product": "x"}').hexdigest()
    assert obj.content_type == "application/json"
    assert obj.size == 16


def test_file_replaced_behind_the_stores_back_gets_a_fresh_sha256(store: FsObjectStore, key: str) -> None:
    store.put(key, b"AAAA", content_type="application/pdf")
    tmp = store.root / "replacement"
    tmp.write_bytes(b"BBBB")  # same size, new inode
    os.replace(tmp, store.root / key)

    assert store.stat(key).sha256 == hashlib.sha256(b"BBBB").hexdigest()


def test_job_key_builds_project_and_job_scoped_keys() -> None:
    assert job_key("acme", "j1", "report.pdf") == "projects/acme/jobs/j1/report.pdf"
    assert job_key("acme", "j1", "charts/market-share.png") == "projects/acme/jobs/j1/charts/market-share.png"
    assert legacy_job_key("j1", "report.pdf") == "jobs/j1/report.pdf"
    assert parse_job_key("projects/acme/jobs/j1/de_DE/report.pdf") == ("acme", "j1", "de_DE/report.pdf")
    assert parse_job_key("jobs/j1/vault.bin") == (None, "j1", "vault.bin")
    assert parse_job_key("templates/t1.json") is None


def test_find_job_object_reads_the_project_layout_first_then_the_legacy_one(store: FsObjectStore) -> None:
    assert find_job_object(store, "acme", "j1", "vault.bin") is None
    store.put(legacy_job_key("j1", "vault.bin"), b"old", content_type="application/octet-stream")
    assert find_job_object(store, "acme", "j1", "vault.bin") == "jobs/j1/vault.bin"
    store.put(job_key("acme", "j1", "vault.bin"), b"new", content_type="application/octet-stream")
    assert find_job_object(store, "acme", "j1", "vault.bin") == "projects/acme/jobs/j1/vault.bin"


@pytest.mark.parametrize(
    "name", ["", "/etc/passwd", "../j2/report.pdf", "charts/../../x", "a//b", "a/", ".", "a/./b", "a\\b"]
)
def test_job_key_rejects_unsafe_names(name: str) -> None:
    with pytest.raises(ValueError):
        job_key("acme", "j1", name)


@pytest.mark.parametrize("part", ["", "a/b", "..", "."])
def test_job_key_rejects_unsafe_job_ids_and_projects(part: str) -> None:
    with pytest.raises(ValueError):
        job_key("acme", part, "report.pdf")
    with pytest.raises(ValueError):
        job_key(part, "j1", "report.pdf")


def test_an_unsafe_key_writes_nothing_on_disk(store: FsObjectStore) -> None:
    with pytest.raises(ValueError):
        store.put("../up", b"x", content_type="text/plain")
    assert not store.root.exists() and not (store.root.parent / "up").exists()


def test_os_errors_are_translated_to_storage_error(tmp_path: Path) -> None:
    root = tmp_path / "not-a-dir"
    root.write_bytes(b"")
    store = FsObjectStore(root)

    with pytest.raises(StorageError) as info:
        store.put("jobs/j1/report.pdf", b"x", content_type="application/pdf")

    assert isinstance(info.value.__cause__, OSError)


def test_build_object_store_defaults_to_the_filesystem_under_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MKA_S3_ENDPOINT", raising=False)
    settings = Settings(home=tmp_path / "home")

    store = build_objects(settings)
    obj = store.put("jobs/j1/report.pdf", DATA, content_type="application/pdf")

    assert isinstance(store, FsObjectStore)
    assert store.root == settings.artifacts_dir
    assert (tmp_path / "home" / "artifacts" / "jobs" / "j1" / "report.pdf").read_bytes() == DATA
    assert obj.local_path == str((settings.artifacts_dir / "jobs/j1/report.pdf").absolute())


def test_artifact_for_copies_the_stored_object_into_the_metadata_record(store: FsObjectStore) -> None:
    obj = store.put(job_key("acme", "j9", "report.pdf"), DATA, content_type="application/pdf")
    created = datetime(2026, 1, 1, tzinfo=timezone.utc)

    art = artifact_for(obj, project="acme", job_id="j9", kind="pdf", artifact_id="a1", created_at=created,
                       step="render", pii_class=StoredPii.PSEUDONYMIZED)

    assert (art.id, art.project, art.job_id, art.kind, art.created_at) == ("a1", "acme", "j9", "pdf", created)
    assert (art.step, art.pii_class, art.retention_class, art.lineage) == ("render", "pseudonymized", "report", [])
    assert (art.key, art.uri, art.local_path) == (obj.key, obj.uri, obj.local_path)
    assert (art.size, art.sha256, art.content_type) == (len(DATA), obj.sha256, "application/pdf")


def test_artifact_for_refuses_an_object_of_another_job() -> None:
    obj = StoredObject(key="jobs/j1/report.pdf", uri="s3://b/jobs/j1/report.pdf", size=1,
                       sha256="0" * 64, content_type="application/pdf")
    with pytest.raises(ValueError, match="not scoped"):
        artifact_for(obj, project="acme", job_id="j10", kind="pdf", artifact_id="a1", created_at=datetime.now(timezone.utc))
    with pytest.raises(ValueError):  # not a kind of the catalog
        artifact_for(obj, project="acme", job_id="j1", kind="report", artifact_id="a1", created_at=datetime.now(timezone.utc))
