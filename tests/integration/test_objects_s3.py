"""Integration tests of the S3 object store against a real S3-protocol server (moto) started by the run."""

from __future__ import annotations

import hashlib
import io
import socket
import threading
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import urllib3
from minio import Minio
from minio.error import S3Error
from pydantic import SecretStr

from cluster.bootstrap import build_objects
from cluster.objects import S3ObjectStore, job_key
from cluster.settings import Settings
from schemas._errors import StorageError
from tests.integration.s3_server import S3Server, s3_server  # noqa: F401  (fixture)

pytestmark = pytest.mark.integration

DATA = bytes(range(256)) * 33 + b"%PDF-1.7 end"


def _bucket() -> str:
    return f"mka-test-{uuid.uuid4().hex[:12]}"


def _store(server: S3Server, bucket: str, *, region: str | None = None) -> S3ObjectStore:
    return S3ObjectStore(endpoint=server.endpoint, access_key=server.access_key, secret_key=server.secret_key,
                         bucket=bucket, region=region or server.region, secure=False, presign_expiry_s=900)


def _raw(server: S3Server, *, region: str | None = None) -> Minio:
    return Minio(server.endpoint, access_key=server.access_key, secret_key=server.secret_key,
                 secure=False, region=region or server.region)


@pytest.fixture
def store(s3_server: S3Server) -> S3ObjectStore:  # noqa: F811
    return _store(s3_server, _bucket())


@pytest.fixture
def key() -> str:
    return job_key("acme", f"job-{uuid.uuid4().hex[:8]}", "report.pdf")


def test_objects_are_named_by_s3_uri_and_have_no_local_path(store: S3ObjectStore, key: str) -> None:
    obj = store.put(key, DATA, content_type="application/pdf")
    assert (obj.uri, obj.local_path) == (f"s3://{store.bucket}/{key}", None)


def test_content_type_and_sha256_are_stored_on_the_object(
    s3_server: S3Server, store: S3ObjectStore, key: str  # noqa: F811
) -> None:
    put = store.put(key, DATA, content_type="application/pdf", metadata={"kind": "report"})

    raw = _raw(s3_server).stat_object(store.bucket, key)
    assert raw.metadata is not None
    assert raw.content_type == "application/pdf"
    assert raw.metadata["x-amz-meta-sha256"] == hashlib.sha256(DATA).hexdigest()
    assert raw.metadata["x-amz-meta-kind"] == "report"
    assert store.stat(key) == put


def test_object_uploaded_without_sha256_gets_it_computed(
    s3_server: S3Server, store: S3ObjectStore  # noqa: F811
) -> None:
    _raw(s3_server).put_object(store.bucket, "jobs/j1/foreign.bin", io.BytesIO(b"foreign"), 7)

    obj = store.stat("jobs/j1/foreign.bin")

    assert obj.sha256 == hashlib.sha256(b"foreign").hexdigest()
    assert obj.metadata == {}


def test_missing_key_error_chains_the_s3_error(store: S3ObjectStore, key: str) -> None:
    with pytest.raises(StorageError) as info:
        store.stat(key)
    assert isinstance(info.value.__cause__, S3Error)


def test_presigned_url_downloads_the_bytes(store: S3ObjectStore, key: str) -> None:
    store.put(key, DATA, content_type="application/pdf")

    url = store.presigned_url(key)

    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["900"]  # presign_expiry_s is the default
    assert "X-Amz-Signature" in query
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == DATA
        assert response.headers["Content-Type"] == "application/pdf"


def test_presigned_url_honours_an_explicit_expiry(store: S3ObjectStore, key: str) -> None:
    store.put(key, b"short-lived", content_type="text/plain")

    url = store.presigned_url(key, expires_s=60)

    assert urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["X-Amz-Expires"] == ["60"]
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == b"short-lived"


def test_bucket_is_created_on_construction_and_creation_is_idempotent(s3_server: S3Server) -> None:  # noqa: F811
    bucket = _bucket()
    raw = _raw(s3_server)
    assert not raw.bucket_exists(bucket)

    first = _store(s3_server, bucket)
    assert raw.bucket_exists(bucket)
    first.put("jobs/j1/a.txt", b"kept", content_type="text/plain")

    second = _store(s3_server, bucket)  # must not fail, must not wipe anything
    assert second.get("jobs/j1/a.txt") == b"kept"


def test_concurrent_bucket_creation_is_tolerated(
    s3_server: S3Server, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    # Outside us-east-1 a second create answers BucketAlreadyOwnedByYou (moto and AWS alike).
    bucket, region = _bucket(), "eu-west-1"
    _raw(s3_server, region=region).make_bucket(bucket)  # the "other" process wins the race...
    real_exists: Callable[[Minio, str], bool] = Minio.bucket_exists
    real_make = Minio.make_bucket
    calls: list[str] = []

    def stale_exists(self: Minio, name: str) -> bool:
        calls.append("exists")
        return False if calls.count("exists") == 1 else real_exists(self, name)  # ...after our check

    def recording_make(self: Minio, name: str, *args: object, **kwargs: object) -> None:
        calls.append("make")
        try:
            real_make(self, name, *args, **kwargs)  # type: ignore[arg-type]
        except S3Error as exc:
            calls.append(str(exc.code))
            raise

    monkeypatch.setattr(Minio, "bucket_exists", stale_exists)
    monkeypatch.setattr(Minio, "make_bucket", recording_make)

    store = _store(s3_server, bucket, region=region)

    assert calls == ["exists", "make", "BucketAlreadyOwnedByYou", "exists"]
    assert store.put("jobs/j1/a.txt", b"ok", content_type="text/plain").size == 2


def test_many_stores_creating_one_bucket_at_once_all_succeed(s3_server: S3Server) -> None:  # noqa: F811
    bucket = _bucket()
    errors: list[Exception] = []

    def construct() -> None:
        try:
            _store(s3_server, bucket, region="eu-west-1")
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=construct) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert errors == []
    assert _raw(s3_server, region="eu-west-1").bucket_exists(bucket)


def test_unreachable_endpoint_raises_retryable_storage_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    with pytest.raises(StorageError) as info:
        S3ObjectStore(endpoint=f"127.0.0.1:{port}", access_key="a", secret_key="b", bucket=_bucket(),
                      http_client=urllib3.PoolManager(retries=False, timeout=2.0))

    assert info.value.retryable is True
    assert isinstance(info.value.__cause__, urllib3.exceptions.HTTPError)


def test_build_object_store_picks_s3_when_an_endpoint_is_set(
    s3_server: S3Server, tmp_path: Path  # noqa: F811
) -> None:
    bucket = _bucket()
    settings = Settings(home=tmp_path, s3_endpoint=s3_server.endpoint, s3_access_key=s3_server.access_key,
                        s3_secret_key=SecretStr(s3_server.secret_key), s3_bucket=bucket, presign_expiry_s=120)

    store = build_objects(settings)
    obj = store.put("jobs/j1/report.pdf", DATA, content_type="application/pdf")

    assert isinstance(store, S3ObjectStore)
    assert obj.uri == f"s3://{bucket}/jobs/j1/report.pdf"
    assert _raw(s3_server).bucket_exists(bucket)
    assert "X-Amz-Expires=120" in store.presigned_url("jobs/j1/report.pdf")
    assert not settings.artifacts_dir.exists()
