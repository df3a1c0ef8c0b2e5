"""Span exporters: the PII allow-list wrapper and the JSON-lines file of the embedded default."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Link, Status

from actors.pii.guard import guard_registry
from cluster.private_files import private_dir, tighten
from cluster.tracing._retain import span_file_lock
from cluster.secrets import mask_secrets

__all__ = ["SAFE_ATTRIBUTE_KEYS", "JsonlSpanExporter", "SanitizingExporter"]

SAFE_ATTRIBUTE_KEYS: frozenset[str] = frozenset(
    {
        "mka.job_id", "mka.project", "mka.step", "mka.attempt", "mka.state", "mka.from_state",
        "mka.provider", "mka.model", "mka.outcome", "mka.event_type", "mka.event_id",
        "mka.correlation_id", "mka.artifact_kind", "mka.count", "mka.error_code", "mka.retryable",
        "mka.degraded", "mka.quorum_required", "mka.quorum_received", "mka.actor",
        "service.name", "process.pid",
        "telemetry.sdk.name", "telemetry.sdk.language", "telemetry.sdk.version",
    }
)
"""Attribute keys (span, event, link and resource) that survive export; all others are dropped."""

_SAFE_VALUE = re.compile(r"^[A-Za-z0-9_.:/-]{0,128}$")  # identifiers only: no spaces, no '@'


def _safe_value(value: Any) -> bool:
    if isinstance(value, (bool, int, float)):
        return True
    if isinstance(value, str):  # an identifier, and not one shaped like a key (`sk-…`)
        return bool(_SAFE_VALUE.match(value)) and mask_secrets(value) == value
    if isinstance(value, Sequence) and not isinstance(value, (bytes, bytearray)):
        return all(isinstance(v, (bool, int, float, str)) and _safe_value(v) for v in value)
    return False


def _filter(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    kept = {k: v for k, v in (attributes or {}).items() if k in SAFE_ATTRIBUTE_KEYS and _safe_value(v)}
    guards = guard_registry()  # fail closed: an attribute carrying a vault value is dropped
    return {k: v for k, v in kept.items() if isinstance(v, (bool, int, float)) or guards.find_any(v) is None}


def _sanitize(s: ReadableSpan) -> ReadableSpan:
    description = s.status.description
    if description and (not _SAFE_VALUE.match(description) or guard_registry().find_any(description) is not None):
        description = None
    status = Status(s.status.status_code, description)
    return ReadableSpan(
        name=s.name,
        context=s.context,
        parent=s.parent,
        resource=Resource(_filter(s.resource.attributes), s.resource.schema_url),
        attributes=_filter(s.attributes),
        events=[Event(e.name, _filter(e.attributes), e.timestamp) for e in s.events],
        links=[Link(link.context, _filter(link.attributes)) for link in s.links],
        kind=s.kind,
        status=status,
        start_time=s.start_time,
        end_time=s.end_time,
        instrumentation_scope=s.instrumentation_scope,
    )


class SanitizingExporter(SpanExporter):
    """Wrap an exporter so it only ever sees allow-listed, identifier-like attributes.

    Example:
        >>> SanitizingExporter(JsonlSpanExporter(Path(".mka/spans.jsonl")))  # doctest: +SKIP
    """

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Export sanitized copies of the spans."""
        return self.inner.export([_sanitize(s) for s in spans])

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the wrapped exporter."""
        return self.inner.force_flush(timeout_millis)


def _hex_span(ctx: trace.SpanContext | None) -> str | None:
    return None if ctx is None else format(ctx.span_id, "016x")


def _iso(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, tz=timezone.utc).isoformat()


def _record(s: ReadableSpan) -> dict[str, Any]:
    start, end = s.start_time or 0, s.end_time or s.start_time or 0
    return {
        "trace_id": format(s.context.trace_id, "032x"),
        "span_id": _hex_span(s.context),
        "parent_id": _hex_span(s.parent),
        "name": s.name,
        "kind": s.kind.name,
        "start_ns": start,
        "end_ns": end,
        "start": _iso(start),
        "end": _iso(end),
        "duration_ms": round((end - start) / 1e6, 3),
        "status": s.status.status_code.name,
        "attributes": dict(s.attributes or {}),
        "events": [{"name": e.name, "time_ns": e.timestamp, "attributes": dict(e.attributes or {})} for e in s.events],
        "service": s.resource.attributes.get("service.name"),
        "pid": s.resource.attributes.get("process.pid"),
    }


class JsonlSpanExporter(SpanExporter):
    """Append one JSON object per span to a file; one O_APPEND write per line, so processes can share it.

    Example:
        >>> JsonlSpanExporter(Path(".mka/spans.jsonl"))  # doctest: +SKIP
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._tightened = False

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Write the spans as JSON lines (a 0600 file in a 0700 directory when this creates them)."""
        try:
            private_dir(self.path.parent)
            if not self._tightened:  # a span file from before this rule: no longer readable by others
                tighten(self.path)
                self._tightened = True
            with span_file_lock(self.path, exclusive=False):  # a retention purge replaces the file
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    for s in spans:
                        os.write(fd, (json.dumps(_record(s), default=str) + "\n").encode())
                finally:
                    os.close(fd)
        except OSError:
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing to release: the file is opened per export."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Nothing is buffered."""
        return True
