"""The object store port: where job artifacts and checkpoints live (adapters live in `cluster.objects`)."""

from __future__ import annotations

import abc
import hashlib
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path  # noqa: F401 - used by the docstring example
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from schemas.artifacts import Artifact, ArtifactKind, StoredPii, retention_class_of

__all__ = [
    "EXPIRY_TAG", "ListedObject", "ObjectStore", "StoredObject", "artifact_for", "checkpoint_key", "find_job_object", "job_key",
    "job_prefix", "legacy_job_key", "parse_job_key", "read_job_object", "script_key", "vault_key",
    "CHECKPOINT_NAME", "SCRIPT_NAME", "VAULT_NAME",
]

_RESERVED = ".mka-"  # first key part reserved for the filesystem store's own files
_META_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_MAX_EXPIRY_S = 7 * 24 * 3600  # the S3 limit for presigned URLs

EXPIRY_TAG = "mka-expiry"
"""Object tag naming the kind whose bucket lifecycle rule expires the object (`held` for a legal hold); an object
stored with a `kind` metadata value gets it on S3."""


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


class ListedObject(BaseModel):
    """One entry of a prefix listing: key, size and when it was last written."""

    model_config = ConfigDict(frozen=True)

    key: str
    size: int = Field(ge=0)
    modified_at: datetime


def _check_part(what: str, value: str) -> str:
    if not value or "/" in value or value in (".", ".."):
        raise ValueError(f"invalid {what} {value!r}")
    return value


def job_prefix(project: str, job_id: str) -> str:
    """The prefix every object of a job lives under: `projects/<project>/jobs/<job_id>/`."""
    return f"projects/{_check_part('project', project)}/jobs/{_check_part('job id', job_id)}/"


def job_key(project: str, job_id: str, name: str) -> str:
    """Return the job-scoped key `projects/<project>/jobs/<job_id>/<name>`; raise ValueError for unsafe parts."""
    if not name or name.startswith("/") or ".." in name.split("/"):
        raise ValueError(f"invalid object name {name!r}")
    return _check_key(job_prefix(project, job_id) + name)


def legacy_job_key(job_id: str, name: str) -> str:
    """The key the same object had before keys carried the project: `jobs/<job_id>/<name>` (read, never written)."""
    if not name or name.startswith("/") or ".." in name.split("/"):
        raise ValueError(f"invalid object name {name!r}")
    return _check_key(f"jobs/{_check_part('job id', job_id)}/{name}")


_JOB_KEY = re.compile(r"^(?:projects/(?P<project>[^/]+)/)?jobs/(?P<job>[^/]+)/(?P<name>.+)$")


def parse_job_key(key: str) -> tuple[str | None, str, str] | None:
    """`(project, job_id, name)` of a job-scoped key in either layout (project None: legacy); None otherwise."""
    m = _JOB_KEY.match(key)
    return (m["project"], m["job"], m["name"]) if m else None


def find_job_object(objects: ObjectStore, project: str, job_id: str, name: str) -> str | None:
    """The key a job object is stored under: the project layout first, then the legacy one; None when neither."""
    for key in (job_key(project, job_id, name), legacy_job_key(job_id, name)):
        if objects.exists(key):
            return key
    return None


def read_job_object(objects: ObjectStore, job: Any, name: str) -> bytes:
    """The bytes of a job's object (`job` has `.project` and `.id`), in either layout; missing raises `StorageError`."""
    key = find_job_object(objects, job.project, job.id, name)
    return objects.get(key or job_key(job.project, job.id, name))  # the new key's error names what is missing


CHECKPOINT_NAME = "steps/{step}.json"
SCRIPT_NAME = "providers_script.json"
VAULT_NAME = "vault.bin"


def checkpoint_key(project: str, job_id: str, step: str) -> str:
    """Object key of a step's checkpointed result."""
    return job_key(project, job_id, CHECKPOINT_NAME.format(step=step))


def script_key(project: str, job_id: str) -> str:
    """Object key of a job's provider script (stub behaviour and quorum overrides)."""
    return job_key(project, job_id, SCRIPT_NAME)


def vault_key(project: str, job_id: str) -> str:
    """Object key of a job's encrypted PII vault."""
    return job_key(project, job_id, VAULT_NAME)


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
        >>> store.put(job_key("default", "j1", "report.txt"), b"hello", content_type="text/plain").size
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

    def list_objects(self, prefix: str = "") -> list[ListedObject]:
        """Every object whose key starts with `prefix`, in key order (the store's own files are never listed)."""
        if prefix and (prefix.startswith("/") or "\\" in prefix or ".." in prefix.split("/")):
            raise ValueError(f"invalid prefix {prefix!r}")
        return sorted(
            (o for o in self._list(prefix) if o.key.startswith(prefix) and not o.key.startswith(_RESERVED)),
            key=lambda o: o.key,
        )

    def apply_lifecycle(self, expiry_days: dict[str, int]) -> bool:
        """Install the store's own expiry, per kind (`EXPIRY_TAG`), as a second line of defense behind the sweeper.

        Return False where the store has none (the filesystem, memory): the sweeper alone deletes there.
        """
        return False

    def set_hold(self, key: str, *, held: bool, kind: str) -> None:
        """Take a held object out of the store's own expiry (or put it back on release); a no-op without one."""
        _check_key(key)

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

    @abc.abstractmethod
    def _list(self, prefix: str) -> Iterable[ListedObject]: ...


def artifact_for(
    obj: StoredObject, *, project: str, job_id: str | None, kind: ArtifactKind | str, artifact_id: str,
    created_at: datetime, step: str | None = None, locale: str | None = None,
    pii_class: StoredPii = StoredPii.NONE, lineage: list[str] | None = None,
) -> Artifact:
    """Build the catalog row of a stored object; a job's key must be scoped to the job (either layout), a project
    object's (no job: documents, templates) to the project outside its jobs."""
    if job_id is None:
        if not obj.key.startswith(f"projects/{project}/") or obj.key.startswith(f"projects/{project}/jobs/"):
            raise ValueError(f"object key {obj.key!r} is not a project object of project {project!r}")
    elif not (obj.key.startswith(job_prefix(project, job_id)) or obj.key.startswith(f"jobs/{job_id}/")):
        raise ValueError(f"object key {obj.key!r} is not scoped to job {job_id!r} of project {project!r}")
    kind = ArtifactKind(kind)
    return Artifact(
        id=artifact_id, project=project, job_id=job_id, kind=kind, step=step, locale=locale,
        retention_class=retention_class_of(kind, step),
        key=obj.key, uri=obj.uri, content_type=obj.content_type, size=obj.size, sha256=obj.sha256,
        created_at=created_at, local_path=obj.local_path, pii_class=pii_class, lineage=list(lineage or []),
    )
