"""Tracing: one OpenTelemetry provider per process, PII-safe export, W3C propagation, span trees.

Spans go to OTLP/HTTP when `Settings.otlp_endpoint` is set, else to `Settings.spans_file` (JSON
lines). Every exporter is wrapped in `SanitizingExporter`, so only `SAFE_ATTRIBUTE_KEYS` with
identifier-like values ever leave the process. Trace context crosses process boundaries as an
explicit W3C `traceparent` string (agent envelopes, event headers).

Example:
    >>> setup_tracing(Settings(home=Path(".mka")))                     # doctest: +SKIP
    >>> with span("job", job_id="job-1"):                              # doctest: +SKIP
    ...     tp = current_traceparent()          # put it in the envelope
    >>> # in a Ray actor, after its own setup_tracing(settings) in __init__:
    >>> with span("collect", traceparent=tp, step="collect"): ...     # doctest: +SKIP
    >>> print(render_span_tree(read_spans(settings.spans_file, trace_id_of(tp))))  # doctest: +SKIP
"""

from __future__ import annotations

from cluster.tracing._export import SAFE_ATTRIBUTE_KEYS, JsonlSpanExporter, SanitizingExporter
from cluster.tracing._read import read_spans, render_span_tree, span_tree
from cluster.tracing._retain import purge_spans, span_file_lock
from cluster.tracing._setup import (
    context_from_traceparent,
    current_traceparent,
    setup_tracing,
    shutdown_tracing,
    span,
    trace_id_of,
    tracer,
)

__all__ = [
    "SAFE_ATTRIBUTE_KEYS",
    "JsonlSpanExporter",
    "SanitizingExporter",
    "context_from_traceparent",
    "current_traceparent",
    "purge_spans",
    "read_spans",
    "render_span_tree",
    "setup_tracing",
    "shutdown_tracing",
    "span_file_lock",
    "span",
    "span_tree",
    "trace_id_of",
    "tracer",
]
