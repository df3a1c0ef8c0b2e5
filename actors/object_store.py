"""The object store port: where job artifacts and checkpoints live (adapters live in `cluster.objects`)."""

from __future__ import annotations

import abc
import hashlib
import re
from datetime import datetime
from pathlib import Path  # noqa: F401 - used by the docstring example

from pydantic import BaseModel, ConfigDict, Field

from schemas.artifacts import Artifact

__all__ = ["ObjectStore", "StoredObject", "artifact_for", "checkpoint_key", "job_key", "script_key", "vault_key"]

_RESERVED = ".mka-"  # first key part reserved for the filesystem store's own files
_META_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_MAX_EXPIRY_S = 7 * 24 * 3600  # the S3 limit for presigned URLs


class StoredObject(BaseModel):
    """What an object store holds under one key, and where."""

    model_config = ConfigDict(frozen=True)

    key: str
    uri: str = Field(description="file:// or s3://bucket/key URI of the object.")
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    content_type: str
    local_path: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict, description="User metadata given to `put`.")


def _check_key(key: str) -> str:
    parts = key.split("/")
    if not key or len(key.encode()) > 1024 or "\\" in key or "\x00" in key:
        raise ValueError(f"invalid object key {key!r}")
    if any(part in ("", ".", "..") for part in parts) or parts[0].startswith(_RESERVED):
        raise ValueError(f"invalid object key {key!r}: empty, relative or reserved part")
    return key


def job_key(job_id: str, name: str) -> str:
    """Return the job-scoped key `jobs/<job_id>/<name>`; raise ValueError for unsafe ids or names."""
    if not job_id or "/" in job_id or job_id in (".", ".."):
        raise ValueError(f"invalid job id {job_id!r}")
    if not name or name.startswith("/") or ".." in name.split("/"):
        raise ValueError(f"invalid object name {name!r}")
    return _check_key(f"jobs/{job_id}/{name}")


def checkpoint_key(job_id: str, step: str) -> str:
    """Object key of a step's checkpointed result."""
    return job_key(job_id, f"steps/{step}.json")


def script_key(job_id: str) -> str:
    """Object key of a job's provider script (stub behaviour and quorum overrides)."""
    return job_key(job_id, "providers_script.json")


def vault_key(job_id: str) -> str:
    """Object key of a job's encrypted PII vault."""
    return job_key(job_id, "vault.bin")


def _check_metadata(metadata: dict[str, str]) -> dict[str, str]:
    for k, v in metadata.items():
        if not _META_KEY.fullmatch(k) or k == "sha256":
            raise ValueError(f"invalid metadata key {k!r}: use [a-z0-9-] only; 'sha256' is reserved")
        if not (v.isascii() and v.isprintable()):
            raise ValueError(f"invalid metadata value for {k!r}: printable ASCII only")
    return dict(metadata)


class ObjectStore(abc.ABC):
    """Where job artifacts live; keys are relative and `/`-separated (build them with `job_key`).

    Missing keys raise `StorageError(retryable=False)`; infrastructure failures raise a retryable one.

    Example:
        >>> from cluster.objects import FsObjectStore
        >>> store = FsObjectStore(Path("/tmp/mka-doc"))
        >>> store.put(job_key("j1", "report.txt"), b"hello", content_type="text/plain").size
        5
    """

    def put(self, key: str, data: bytes, *, content_type: str, metadata: dict[str, str] | None = None) -> StoredObject:
        """Store `data` under `key`, replacing any object there, and describe what was stored."""
        meta = _check_metadata(metadata or {})
        return self._put(_check_key(key), bytes(data), content_type, hashlib.sha256(data).hexdigest(), meta)

    def get(self, key: str) -> bytes:
        """Return the bytes stored under `key`."""
        return self._get(_check_key(key))

    def exists(self, key: str) -> bool:
        """Tell whether an object is stored under `key`."""
        return self._exists(_check_key(key))

    def delete(self, key: str) -> None:
        """Remove the object under `key`; removing a missing key is a no-op (as in S3)."""
        self._delete(_check_key(key))

    def presigned_url(self, key: str, *, expires_s: int | None = None) -> str:
        """Return a URL that downloads the object without credentials (valid `expires_s` seconds)."""
        if expires_s is not None and not 0 < expires_s <= _MAX_EXPIRY_S:
            raise ValueError(f"expires_s must be in 1..{_MAX_EXPIRY_S}, got {expires_s}")
        self._stat(_check_key(key))  # a missing key raises here, not when the URL is fetched
        return self._presign(key, expires_s)

    def stat(self, key: str) -> StoredObject:
        """Describe the object under `key` without reading it."""
        return self._stat(_check_key(key))

    @abc.abstractmethod
    def _put(self, key: str, data: bytes, content_type: str, sha256: str, metadata: dict[str, str]) -> StoredObject: ...

    @abc.abstractmethod
    def _get(self, key: str) -> bytes: ...

    @abc.abstractmethod
    def _exists(self, key: str) -> bool: ...

    @abc.abstractmethod
    def _delete(self, key: str) -> None: ...

    @abc.abstractmethod
    def _presign(self, key: str, expires_s: int | None) -> str: ...

    @abc.abstractmethod
    def _stat(self, key: str) -> StoredObject: ...


def artifact_for(
    obj: StoredObject, *, job_id: str, kind: str, artifact_id: str, created_at: datetime,
    retention_until: datetime | None = None,
) -> Artifact:
    """Build the artifact metadata record of a stored object; its key must be scoped to `job_id`."""
    if not obj.key.startswith(f"jobs/{job_id}/"):
        raise ValueError(f"object key {obj.key!r} is not scoped to job {job_id!r}")
    return Artifact(
        id=artifact_id, job_id=job_id, kind=kind, key=obj.key, uri=obj.uri, content_type=obj.content_type,
        size=obj.size, sha256=obj.sha256, created_at=created_at, retention_until=retention_until,
        local_path=obj.local_path,
    )
