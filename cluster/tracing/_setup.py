"""Per-process tracer provider, the `span` helper and W3C `traceparent` propagation."""

from __future__ import annotations

import atexit
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from cluster.settings import Settings
from cluster.tracing._export import JsonlSpanExporter, SanitizingExporter

__all__ = [
    "context_from_traceparent",
    "current_traceparent",
    "setup_tracing",
    "shutdown_tracing",
    "span",
    "trace_id_of",
    "tracer",
]

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
_PROPAGATOR = TraceContextTextMapPropagator()


class _State:
    lock = threading.Lock()
    key: tuple[Any, ...] | None = None
    provider: TracerProvider | None = None
    global_set = False


class _ProcessTracer(trace.Tracer):
    """A tracer that always starts spans on the process's current provider (or a no-op one)."""

    def __init__(self, name: str, version: str | None = None, schema_url: str | None = None) -> None:
        self._args = (name, version, schema_url)

    def _target(self) -> trace.Tracer:
        provider = _State.provider
        return trace.NoOpTracer() if provider is None else provider.get_tracer(*self._args)

    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
        return self._target().start_span(*args, **kwargs)

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
        return self._target().start_as_current_span(*args, **kwargs)


class _ProcessTracerProvider(trace.TracerProvider):
    """The global provider: survives reconfiguration because its tracers resolve lazily."""

    def get_tracer(self, instrumenting_module_name: str, instrumenting_library_version: str | None = None,
                   schema_url: str | None = None, attributes: Any = None) -> trace.Tracer:
        return _ProcessTracer(instrumenting_module_name, instrumenting_library_version, schema_url)


def _build_provider(settings: Settings) -> TracerProvider:
    resource = Resource.create({"service.name": settings.service_name, "process.pid": os.getpid()})
    provider = TracerProvider(resource=resource, shutdown_on_exit=False)
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        base = settings.otlp_endpoint.rstrip("/")
        endpoint = base if base.endswith("/v1/traces") else f"{base}/v1/traces"
        provider.add_span_processor(BatchSpanProcessor(SanitizingExporter(OTLPSpanExporter(endpoint=endpoint))))
    else:
        provider.add_span_processor(SimpleSpanProcessor(SanitizingExporter(JsonlSpanExporter(settings.spans_file))))
    return provider


def setup_tracing(settings: Settings) -> TracerProvider:
    """Configure this process's tracing; the same settings return the same provider, new ones replace it."""
    key = (os.getpid(), settings.otlp_endpoint, str(settings.spans_file.absolute()), settings.service_name)
    with _State.lock:
        if _State.key == key and _State.provider is not None:
            return _State.provider
        old = _State.provider
        _State.provider, _State.key = _build_provider(settings), key
        if not _State.global_set:
            if isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
                trace.set_tracer_provider(_ProcessTracerProvider())
            atexit.register(shutdown_tracing)
            _State.global_set = True
    if old is not None:
        old.shutdown()
    return _State.provider


def shutdown_tracing() -> None:
    """Flush and stop this process's exporters; the next `setup_tracing` starts afresh."""
    with _State.lock:
        provider, _State.provider, _State.key = _State.provider, None, None
    if provider is not None:
        provider.shutdown()


def tracer(name: str = "mka") -> trace.Tracer:
    """Return a tracer bound to whatever provider `setup_tracing` installed (no-op before it)."""
    return _ProcessTracer(name)


def _attr_value(value: Any) -> Any:
    if isinstance(value, Enum):
        value = value.value
    return value if isinstance(value, (bool, int, float, str)) else str(value)


@contextmanager
def span(name: str, *, traceparent: str | None = None, **attrs: Any) -> Iterator[trace.Span]:
    """Open a span (child of `traceparent` when given, else of the current one) with `mka.<key>` attributes."""
    ctx = context_from_traceparent(traceparent) if traceparent else None
    attributes = {f"mka.{k}": _attr_value(v) for k, v in attrs.items() if v is not None}
    with tracer("mka").start_as_current_span(
        name, context=ctx, attributes=attributes, record_exception=False, set_status_on_exception=False
    ) as current:
        try:
            yield current
        except Exception as exc:
            code = getattr(exc, "code", None)
            current.set_attribute("mka.error_code", code if isinstance(code, str) else type(exc).__name__)
            current.set_status(Status(StatusCode.ERROR, type(exc).__name__))
            raise


def current_traceparent() -> str | None:
    """Return the W3C `traceparent` of the current span, or None outside any span."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def context_from_traceparent(tp: str) -> Context:
    """Return a context whose remote parent is `tp` (an empty context when `tp` is malformed)."""
    return _PROPAGATOR.extract({"traceparent": tp})


def trace_id_of(tp: str) -> str:
    """Return the 32-hex trace id of a `traceparent`; ValueError when malformed."""
    match = _TRACEPARENT.match(tp or "")
    if not match:
        raise ValueError("malformed traceparent")
    return match.group(1)
