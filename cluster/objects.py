"""Object storage adapters: the filesystem default and an S3 backend via `minio` (the interface is `actors.object_store`)."""

from __future__ import annotations

import hashlib
import io
import json
import mimetypes
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import urllib3
from minio import Minio
from minio.commonconfig import ENABLED, Filter, Tag, Tags
from minio.error import MinioException, S3Error
from minio.lifecycleconfig import Expiration, LifecycleConfig, Rule
from pydantic import SecretStr

from actors.object_store import (
    EXPIRY_TAG,
    ListedObject,
    ObjectStore,
    StoredObject,
    artifact_for,
    job_key,
)
from cluster.private_files import private_dir
from schemas._errors import StorageError

__all__ = [
    "FsObjectStore", "ObjectStore", "S3ObjectStore", "StoredObject", "artifact_for", "job_key",
]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_S3_MISSING = {"NoSuchKey", "NoSuchObject", "NoSuchBucket", "ResourceNotFound"}
_S3_TRANSIENT = {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "XMinioServerNotInitialized"}


@contextmanager
def _fs_errors(op: str, key: str) -> Iterator[None]:
    try:
        yield
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError, FileExistsError, PermissionError) as exc:
        what = "no such object" if op in ("get", "stat") else exc.strerror
        raise StorageError(f"{op} {key!r}: {what}", retryable=False) from exc
    except OSError as exc:
        raise StorageError(f"{op} {key!r}: {exc.strerror or exc}") from exc


class FsObjectStore(ObjectStore):
    """Objects as files under `root`; writes are atomic, metadata sits in JSON sidecars under `root/.mka-meta`.

    Only this user may read them: files are 0600, the directories this store creates 0700.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key

    def _sidecar(self, key: str) -> Path:
        return self.root / ".mka-meta" / f"{key}.json"

    def _write_atomic(self, path: Path, data: bytes) -> None:
        tmp_dir = self.root / ".mka-tmp"
        private_dir(tmp_dir)  # job data: directories 0700, files 0600 (mkstemp's mode, kept by the rename)
        private_dir(path.parent)
        fd, tmp = tempfile.mkstemp(dir=tmp_dir)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _put(self, key: str, data: bytes, content_type: str, sha256: str, metadata: dict[str, str]) -> StoredObject:
        path = self._path(key)
        with _fs_errors("put", key):
            self._write_atomic(path, data)
            st = path.stat()
            record = {"sha256": sha256, "content_type": content_type, "metadata": metadata,
                      "size": st.st_size, "mtime_ns": st.st_mtime_ns, "ino": st.st_ino}
            self._write_atomic(self._sidecar(key), json.dumps(record).encode())
        return self._describe(key, len(data), sha256, content_type, metadata)

    def _describe(self, key: str, size: int, sha256: str, content_type: str, metadata: dict[str, str]) -> StoredObject:
        path = self._path(key).absolute()
        return StoredObject(key=key, uri=path.as_uri(), size=size, sha256=sha256, content_type=content_type,
                            local_path=str(path), metadata=metadata)

    def _get(self, key: str) -> bytes:
        with _fs_errors("get", key):
            return self._path(key).read_bytes()

    def _exists(self, key: str) -> bool:
        with _fs_errors("exists", key):
            return self._path(key).is_file()

    def _delete(self, key: str) -> None:
        with _fs_errors("delete", key):
            self._path(key).unlink(missing_ok=True)
            self._sidecar(key).unlink(missing_ok=True)

    def _presign(self, key: str, expires_s: int | None) -> str:
        return self._path(key).absolute().as_uri()

    def _stat(self, key: str) -> StoredObject:
        path = self._path(key)
        with _fs_errors("stat", key):
            st = path.stat()
            if not path.is_file():
                raise IsADirectoryError(21, "not a file", str(path))
            try:
                rec = json.loads(self._sidecar(key).read_text())
            except (FileNotFoundError, ValueError):
                rec = {}
        if (rec.get("size"), rec.get("mtime_ns"), rec.get("ino")) == (st.st_size, st.st_mtime_ns, st.st_ino):
            return self._describe(key, st.st_size, rec["sha256"], rec["content_type"], rec.get("metadata", {}))
        # Written outside the store, or a put was interrupted between file and sidecar: recompute.
        with _fs_errors("stat", key):
            sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
        guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return self._describe(key, st.st_size, sha256, guessed, {})

    def _list(self, prefix: str) -> Iterator[ListedObject]:
        # Walk only the directory the prefix names (a partial last part is filtered by the caller).
        start = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        if not start.is_dir():
            return
        with _fs_errors("list", prefix):
            for path in start.rglob("*"):
                rel = path.relative_to(self.root).as_posix()
                if rel.startswith(".mka-") or not path.is_file():
                    continue
                st = path.stat()
                yield ListedObject(key=rel, size=st.st_size, modified_at=datetime.fromtimestamp(st.st_mtime, UTC))


@contextmanager
def _s3_errors(op: str, key: str) -> Iterator[None]:
    try:
        yield
    except S3Error as exc:
        if exc.code in _S3_MISSING:
            raise StorageError(f"{op} {key!r}: no such object ({exc.code})", retryable=False) from exc
        raise StorageError(f"{op} {key!r}: S3 error {exc.code}", retryable=exc.code in _S3_TRANSIENT) from exc
    except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise StorageError(f"{op} {key!r}: {type(exc).__name__}: {exc}") from exc


def _expiry_tags(value: str) -> Tags:
    tags = Tags.new_object_tags()
    tags[EXPIRY_TAG] = value
    return tags


class S3ObjectStore(ObjectStore):
    """Objects in one bucket of an S3 API (MinIO, AWS, moto) through the `minio` SDK.

    The bucket is created on construction when missing (idempotent, safe against a concurrent
    create); each object carries its content type and its sha256 as `x-amz-meta-sha256`.

    Example:
        >>> store = S3ObjectStore(endpoint="localhost:9000", access_key="mka", secret_key="s3cret")  # doctest: +SKIP
        >>> store.presigned_url(job_key("j1", "report.pdf"), expires_s=600)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        endpoint: str,
        access_key: str | None,
        secret_key: str | SecretStr | None,
        bucket: str = "mka-artifacts",
        region: str = "us-east-1",
        secure: bool = False,
        presign_expiry_s: int = 3600,
        http_client: urllib3.PoolManager | None = None,
    ) -> None:
        secret = secret_key.get_secret_value() if isinstance(secret_key, SecretStr) else secret_key
        self.bucket = bucket
        self.presign_expiry_s = presign_expiry_s
        self._client = Minio(endpoint, access_key=access_key, secret_key=secret, secure=secure,
                             region=region, http_client=http_client)
        self._ensure_bucket()

    def _ensure_bucket(self) -> None:
        with _s3_errors("create bucket", self.bucket):
            if self._client.bucket_exists(self.bucket):
                return
            try:
                self._client.make_bucket(self.bucket)
            except S3Error as exc:  # someone else created it between our check and our create
                raced = exc.code in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists")
                if not (raced and self._client.bucket_exists(self.bucket)):
                    raise

    def _uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _put(self, key: str, data: bytes, content_type: str, sha256: str, metadata: dict[str, str]) -> StoredObject:
        headers = {f"x-amz-meta-{k}": v for k, v in {**metadata, "sha256": sha256}.items()}
        tags = _expiry_tags(metadata["kind"]) if "kind" in metadata else None
        with _s3_errors("put", key):
            self._client.put_object(self.bucket, key, io.BytesIO(data), len(data),
                                    content_type=content_type, metadata=headers, tags=tags)  # type: ignore[arg-type]
        return StoredObject(key=key, uri=self._uri(key), size=len(data), sha256=sha256,
                            content_type=content_type, metadata=metadata)

    def _get(self, key: str) -> bytes:
        with _s3_errors("get", key):
            response = self._client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

    def _exists(self, key: str) -> bool:
        try:
            self._stat(key)
        except StorageError as exc:
            if isinstance(exc.__cause__, S3Error) and exc.__cause__.code in _S3_MISSING:
                return False
            raise
        return True

    def _delete(self, key: str) -> None:
        with _s3_errors("delete", key):
            self._client.remove_object(self.bucket, key)

    def _presign(self, key: str, expires_s: int | None) -> str:
        expires = timedelta(seconds=expires_s or self.presign_expiry_s)
        with _s3_errors("presign", key):
            return self._client.presigned_get_object(self.bucket, key, expires=expires)

    def _stat(self, key: str) -> StoredObject:
        with _s3_errors("stat", key):
            st = self._client.stat_object(self.bucket, key)
        prefix = "x-amz-meta-"
        meta = {k.lower()[len(prefix):]: v for k, v in (st.metadata or {}).items() if k.lower().startswith(prefix)}
        sha256 = meta.pop("sha256", "")
        if not _SHA256.fullmatch(sha256):  # uploaded by someone else: hash the content once
            sha256 = hashlib.sha256(self._get(key)).hexdigest()
        return StoredObject(key=key, uri=self._uri(key), size=st.size or 0, sha256=sha256,
                            content_type=st.content_type or "application/octet-stream", metadata=meta)

    def apply_lifecycle(self, expiry_days: dict[str, int]) -> bool:
        """Set one bucket rule per kind: objects tagged `mka-expiry=<kind>` expire after the given days (objects
        tagged `held` match none). Rules of the bucket that are not ours (`mka-expire-*`) are kept."""
        with _s3_errors("get lifecycle", self.bucket):
            current = self._client.get_bucket_lifecycle(self.bucket)
        rules = [r for r in (current.rules if current else []) if not (r.rule_id or "").startswith("mka-expire-")]
        rules += [
            Rule(ENABLED, rule_filter=Filter(tag=Tag(EXPIRY_TAG, kind)), rule_id=f"mka-expire-{kind}",
                 expiration=Expiration(days=days))
            for kind, days in sorted(expiry_days.items())
        ]
        with _s3_errors("set lifecycle", self.bucket):
            if rules:
                self._client.set_bucket_lifecycle(self.bucket, LifecycleConfig(rules))
            else:
                self._client.delete_bucket_lifecycle(self.bucket)
        return True

    def lifecycle(self) -> dict[str, int]:
        """The bucket's expiry rules as `{kind: days}` (what `apply_lifecycle` installed)."""
        with _s3_errors("get lifecycle", self.bucket):
            config = self._client.get_bucket_lifecycle(self.bucket)
        out = {}
        for rule in config.rules if config else []:
            tag = rule.rule_filter.tag if rule.rule_filter else None
            if tag is not None and tag.key == EXPIRY_TAG and rule.expiration and rule.expiration.days:
                out[tag.value] = rule.expiration.days
        return out

    def set_hold(self, key: str, *, held: bool, kind: str) -> None:
        """Retag the object `mka-expiry=held` (no lifecycle rule matches) or back to its kind."""
        with _s3_errors("tag", key):
            self._client.set_object_tags(self.bucket, key, _expiry_tags("held" if held else kind))

    def expiry_tag(self, key: str) -> str | None:
        """The object's `mka-expiry` tag, if any."""
        with _s3_errors("get tags", key):
            tags = self._client.get_object_tags(self.bucket, key)
        return dict(tags or {}).get(EXPIRY_TAG)

    def _list(self, prefix: str) -> Iterator[ListedObject]:
        with _s3_errors("list", prefix):
            for obj in self._client.list_objects(self.bucket, prefix=prefix or None, recursive=True):
                if obj.is_dir or obj.object_name is None:
                    continue
                modified = obj.last_modified or datetime.now(UTC)
                yield ListedObject(key=obj.object_name, size=obj.size or 0, modified_at=modified)
