"""Unit tests for tracing: JSON-lines export, PII sanitizing, setup idempotency, propagation, span trees."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Status, StatusCode

from cluster.settings import Settings
from cluster.tracing import (
    SAFE_ATTRIBUTE_KEYS,
    JsonlSpanExporter,
    SanitizingExporter,
    current_traceparent,
    read_spans,
    render_span_tree,
    setup_tracing,
    shutdown_tracing,
    span,
    span_tree,
    trace_id_of,
)

pytestmark = pytest.mark.unit

BRIEF_TEXT = "Jane Doe jane@example.com"


@pytest.fixture(autouse=True)
def _fresh_tracing() -> Iterator[None]:
    shutdown_tracing()
    yield
    shutdown_tracing()


def _provider(exporter: Any) -> TracerProvider:
    provider = TracerProvider(resource=Resource({"service.name": "mka-test", "host.name": "laptop-of-jane"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _leaky_spans(provider: TracerProvider) -> None:
    t = provider.get_tracer("third-party")
    with t.start_as_current_span("job", attributes={"mka.job_id": "job-1", "brief.text": BRIEF_TEXT}) as root:
        root.set_attribute("mka.step", BRIEF_TEXT)
        root.set_attribute("mka.project", "jane@example.com")
        root.set_attribute("mka.provider", ["openai", "Jane Doe"])
        root.set_attribute("mka.count", 3)
        root.add_event("prompt", {"mka.step": "analyze", "prompt": BRIEF_TEXT, "mka.outcome": BRIEF_TEXT})
        root.record_exception(ValueError(BRIEF_TEXT))
        root.set_status(Status(StatusCode.ERROR, BRIEF_TEXT))


def test_jsonl_exporter_writes_one_valid_json_object_per_span(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "spans.jsonl"
    provider = _provider(JsonlSpanExporter(path))
    t = provider.get_tracer("test")
    with t.start_as_current_span("parent") as parent:
        with t.start_as_current_span("child", attributes={"mka.step": "collect"}):
            pass
    provider.shutdown()

    records = _lines(path)
    assert [r["name"] for r in records] == ["child", "parent"]
    child, root = records
    assert root["parent_id"] is None
    assert child["parent_id"] == root["span_id"] == format(parent.get_span_context().span_id, "016x")
    assert child["trace_id"] == root["trace_id"] == format(parent.get_span_context().trace_id, "032x")
    assert len(root["trace_id"]) == 32 and len(root["span_id"]) == 16
    assert root["end_ns"] >= root["start_ns"] and root["duration_ms"] >= 0
    assert root["start"].endswith("+00:00") and root["status"] == "UNSET"
    assert child["attributes"] == {"mka.step": "collect"} and child["service"] == "mka-test"


def test_jsonl_exporter_appends_across_exporters(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    for name in ("first", "second"):
        provider = _provider(JsonlSpanExporter(path))
        with provider.get_tracer("test").start_as_current_span(name):
            pass
        provider.shutdown()
    assert [r["name"] for r in _lines(path)] == ["first", "second"]


def test_sanitizer_drops_pii_and_unlisted_keys_from_spans_and_events() -> None:
    memory = InMemorySpanExporter()
    provider = _provider(SanitizingExporter(memory))
    _leaky_spans(provider)
    (exported,) = memory.get_finished_spans()

    assert dict(exported.attributes or {}) == {"mka.job_id": "job-1", "mka.count": 3}
    assert [e.name for e in exported.events] == ["prompt", "exception"]
    assert dict(exported.events[0].attributes or {}) == {"mka.step": "analyze"}
    assert dict(exported.events[1].attributes or {}) == {}
    assert exported.status.status_code is StatusCode.ERROR and exported.status.description is None
    assert set(exported.resource.attributes) <= SAFE_ATTRIBUTE_KEYS
    assert exported.resource.attributes["service.name"] == "mka-test"


def test_sanitized_span_file_holds_no_pii(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    provider = _provider(SanitizingExporter(JsonlSpanExporter(path)))
    _leaky_spans(provider)
    provider.shutdown()

    raw = path.read_text()
    assert "Jane" not in raw and "jane@" not in raw and "laptop-of-jane" not in raw
    (record,) = _lines(path)
    assert record["attributes"] == {"mka.job_id": "job-1", "mka.count": 3}
    assert all(set(e["attributes"]) <= SAFE_ATTRIBUTE_KEYS for e in record["events"])


def test_span_helper_output_is_sanitized_end_to_end(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    setup_tracing(settings)
    with span("job", job_id="job-1", step=BRIEF_TEXT, brief=BRIEF_TEXT, attempt=2, degraded=False) as s:
        s.set_attribute("user.email", "jane@example.com")
        s.set_attribute("mka.outcome", ["ok", "degraded"])
    shutdown_tracing()

    raw = settings.spans_file.read_text()
    assert "Jane" not in raw and "jane@" not in raw
    (record,) = _lines(settings.spans_file)
    assert record["attributes"] == {
        "mka.job_id": "job-1", "mka.attempt": 2, "mka.degraded": False, "mka.outcome": ["ok", "degraded"],
    }


def test_setup_is_idempotent_per_settings(tmp_path: Path) -> None:
    first = setup_tracing(Settings(home=tmp_path))
    assert setup_tracing(Settings(home=tmp_path)) is first
    other = setup_tracing(Settings(home=tmp_path / "other"))
    assert other is not first
    with span("after-reconfigure"):
        pass
    shutdown_tracing()
    assert not (tmp_path / "spans.jsonl").exists()
    assert [r["name"] for r in _lines(tmp_path / "other" / "spans.jsonl")] == ["after-reconfigure"]


def test_span_without_setup_is_a_no_op() -> None:
    with span("nothing", step="x"):
        assert current_traceparent() is None


def test_traceparent_propagation_makes_remote_child(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    setup_tracing(settings)
    assert current_traceparent() is None
    with span("driver", job_id="job-1") as driver:
        tp = current_traceparent()
    assert tp is not None
    with span("unrelated"):
        with span("actor", traceparent=tp, step="collect"):
            pass
    shutdown_tracing()

    trace_id = trace_id_of(tp)
    assert trace_id == format(driver.get_span_context().trace_id, "032x")
    spans = {s["name"]: s for s in read_spans(settings.spans_file, trace_id)}
    assert set(spans) == {"driver", "actor"}
    assert spans["actor"]["parent_id"] == spans["driver"]["span_id"]


def test_trace_id_of_rejects_malformed() -> None:
    tp = "00-" + "a" * 32 + "-" + "b" * 16 + "-01"
    assert trace_id_of(tp) == "a" * 32
    with pytest.raises(ValueError):
        trace_id_of("not-a-traceparent")


def test_span_records_error_without_message(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    setup_tracing(settings)
    with pytest.raises(RuntimeError):
        with span("failing", step="merge"):
            raise RuntimeError(BRIEF_TEXT)
    shutdown_tracing()
    (record,) = _lines(settings.spans_file)
    assert record["status"] == "ERROR" and record["attributes"]["mka.error_code"] == "RuntimeError"
    assert "Jane" not in settings.spans_file.read_text()


def test_read_spans_filters_by_trace_and_skips_torn_lines(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    wanted, other = uuid.uuid4().hex, uuid.uuid4().hex
    path.write_text(
        json.dumps(_rec("b", wanted, "2", "1", 20, 30)) + "\n"
        + '{"trace_id": "torn\n'
        + json.dumps(_rec("x", other, "9", None, 0, 1)) + "\n"
        + json.dumps(_rec("a", wanted, "1", None, 10, 50)) + "\n"
    )
    assert [s["name"] for s in read_spans(path, wanted)] == ["a", "b"]
    assert read_spans(tmp_path / "missing.jsonl", wanted) == []


def _rec(name: str, trace_id: str, span_id: str, parent: str | None, start_ms: int, end_ms: int,
         **attrs: Any) -> dict[str, Any]:
    return {
        "trace_id": trace_id, "span_id": span_id, "parent_id": parent, "name": name,
        "start_ns": start_ms * 1_000_000, "end_ns": end_ms * 1_000_000,
        "duration_ms": float(end_ms - start_ms), "status": "UNSET",
        "attributes": {f"mka.{k}": v for k, v in attrs.items()},
    }


def test_span_tree_and_rendering_show_nesting_and_durations() -> None:
    t = "f" * 32
    spans = [
        _rec("quorum", t, "3", "1", 20, 120, step="analyze", quorum_received=2),
        _rec("job", t, "1", None, 0, 250, job_id="job-1", state="completed"),
        _rec("llm", t, "4", "3", 21, 118, provider="openai", outcome="ok"),
        _rec("collect", t, "2", "1", 1, 13, step="collect"),
        _rec("actor-side", t, "5", "remote-parent", 2, 3),
    ]
    tree = span_tree(spans)
    assert [n["name"] for n in tree] == ["job", "actor-side"]
    assert [c["name"] for c in tree[0]["children"]] == ["collect", "quorum"]
    assert tree[0]["children"][1]["children"][0]["name"] == "llm"

    assert render_span_tree(spans).splitlines() == [
        "job  250.0 ms  [state=completed]",
        "  collect  12.0 ms  [step=collect]",
        "  quorum  100.0 ms  [quorum_received=2 step=analyze]",
        "    llm  97.0 ms  [outcome=ok provider=openai]",
        "actor-side  1.0 ms",
    ]
    assert render_span_tree([]) == ""
