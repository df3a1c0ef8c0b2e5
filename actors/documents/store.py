"""Uploaded documents at rest: checked, sealed under the vault keyring, cataloged as `document` artifacts.

A document is raw user data, so it is stored like the raw brief: encrypted (AES-GCM under a key
derived for the document id, purpose `document`), with its file name inside the sealed blob (a
name can be personal), as a catalog row of kind `document` with no job (`pii_class`
raw_encrypted) that the cleanup rules expire after `ttl_days.document`. The row's id is the
document id a brief lists in `documents:`. A brief may only use documents of its own project.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import struct
from datetime import datetime

from pydantic import BaseModel, Field

from actors.documents.convert import Limits, check_document
from actors.lifecycle.catalog import read_artifact
from actors.lifecycle.rules import due_date
from actors.object_store import ObjectStore, artifact_for
from schemas import ArtifactNotFound, IntegrityFailure, InvalidInput
from schemas.artifacts import ArtifactKind, StoredPii
from schemas.lifecycle import CleanupRules

__all__ = ["DocumentInfo", "document_key", "new_document_id", "open_document", "store_document"]

PURPOSE = "document"  # `actors.pii.rotation` re-seals documents under a new master key with the same purpose


class DocumentInfo(BaseModel):
    """What an upload returns: the id to list in a brief's `documents`, and what was stored (never the name)."""

    document_id: str
    project: str
    type: str = Field(description="pdf, docx, pptx, xlsx, csv, html, md or txt.")
    size: int
    sha256: str = Field(description="Of the document as uploaded (before encryption).")
    created_at: datetime
    retention_until: datetime | None = None


def new_document_id() -> str:
    """A fresh document id: `doc-` and 16 hex digits."""
    return f"doc-{secrets.token_hex(8)}"


def document_key(project: str, document_id: str) -> str:
    """Where a document's sealed bytes live."""
    return f"projects/{project}/documents/{document_id}/document.sealed"


def _pack(name: str, data: bytes) -> bytes:
    head = json.dumps({"name": name}, ensure_ascii=False).encode()
    return struct.pack(">I", len(head)) + head + data


def _unpack(blob: bytes) -> tuple[str, bytes]:
    (size,) = struct.unpack(">I", blob[:4])
    head = json.loads(blob[4 : 4 + size])
    return str(head["name"]), blob[4 + size :]


def store_document(
    store: object, objects: ObjectStore, keyring: object, *, project: str, name: str, data: bytes, limits: Limits,
    now: datetime, rules: CleanupRules | None = None, document_id: str | None = None,
) -> DocumentInfo:
    """Check a document (type, size, zip bomb, encryption), seal it and catalog it with its retention date
    (`rules`' document TTL); `DocumentError` when the document is bad."""
    doc_type = check_document(name, data, limits)
    doc_id = document_id or new_document_id()
    sealed = keyring.seal(doc_id, _pack(name, data), purpose=PURPOSE)  # type: ignore[attr-defined]
    stored = objects.put(document_key(project, doc_id), sealed, content_type="application/octet-stream",
                         metadata={"kind": ArtifactKind.DOCUMENT.value})
    row = artifact_for(stored, project=project, job_id=None, kind=ArtifactKind.DOCUMENT, artifact_id=doc_id,
                       created_at=now, pii_class=StoredPii.RAW_ENCRYPTED, lineage=["upload"])
    row = row.model_copy(update={"retention_until": due_date(row, None, rules or CleanupRules())[0]})
    row = store.add_artifact(row)  # type: ignore[attr-defined]
    return DocumentInfo(document_id=doc_id, project=project, type=doc_type, size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), created_at=now, retention_until=row.retention_until)


def open_document(store: object, objects: ObjectStore, keyring: object, document_id: str, *,
                  project: str) -> tuple[str, bytes]:
    """A stored document's name and bytes; `ArtifactNotFound` for an unknown id or another project's,
    `ArtifactGone` once the cleanup rules deleted it, `IntegrityFailure` when its bytes changed."""
    try:
        row = store.get_artifact(document_id)  # type: ignore[attr-defined]
    except ArtifactNotFound:
        raise ArtifactNotFound(f"no document {document_id} (upload it with POST /v1/documents or --attach)") from None
    if row.kind != ArtifactKind.DOCUMENT or row.project != project:
        raise ArtifactNotFound(f"no document {document_id} in project {project}")
    _row, sealed = read_artifact(store, objects, document_id)
    opened = keyring.open(document_id, sealed, purpose=PURPOSE)  # type: ignore[attr-defined]
    try:
        return _unpack(opened)
    except (struct.error, ValueError, KeyError, TypeError) as exc:
        raise IntegrityFailure(f"document {document_id} does not open: its sealed content is damaged") from exc


def check_upload_name(name: str) -> str:
    """A usable file name for an upload: its base name, without control characters; `InvalidInput` otherwise."""
    from pathlib import PurePath

    base = PurePath(name.replace("\\", "/")).name.strip()
    if not base or any(ord(c) < 32 for c in base) or len(base) > 255:
        raise InvalidInput("the upload needs a file name with an extension (e.g. market.xlsx)")
    return base
