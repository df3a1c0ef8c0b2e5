"""Stored Figma templates: versioned project objects (kind `template`) under `projects/<project>/templates/<id>/`.

A template is stored as `{"mka_template": 1, "template_id", "version", "name", "source", "fields",
"warnings", "figma_sha256", "figma": <the Figma file JSON>}`. Adding a file under an existing name
adds a version; adding a file again that a version holds returns that version. Templates are kept (no cleanup TTL).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import datetime
from typing import Any

from actors.figma.template import scan_template, template_name, template_roots
from actors.object_store import ObjectStore, artifact_for
from schemas import ArtifactKind, ArtifactNotFound, InvalidInput
from schemas.artifacts import ArtifactStatus
from schemas.figma import TEMPLATE_ID_PATTERN, TEMPLATE_REF_PATTERN, TemplateInfo

__all__ = [
    "MAX_TEMPLATE_BYTES", "add_template", "check_brief_template", "list_templates", "load_template", "parse_ref", "template_id_of",
    "template_key",
]

MAX_TEMPLATE_BYTES = 20 * 1024 * 1024
_FORMAT = 1


def template_id_of(name: str) -> str:
    """A template id from a name: lower-case ASCII letters, digits and dashes ("Report template" -> report-template)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:63].strip("-")
    if not re.fullmatch(TEMPLATE_ID_PATTERN, slug or "-"):
        raise InvalidInput(f"cannot make a template id from the name {name!r}: give --name with letters or digits")
    return slug


def template_key(project: str, template_id: str, version: int) -> str:
    """The object key of one template version."""
    return f"projects/{project}/templates/{template_id}/v{version}.json"


def parse_ref(ref: str) -> tuple[str, int | None]:
    """`report-template@2` -> ("report-template", 2); without a version, the latest (None); `InvalidInput` for
    anything else."""
    if not re.fullmatch(TEMPLATE_REF_PATTERN, ref or ""):
        raise InvalidInput(f"{ref!r} is not a template reference: TEMPLATE_ID or TEMPLATE_ID@VERSION "
                           "(lower-case letters, digits and dashes)")
    template_id, _, version = ref.partition("@")
    return template_id, int(version) if version else None


def _version_of(key: str) -> int:
    return int(key.rsplit("/v", 1)[1].removesuffix(".json"))


def _rows(store: Any, project: str, template_id: str | None = None) -> list[Any]:
    rows = store.catalog(project=project, kinds=[ArtifactKind.TEMPLATE])
    prefix = f"projects/{project}/templates/" + (f"{template_id}/" if template_id else "")
    return [r for r in rows if r.key.startswith(prefix) and r.status == ArtifactStatus.STORED]


def _info(row: Any, stored: dict[str, Any]) -> TemplateInfo:
    return TemplateInfo(template_id=stored["template_id"], version=stored["version"], name=stored["name"],
                        project=row.project, fields=stored["fields"], warnings=stored["warnings"],
                        source=stored["source"], sha256=row.sha256, created_at=row.created_at)


def _read(objects: ObjectStore, store: Any, row: Any) -> dict[str, Any]:
    from actors.lifecycle.catalog import read_artifact

    _row, data = read_artifact(store, objects, row.id)
    return json.loads(data)


def add_template(store: Any, objects: ObjectStore, *, project: str, doc: Any, name: str | None, source: str,
                 now: datetime) -> TemplateInfo:
    """Check a Figma file JSON (it must have fields), store it as the next version of its template, catalog it."""
    roots = template_roots(doc)
    scan = scan_template(roots)
    template_id = template_id_of(name or template_name(doc))
    figma = json.dumps(doc, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256(figma.encode("utf-8")).hexdigest()
    rows = sorted(_rows(store, project, template_id), key=lambda r: _version_of(r.key))
    for row in reversed(rows):  # the same file again (any version of it): nothing new to store
        stored = _read(objects, store, row)
        if stored.get("figma_sha256") == digest:
            return _info(row, stored)
    version = _version_of(rows[-1].key) + 1 if rows else 1
    body = {"mka_template": _FORMAT, "template_id": template_id, "version": version,
            "name": name or template_name(doc), "source": source, "fields": scan.names(), "warnings": scan.warnings,
            "figma_sha256": digest, "figma": doc}
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    if len(data) > MAX_TEMPLATE_BYTES:
        raise InvalidInput(f"the template is {len(data)} bytes; at most {MAX_TEMPLATE_BYTES} are stored "
                           "(add a page or frame of the file, not all of it)")
    stored = objects.put(template_key(project, template_id, version), data, content_type="application/json",
                         metadata={"kind": ArtifactKind.TEMPLATE.value, "template-id": template_id,
                                   "version": str(version)})
    artifact_id = "tpl-" + hashlib.sha256(f"{project}/{template_id}/{version}".encode()).hexdigest()[:24]
    row = store.add_artifact(artifact_for(stored, project=project, job_id=None, kind=ArtifactKind.TEMPLATE,
                                          artifact_id=artifact_id, created_at=now, lineage=[source]))
    return _info(row, body)


def list_templates(store: Any, objects: ObjectStore, *, project: str) -> list[TemplateInfo]:
    """Every stored template version of the project, by id then version."""
    rows = sorted(_rows(store, project), key=lambda r: (r.key.split("/")[3], _version_of(r.key)))
    return [_info(row, _read(objects, store, row)) for row in rows]


def load_template(store: Any, objects: ObjectStore, *, project: str, ref: str) -> tuple[TemplateInfo, dict[str, Any]]:
    """A template version (the latest unless `ref` pins one) and its Figma file JSON; `ArtifactNotFound` if none."""
    template_id, version = parse_ref(ref)
    rows = _rows(store, project, template_id)
    if version is not None:
        rows = [r for r in rows if _version_of(r.key) == version]
    if not rows:
        what = f"version {version} of template {template_id}" if version else f"template {template_id}"
        raise ArtifactNotFound(f"no {what} in project {project} (add one with `mka figma templates add`)")
    row = max(rows, key=lambda r: _version_of(r.key))
    stored = _read(objects, store, row)
    return _info(row, stored), stored["figma"]


def check_brief_template(store: Any, objects: ObjectStore, brief: Any) -> None:
    """At submit: a brief that wants a Figma export names a template its project has; `InvalidBrief` otherwise."""
    from schemas import InvalidBrief

    if "figma" not in brief.outputs or not brief.figma_template:
        return
    template_id, version = parse_ref(brief.figma_template)
    rows = _rows(store, brief.project, template_id)
    if version is not None:
        rows = [r for r in rows if _version_of(r.key) == version]
    if not rows:
        known = sorted({r.key.split("/")[3] for r in _rows(store, brief.project)})
        hint = f"; the project has: {', '.join(known)}" if known else "; add one with `mka figma templates add`"
        raise InvalidBrief([{"field": "figma_template",
                             "message": f"no template {brief.figma_template} in project {brief.project}{hint}"}])
