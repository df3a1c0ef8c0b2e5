"""Integration test: spans reach an OTLP/HTTP collector as protobuf, sanitized, from a fresh process."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from cluster.tracing import SAFE_ATTRIBUTE_KEYS

pytestmark = pytest.mark.integration

BRIEF_TEXT = "Jane Doe jane@example.com"

SCRIPT = textwrap.dedent(
    f"""
    from cluster.settings import load_settings
    from cluster.tracing import current_traceparent, setup_tracing, shutdown_tracing, span

    settings = load_settings()
    assert settings.otlp_endpoint, "OTEL_EXPORTER_OTLP_ENDPOINT not picked up"
    assert setup_tracing(settings) is setup_tracing(load_settings())
    with span("job", job_id="job-otlp", brief={BRIEF_TEXT!r}) as root:
        root.set_attribute("user.email", "jane@example.com")
        with span("collect", step="collect", state={BRIEF_TEXT!r}):
            pass
        print(current_traceparent())
    shutdown_tracing()
    """
)


class _Collector(ThreadingHTTPServer):
    bodies: list[bytes]
    paths: list[str]


class _Handler(BaseHTTPRequestHandler):
    server: _Collector

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.server.paths.append(self.path)
        self.server.bodies.append(body)
        payload = ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature from the base
        """Keep test output quiet."""


@pytest.fixture()
def collector() -> Iterator[_Collector]:
    server = _Collector(("127.0.0.1", 0), _Handler)
    server.bodies, server.paths = [], []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_spans_arrive_over_otlp_without_pii(collector: _Collector, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server_port}",
        "MKA_HOME": str(tmp_path),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    env.pop("MKA_OTLP_ENDPOINT", None)
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    traceparent = done.stdout.strip().splitlines()[-1]

    assert collector.paths and set(collector.paths) == {"/v1/traces"}
    assert all(b"Jane" not in body and b"jane@" not in body for body in collector.bodies)
    spans, resource_keys = [], set()
    for body in collector.bodies:
        request = ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            resource_keys |= {a.key for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                spans.extend(scope_spans.spans)

    by_name = {s.name: s for s in spans}
    assert set(by_name) == {"job", "collect"}
    assert {s.trace_id.hex() for s in spans} == {traceparent.split("-")[1]}
    assert by_name["collect"].parent_span_id == by_name["job"].span_id
    assert {a.key: a.value.string_value for a in by_name["job"].attributes} == {"mka.job_id": "job-otlp"}
    assert {a.key for a in by_name["collect"].attributes} == {"mka.step"}
    assert "service.name" in resource_keys and resource_keys <= SAFE_ATTRIBUTE_KEYS
    assert not (tmp_path / "spans.jsonl").exists(), "OTLP mode must not also write the span file"
