"""Integration test: a traceparent passed to a Ray actor makes its span a child of the driver's span."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import ray  # noqa: E402 - a hard dependency: a missing Ray must fail, not skip

from cluster.settings import Settings  # noqa: E402
from cluster.tracing import (  # noqa: E402
    current_traceparent,
    read_spans,
    setup_tracing,
    shutdown_tracing,
    span,
    trace_id_of,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def ray_session() -> Iterator[None]:
    if ray.is_initialized():  # another module's session: reuse it, leave it running
        yield
        return
    saved = {k: os.environ.pop(k, None) for k in ("OTEL_EXPORTER_OTLP_ENDPOINT", "MKA_OTLP_ENDPOINT")}
    ray.init(
        num_cpus=2, include_dashboard=False, namespace=f"mka-test-{uuid.uuid4().hex[:8]}", log_to_driver=False
    )
    try:
        yield
    finally:
        ray.shutdown()
        os.environ.update({k: v for k, v in saved.items() if v is not None})


@ray.remote(num_cpus=0)
class TracedAgent:
    """An actor that sets tracing up in `__init__`, as every real actor does."""

    def __init__(self, home: str) -> None:
        self.home = Path(home)
        self.provider_id = id(setup_tracing(Settings(home=self.home)))

    def work(self, traceparent: str, step: str) -> int:
        assert id(setup_tracing(Settings(home=self.home))) == self.provider_id  # idempotent in the worker
        with span("agent.work", traceparent=traceparent, step=step, actor="TracedAgent"):
            with span("agent.inner", step=step):
                pass
        return os.getpid()


def test_actor_span_is_child_of_driver_span(ray_session: None, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    setup_tracing(settings)
    agent = TracedAgent.remote(str(tmp_path))  # type: ignore[attr-defined]
    try:
        with span("driver.job", job_id="job-ray") as driver:
            tp = current_traceparent()
            assert tp is not None
            actor_pid = ray.get(agent.work.remote(tp, "collect"), timeout=60)
    finally:
        shutdown_tracing()
        ray.kill(agent)

    assert actor_pid != os.getpid()
    spans = {s["name"]: s for s in read_spans(settings.spans_file, trace_id_of(tp))}
    assert set(spans) == {"driver.job", "agent.work", "agent.inner"}
    driver_span_id = format(driver.get_span_context().span_id, "016x")
    assert spans["driver.job"]["span_id"] == driver_span_id
    assert spans["agent.work"]["parent_id"] == driver_span_id
    assert spans["agent.inner"]["parent_id"] == spans["agent.work"]["span_id"]
    assert spans["driver.job"]["pid"] == os.getpid()
    assert spans["agent.work"]["pid"] == spans["agent.inner"]["pid"] == actor_pid
    assert spans["agent.work"]["attributes"] == {"mka.step": "collect", "mka.actor": "TracedAgent"}
