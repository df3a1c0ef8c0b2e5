"""The object store contract, run on every implementation: the in-memory fake, the filesystem, and S3 (moto).

What each backend adds (file URIs, S3 headers, atomic writes, bucket creation) stays in its own suite.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator

import pytest

from actors.object_store import ObjectStore, job_key
from cluster.objects import FsObjectStore, S3ObjectStore
from schemas import StorageError
from tests.fakes import MemoryObjectStore
from tests.integration.s3_server import S3Server, s3_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration

DATA = bytes(range(256)) * 17 + b"%PDF-1.7 end"


@pytest.fixture(params=["memory", "filesystem", "s3"])
def store(request: pytest.FixtureRequest, tmp_path) -> Iterator[ObjectStore]:  # type: ignore[no-untyped-def]
    """The port on each implementation."""
    if request.param == "memory":
        yield MemoryObjectStore()
    elif request.param == "filesystem":
        yield FsObjectStore(tmp_path / "objects")
    else:
        server: S3Server = request.getfixturevalue("s3_server")
        yield S3ObjectStore(endpoint=server.endpoint, access_key=server.access_key, secret_key=server.secret_key,
                            bucket=f"mka-test-{uuid.uuid4().hex[:12]}", region=server.region, secure=False)


@pytest.fixture
def key() -> str:
    """A fresh job-scoped key."""
    return job_key("acme", f"job-{uuid.uuid4().hex[:8]}", "report.pdf")


def test_put_get_round_trip_describes_what_was_stored(store: ObjectStore, key: str) -> None:
    obj = store.put(key, DATA, content_type="application/pdf", metadata={"locale": "de-de"})
    assert store.get(key) == DATA
    assert (obj.key, obj.size, obj.content_type, obj.metadata) == (key, len(DATA), "application/pdf", {"locale": "de-de"})
    assert obj.sha256 == hashlib.sha256(DATA).hexdigest()
    assert store.stat(key) == obj


def test_overwrite_replaces_bytes_content_type_and_hash(store: ObjectStore, key: str) -> None:
    store.put(key, b"first version", content_type="text/plain")
    second = store.put(key, b"<p>second</p>", content_type="text/html")
    assert store.get(key) == b"<p>second</p>"
    assert store.stat(key) == second and second.sha256 == hashlib.sha256(b"<p>second</p>").hexdigest()


def test_exists_and_delete_and_delete_again(store: ObjectStore, key: str) -> None:
    assert not store.exists(key)
    store.put(key, DATA, content_type="application/pdf")
    assert store.exists(key)
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)  # deleting a missing key is a no-op, as in S3


@pytest.mark.parametrize("op", ["get", "stat", "presigned_url"])
def test_missing_key_raises_non_retryable_storage_error(store: ObjectStore, key: str, op: str) -> None:
    with pytest.raises(StorageError) as info:
        getattr(store, op)(key)
    assert info.value.retryable is False


def test_presigned_url_of_a_stored_object_names_it(store: ObjectStore, key: str) -> None:
    store.put(key, DATA, content_type="application/pdf")
    assert key.rsplit("/", 1)[1] in store.presigned_url(key, expires_s=60)


@pytest.mark.parametrize("bad", ["", "/abs", "../up", "a/../b", "a//b", ".mka-meta/jobs/x.json", "x\x00y"])
def test_every_operation_rejects_unsafe_keys(store: ObjectStore, bad: str) -> None:
    with pytest.raises(ValueError):
        store.put(bad, b"x", content_type="text/plain")
    for op in (store.get, store.exists, store.delete, store.stat, store.presigned_url):
        with pytest.raises(ValueError):
            op(bad)


@pytest.mark.parametrize("metadata", [{"Locale": "de"}, {"sha256": "0" * 64}, {"a b": "x"}, {"note": "a\nb"}, {"n": "é"}])
def test_put_rejects_metadata_that_would_not_survive_as_s3_headers(
    store: ObjectStore, key: str, metadata: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match="metadata"):
        store.put(key, b"x", content_type="text/plain", metadata=metadata)
    assert not store.exists(key)


def test_list_objects_under_a_prefix(store: ObjectStore) -> None:
    from datetime import datetime, timedelta, timezone

    job = f"job-{uuid.uuid4().hex[:8]}"
    keys = [job_key("acme", job, name) for name in ("report.pdf", "steps/merge.json", "de_DE/report.pdf")]
    for i, k in enumerate(keys):
        store.put(k, b"x" * (i + 1), content_type="application/octet-stream")
    store.put(job_key("other", job, "report.pdf"), b"y", content_type="application/pdf")
    listed = store.list_objects(f"projects/acme/jobs/{job}/")
    assert [o.key for o in listed] == sorted(keys)  # in key order, nothing of another prefix
    assert {o.key: o.size for o in listed} == {k: i + 1 for i, k in enumerate(keys)}
    now = datetime.now(timezone.utc)
    assert all(o.modified_at.tzinfo is not None and abs(o.modified_at - now) < timedelta(minutes=5) for o in listed)
    assert [o.key for o in store.list_objects(f"projects/acme/jobs/{job}/de_")] == [keys[2]]  # a partial last part
    store.delete(keys[0])
    assert keys[0] not in {o.key for o in store.list_objects("projects/")}
    assert store.list_objects("projects/nobody/") == []
    with pytest.raises(ValueError):
        store.list_objects("../etc")
