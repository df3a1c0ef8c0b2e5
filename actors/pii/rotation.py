"""Key rotation: re-seal every job's sealed blobs under the newest master key, then the key check.

A job's sealed blobs are its vault (`projects/<project>/jobs/<id>/vault.bin` in the object store, and a
legacy `jobs/<id>/vault.bin` where one is left) and its raw brief (sealed in the job store's record,
`JobStore.sealed_brief`); uploaded documents (`projects/<project>/documents/<id>/document.sealed`) are
sealed per document. Their catalog rows follow the new bytes.

Run it while no orchestrator or PII actor runs: a running process keeps sealing with the keyring it
loaded at start, and a vault written during the re-seal could be overwritten by its older copy.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from actors.job_store import JobStore
from actors.object_store import job_key, legacy_job_key
from actors.pii.briefs import RAW_BRIEF_PURPOSE
from actors.pii.keys import Keyring, SealError
from actors.pii.vault import VAULT_PURPOSE, add_key, load_keyring, seal_keycheck
from schemas.artifacts import ArtifactKind, ArtifactStatus

DOCUMENT_PURPOSE = "document"  # as `actors.documents.store` seals uploads

if TYPE_CHECKING:
    from cluster.settings import Settings

__all__ = ["SEALED_OBJECTS", "RotationResult", "reseal_jobs", "rotate_key"]

SEALED_OBJECTS: tuple[tuple[str, str], ...] = (("vault.bin", VAULT_PURPOSE),)
"""Sealed objects of a job in the object store: (name under the job's prefix, seal purpose); a new one adds a row."""


@dataclass(frozen=True)
class RotationResult:
    """What a re-seal did: blobs re-sealed, blobs already under the primary key, blobs that did not open."""

    rotated: int
    unchanged: int
    key_id: str
    failed: tuple[str, ...] = field(default=())


def reseal_jobs(store: JobStore, objects: Any, keyring: Keyring, *, limit: int = 1_000_000) -> RotationResult:
    """Re-seal every sealed blob of the newest `limit` jobs that is not under the primary key.

    Objects keep their content type and metadata (the vault's `retention-until`). A blob that does
    not open is left as it is and reported in `failed` (its object key, or `job <id> raw brief`).
    """
    outcomes: Counter[str] = Counter()
    failed: list[str] = []
    for job in store.list_jobs(limit=limit):
        found = [(f"job {job.id} raw brief", _reseal_brief(store, keyring, job.id))]
        for name, purpose in SEALED_OBJECTS:
            # Both layouts: a legacy job resumed after the upgrade may hold an old copy beside the new one.
            for key in (job_key(job.project, job.id, name), legacy_job_key(job.id, name)):
                if objects.exists(key):
                    found.append((key, _reseal_object(store, objects, keyring, job.id, key, purpose)))
        for where, outcome in found:
            outcomes[outcome] += 1
            if outcome == "failed":
                failed.append(where)
    for row in store.catalog(kinds=[ArtifactKind.DOCUMENT]):  # uploaded documents, sealed per document id
        if row.status == ArtifactStatus.STORED and objects.exists(row.key):
            outcome = _reseal_object(store, objects, keyring, row.id, row.key, DOCUMENT_PURPOSE)
            outcomes[outcome] += 1
            if outcome == "failed":
                failed.append(row.key)
    return RotationResult(
        rotated=outcomes["rotated"], unchanged=outcomes["unchanged"], key_id=keyring.primary_id, failed=tuple(failed)
    )


_Outcome = Literal["rotated", "unchanged", "failed", "absent"]


def _reseal_brief(store: JobStore, keyring: Keyring, job_id: str) -> _Outcome:
    sealed = store.sealed_brief(job_id)
    if sealed is None:
        return "absent"
    if not keyring.needs_rotation(sealed):
        return "unchanged"
    try:
        resealed = keyring.rotate(job_id, sealed, purpose=RAW_BRIEF_PURPOSE)
    except SealError:
        return "failed"
    return "rotated" if store.reseal_brief(job_id, resealed) else "absent"  # purged meanwhile


def _reseal_object(store: JobStore, objects: Any, keyring: Keyring, job_id: str, key: str, purpose: str) -> _Outcome:
    blob = objects.get(key)
    if not keyring.needs_rotation(blob):
        return "unchanged"
    try:
        resealed = keyring.rotate(job_id, blob, purpose=purpose)
    except SealError:
        return "failed"
    info = objects.stat(key)
    stored = objects.put(key, resealed, content_type=info.content_type, metadata=dict(info.metadata))
    row = store.artifact_at(key)
    if row is not None:  # the catalog's size and sha256 follow the new bytes (verify checks them)
        store.add_artifact(row.model_copy(update={"size": stored.size, "sha256": stored.sha256}))
    return "rotated"


def rotate_key(settings: Settings, store: JobStore, objects: Any, *, new_key: bool = True) -> RotationResult:
    """Add a master key (unless `new_key` is false), re-seal every job's blobs under the primary key.

    The key check moves to the primary key only when every blob was re-sealed, so the older keys
    stay required (and checked at start) until then; afterwards they can be dropped from the key
    file or `MKA_VAULT_KEY`. Raises `VaultKeyError` when a new key is asked for but the keys come
    from `MKA_VAULT_KEY`.

    Example (with a job store and an object store at hand):
        >>> rotate_key(settings, store, objects)  # doctest: +SKIP
        RotationResult(rotated=12, unchanged=0, key_id='3f2a…', failed=())
    """
    keyring = add_key(settings) if new_key else load_keyring(settings)
    result = reseal_jobs(store, objects, keyring)
    if not result.failed:
        seal_keycheck(settings, keyring)
    return result
