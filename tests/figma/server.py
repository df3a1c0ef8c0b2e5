"""A fake Figma REST API on 127.0.0.1: GET /v1/files/:key and /v1/files/:key/nodes, shaped like Figma's.

Answers come from the files it holds; `fail_next` queues error replies (429 with Retry-After, 500, ...)
served before the next real answers. Its bodies are checked against Figma's official schema in tests.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.providers._http import FakeHttpProvider, HttpReply

__all__ = ["FakeFigma", "error_reply"]


def error_reply(status: int, err: str, headers: dict[str, str] | None = None) -> HttpReply:
    """Figma's error body: {"status", "err"}."""
    return HttpReply(status, {"status": status, "err": err}, headers or {})


def _find(node: dict[str, Any], node_id: str) -> dict[str, Any] | None:
    if node.get("id") == node_id:
        return node
    for child in node.get("children") or []:
        found = _find(child, node_id)
        if found is not None:
            return found
    return None


class FakeFigma(FakeHttpProvider):
    """Figma's files endpoints over the files it holds (`files[key] = GET /v1/files/:key body`)."""

    def __init__(self, *, token: str = "figd_test-token-0000", files: dict[str, dict[str, Any]] | None = None,
                 **kw: Any) -> None:
        super().__init__(api_key=token, models=[], **kw)
        self.files: dict[str, dict[str, Any]] = dict(files or {})
        self._failures: list[HttpReply] = []

    def key_in(self, headers: dict[str, str]) -> str | None:
        """The personal access token."""
        return headers.get("x-figma-token")

    def fail_next(self, *replies: HttpReply) -> None:
        """Serve these replies (in order) before answering normally again."""
        with self._lock:
            self._failures.extend(replies)

    def route(self, method: str, path: str, headers: dict[str, str], body: Any) -> HttpReply:
        """Files and nodes; 403 for a bad token, 404 for an unknown file or route."""
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            return failure
        if not self.authorized(headers):
            return error_reply(403, "Invalid token")
        parts = urlsplit(path)
        segments = [s for s in parts.path.split("/") if s]
        if method != "GET" or len(segments) not in (3, 4) or segments[:2] != ["v1", "files"]:
            return error_reply(404, "Not found")
        doc = self.files.get(segments[2])
        if doc is None:
            return error_reply(404, "Not found")
        if len(segments) == 3:
            return HttpReply(200, doc)
        if segments[3] != "nodes":
            return error_reply(404, "Not found")
        ids = [i for v in parse_qs(parts.query).get("ids", []) for i in v.split(",") if i]
        if not ids:
            return error_reply(400, "Missing required parameter: ids")
        meta = {k: doc[k] for k in ("name", "role", "lastModified", "editorType", "thumbnailUrl", "version") if k in doc}
        nodes: dict[str, Any] = {}
        for node_id in ids:
            node = _find(doc["document"], node_id)
            nodes[node_id] = None if node is None else {
                "document": copy.deepcopy(node), "components": {}, "componentSets": {}, "schemaVersion": 0,
                "styles": {}}
        return HttpReply(200, {**meta, "nodes": nodes})
