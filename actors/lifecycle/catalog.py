"""Catalog rows: which kinds are announced, the raw brief's row, and the one ordered write (object, then row)."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from actors.object_store import ObjectStore, job_key
from schemas._errors import ArtifactGone, IntegrityFailure
from schemas.artifacts import (
    Artifact,
    ArtifactKind,
    ArtifactStatus,
    StoredPii,
    retention_class_of,
)

__all__ = [
    "ANNOUNCED_KINDS", "INTERNAL_KINDS", "RAW_BRIEF_NAME", "SYSTEM_PROJECT", "check_holdable", "deletion_payload",
    "hold", "hold_payload", "raw_brief_row", "release", "read_artifact", "stored_bytes", "stored_payload", "verify", "write_object",
]

INTERNAL_KINDS = frozenset({
    ArtifactKind.CHECKPOINT, ArtifactKind.VAULT, ArtifactKind.RAW_BRIEF, ArtifactKind.PROVIDERS_SCRIPT,
})
"""Kinds the pipeline keeps for itself: cataloged, swept, never listed as a job's deliverables."""

ANNOUNCED_KINDS = frozenset(ArtifactKind) - INTERNAL_KINDS
"""Kinds whose storing is announced with `artifact.stored` (what a user downloads)."""

RAW_BRIEF_NAME = "raw_brief.sealed"
"""The raw brief's name under its job's prefix; the sealed bytes live in the jobs table (`db://` URI)."""

SYSTEM_PROJECT = "mka-system"
"""The project token of events that belong to no job (the sweeper's run summaries)."""


def raw_brief_row(*, artifact_id: str, project: str, job_id: str, sealed: bytes, created_at: datetime) -> Artifact:
    """The catalog row of a job's sealed raw brief, which the job store keeps beside the job."""
    return Artifact(
        id=artifact_id, project=project, job_id=job_id, kind=ArtifactKind.RAW_BRIEF, step="submit",
        key=job_key(project, job_id, RAW_BRIEF_NAME), uri=f"db://jobs/{job_id}/brief_sealed",
        content_type="application/octet-stream", size=len(sealed), sha256=hashlib.sha256(sealed).hexdigest(),
        created_at=created_at, pii_class=StoredPii.RAW_ENCRYPTED, retention_class=retention_class_of(ArtifactKind.RAW_BRIEF),
    )


def stored_payload(artifact: Artifact) -> dict[str, object]:
    """The `artifact.stored` payload (ids and sizes only)."""
    return {"artifact_id": artifact.id, "kind": artifact.kind.value, "size": artifact.size}


def deletion_payload(artifact: Artifact) -> dict[str, object]:
    """The `artifact.deleted` / `artifact.lost` payload (ids, kind, key and reason; never content)."""
    return {"artifact_id": artifact.id, "kind": artifact.kind.value, "key": artifact.key,
            "reason": artifact.deletion_reason or ""}


def hold_payload(artifact: Artifact) -> dict[str, object]:
    """The `artifact.held` / `artifact.released` payload: ids only (the free-text reason stays on the row)."""
    return {"artifact_id": artifact.id, "kind": artifact.kind.value, "legal_hold": artifact.legal_hold}


def check_holdable(artifact: Artifact) -> None:
    """Raise `ArtifactGone` for a row that is deleted or being deleted (a hold can no longer save it)."""
    if artifact.status in (ArtifactStatus.DELETED, ArtifactStatus.DELETING):
        raise ArtifactGone(f"artifact {artifact.id} was deleted: {artifact.deletion_reason}",
                           reason=artifact.deletion_reason)


def _uuid() -> str:
    return str(uuid.uuid4())


def hold(store: Any, objects: ObjectStore, artifact_id: str, reason: str) -> Artifact:
    """Put a legal hold on a row, then take its object out of the store's own expiry (both idempotent)."""
    row = store.hold_artifact(artifact_id, reason)
    if not row.uri.startswith("db://"):
        objects.set_hold(row.key, held=True, kind=row.kind.value)
    return row


def release(store: Any, objects: ObjectStore, artifact_id: str) -> Artifact:
    """Lift a legal hold, then put the object back under the store's own expiry."""
    row = store.release_artifact(artifact_id)
    if not row.uri.startswith("db://") and row.status == ArtifactStatus.STORED:
        objects.set_hold(row.key, held=False, kind=row.kind.value)
    return row


def write_object(
    objects: ObjectStore, store: Any, *, project: str, job_id: str, name: str, data: bytes, kind: ArtifactKind,
    content_type: str, pii_class: StoredPii, step: str | None, created_at: datetime,
    new_id: Callable[[], str] | None = None,
    metadata: dict[str, str] | None = None, lineage: list[str] | None = None, traceparent: str | None = None,
) -> Artifact:
    """Write a job object, then commit its catalog row (a crash between the two leaves an orphan the sweep removes)."""
    from actors.object_store import artifact_for

    stored = objects.put(job_key(project, job_id, name), data, content_type=content_type,
                         metadata={"kind": kind.value, **(metadata or {})})
    row = artifact_for(
        stored, project=project, job_id=job_id, kind=kind, artifact_id=(new_id or _uuid)(), created_at=created_at, step=step,
        pii_class=pii_class, lineage=lineage or ([f"step:{step}"] if step else []),
    )
    return store.add_artifact(row, traceparent=traceparent)


def stored_bytes(store: Any, objects: ObjectStore, row: Artifact) -> bytes:
    """The bytes behind a row: the sealed raw brief from the job store, anything else from the object store."""
    from schemas._errors import StorageError

    if row.kind == ArtifactKind.RAW_BRIEF:
        sealed = store.sealed_brief(row.job_id) if row.job_id else None
        if sealed is None:
            raise StorageError(f"get {row.key!r}: no such object (the raw brief was purged)", retryable=False)
        return sealed
    return objects.get(row.key)


def read_artifact(store: Any, objects: ObjectStore, artifact_id: str) -> tuple[Artifact, bytes]:
    """Download an artifact, checked: `ArtifactGone` once deleted or lost, `IntegrityFailure` when its sha256 changed."""
    from schemas._errors import StorageError

    row = store.get_artifact(artifact_id)
    if row.status in (ArtifactStatus.DELETED, ArtifactStatus.DELETING):
        raise ArtifactGone(f"artifact {row.id} was deleted: {row.deletion_reason}", reason=row.deletion_reason)
    try:
        data = stored_bytes(store, objects, row)
    except StorageError as exc:
        if exc.retryable:
            raise
        raise ArtifactGone(f"artifact {row.id} is lost: its object is missing from storage",
                           reason="lost: no object") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != row.sha256:
        raise IntegrityFailure(
            f"artifact {row.id} ({row.key}) does not match its catalog row: sha256 {actual[:12]}… != {row.sha256[:12]}…"
        )
    return row, data


def verify(store: Any, objects: ObjectStore, rows: list[Artifact]) -> list[dict[str, str]]:
    """Recheck stored rows against their bytes: `[{"id", "key", "problem"}]` for each missing or changed object."""
    from schemas._errors import StorageError

    problems = []
    for row in rows:
        if row.status != ArtifactStatus.STORED:
            continue
        try:
            actual = hashlib.sha256(stored_bytes(store, objects, row)).hexdigest()
        except StorageError as exc:
            if exc.retryable:
                raise
            problems.append({"id": row.id, "key": row.key, "problem": "missing"})
            continue
        if actual != row.sha256:
            problems.append({"id": row.id, "key": row.key, "problem": f"sha256 mismatch: stored {actual}, "
                             f"cataloged {row.sha256}"})
    return problems
