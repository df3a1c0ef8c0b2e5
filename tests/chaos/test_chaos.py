"""Chaos: kill actors, stop NATS, drop PostgreSQL connections, take S3 down — nothing lost, nothing doubled.

Every scenario asserts the job's final state, its step history, and the event stream a NATS
consumer sees (each outbox event exactly once), and that no planted PII value escaped.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import psycopg
import pytest
import ray
from sqlalchemy.engine import make_url

from schemas import EventType, JobRecord, JobState, StepOutcome
from tests.conftest import SERVICES
from tests.integration.stack import (
    BackgroundRelay,
    Stack,
    assert_no_planted_pii,
    consume_job_events,
    planted_brief,
    ray_logs,
    running_stack,
    wait_state,
)

pytestmark = [pytest.mark.chaos, pytest.mark.integration, pytest.mark.timeout(900)]


@pytest.fixture(scope="module")
def stack(pg_url: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    """One running system for all scenarios (each scenario submits its own jobs)."""
    with running_stack(pg_url, tmp_path_factory.mktemp("mka-chaos"), step_max_attempts=3) as running:
        yield running


def _events_exactly_once(stack: Stack, job: JobRecord) -> list[str]:
    """Outbox ids for the job equal what the NATS consumer saw: each once, none missing."""
    outbox = [m.event.id for m in stack.client.store.events(job.id)]
    seen = consume_job_events(job)
    assert len(seen) == len(set(seen)), "an event was delivered twice"
    assert seen == outbox, "the consumer's stream differs from the outbox"
    assert all(m.published_at for m in stack.client.store.events(job.id)), "an event was never marked published"
    return seen


def _wait_step_running(stack: Stack, job_id: str, step: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not any(s.step == step for s in stack.client.store.steps(job_id)):
        assert time.monotonic() < deadline, f"step {step} never started"
        time.sleep(0.02)


def _states(stack: Stack, job_id: str) -> list[str]:
    return [
        m.event.payload["to_state"] for m in stack.client.store.events(job_id) if m.event.type == EventType.JOB_STATE_CHANGED
    ]


def _pii_clean(stack: Stack, job_id: str) -> None:
    store, objects = stack.client.store, stack.client.objects
    artifacts = b"".join(objects.get(a.key) for a in store.artifacts(job_id))
    checkpoints = b"".join(objects.get(s.result_ref) for s in store.steps(job_id) if s.result_ref)
    assert_no_planted_pii(
        {
            "events": json.dumps([m.event.model_dump(mode="json") | {"h": m.headers} for m in store.events(job_id)]),
            "spans": Path(stack.settings.spans_file).read_text(),
            "logs": ray_logs(),
            "artifacts": _pdf_text(store, objects, job_id) + artifacts.decode("latin-1"),
            "checkpoints": checkpoints.decode("utf-8", "replace"),
        }
    )


def _pdf_text(store, objects, job_id: str) -> str:  # type: ignore[no-untyped-def]
    from io import BytesIO

    from pypdf import PdfReader

    out = ""
    for art in store.artifacts(job_id):
        if art.kind == "pdf":
            out += " ".join(" ".join(p.extract_text() for p in PdfReader(BytesIO(objects.get(art.key))).pages).split())
    return out


def _slow(seconds: float) -> dict:  # type: ignore[type-arg]
    return {"deadline_s": 30, "grace_s": 0.2, "providers": {p: {"latency_s": seconds} for p in ("openai", "gemini", "xai")}}


def test_orchestrator_killed_mid_job(stack: Stack) -> None:
    client = stack.client
    with BackgroundRelay(client):
        job_id = client.submit(planted_brief(), script=_slow(3))
        _wait_step_running(stack, job_id, "analyze")  # the LLM calls are in flight
        ray.kill(client.orchestrator, no_restart=False)
        job = client.wait(job_id, timeout_s=180)
    assert job.state == JobState.COMPLETED, job.error
    steps = client.store.steps(job_id)
    for name in ("validate", "redact", "collect"):
        assert [(s.attempt, s.outcome) for s in steps if s.step == name] == [(1, StepOutcome.SUCCEEDED)]
    assert [(s.attempt, s.outcome) for s in steps if s.step == "analyze"] == [(1, StepOutcome.RUNNING), (2, StepOutcome.SUCCEEDED)]
    assert sorted(a.kind for a in client.artifacts(job_id)) == ["html", "pdf"]  # one row per export, none twice
    assert _states(stack, job_id) == ["validating", "redacting", "collecting", "analyzing", "merging", "localizing",
                                     "rendering", "exporting", "completed"]
    _events_exactly_once(stack, job)
    _pii_clean(stack, job_id)


def test_llm_actor_killed_mid_call(stack: Stack) -> None:
    client = stack.client
    script = {"deadline_s": 20, "grace_s": 0.2, "providers": {"openai": {"latency_s": 8}, "gemini": {"latency_s": 2}, "xai": {"latency_s": 0.1}}}
    with BackgroundRelay(client):
        job_id = client.submit(planted_brief(), script=script)
        openai = client.handles["llm-openai"]
        deadline = time.monotonic() + 60
        while not any(job_id in r for r in ray.get(openai.recent_requests.remote())):  # the call is in flight
            assert time.monotonic() < deadline, "openai never received the request"
            time.sleep(0.05)
        ray.kill(openai, no_restart=False)
        job = client.wait(job_id, timeout_s=120)
    assert job.state == JobState.COMPLETED and job.degraded
    summary = client.summary(job_id)
    outcome = summary.providers["openai"]
    assert outcome.status == "error" and "died" in (outcome.reason or "")
    assert ray.get(openai.recent_requests.remote()) == []  # restarted, serving again
    _events_exactly_once(stack, job)
    _pii_clean(stack, job_id)


def test_one_llm_actor_killed_with_another_failing_is_a_clean_below_quorum(stack: Stack) -> None:
    client = stack.client
    script = {"deadline_s": 20, "providers": {"openai": {"latency_s": 8}, "gemini": {"error": "auth"}, "xai": {"latency_s": 0.1}}}
    with BackgroundRelay(client):
        job_id = client.submit(planted_brief(), script=script)
        openai = client.handles["llm-openai"]
        deadline = time.monotonic() + 60
        while not any(job_id in r for r in ray.get(openai.recent_requests.remote())):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        ray.kill(openai, no_restart=False)
        job = client.wait(job_id, timeout_s=120)
    assert job.state == JobState.FAILED and job.error and job.error["code"] == "below_quorum"
    assert "openai (agent actor died" in job.error["message"] and "gemini (auth" in job.error["message"]
    _events_exactly_once(stack, job)


def test_nats_stopped_for_10s_during_a_job(stack: Stack) -> None:
    client = stack.client
    with BackgroundRelay(client):
        job_id = client.submit(planted_brief(), script=_slow(1))
        wait_state(client, job_id, {JobState.REDACTING})
        nats_server = SERVICES.nats_control()  # the system server, or the one the session started
        assert nats_server.pids(), "no NATS server to stop"
        nats_server.stop()
        try:
            stopped = time.monotonic()
            job = client.wait(job_id, timeout_s=120)  # the job goes on without the bus
            assert job.state == JobState.COMPLETED
            pending = [m for m in client.store.events(job_id) if m.published_at is None]
            assert pending, "events were marked published while NATS was down"
            time.sleep(max(0.0, 10 - (time.monotonic() - stopped)))
        finally:
            nats_server.start()
        deadline = time.monotonic() + 60
        while any(m.published_at is None for m in client.store.events(job_id)):
            assert time.monotonic() < deadline, "the outbox did not drain after NATS came back"
            time.sleep(0.2)
    _events_exactly_once(stack, job)
    _pii_clean(stack, job_id)


def test_postgres_connections_dropped_mid_job(stack: Stack) -> None:
    client = stack.client
    database = make_url(stack.database_url).database
    admin = make_url(stack.database_url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with BackgroundRelay(client):
        job_id = client.submit(planted_brief(), script=_slow(2))
        wait_state(client, job_id, {JobState.ANALYZING})
        killed = 0
        for _ in range(3):  # drop every connection (orchestrator, relay, client) a few times
            with psycopg.connect(admin, autocommit=True) as conn:
                rows = conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (database,),
                ).fetchall()
                killed += len(rows)
            time.sleep(0.7)
        assert killed > 0
        job = client.wait(job_id, timeout_s=180)
    assert job.state == JobState.COMPLETED, job.error
    assert _states(stack, job_id)[-1] == "completed"
    _events_exactly_once(stack, job)
    _pii_clean(stack, job_id)


def test_s3_down_while_rendering_fails_clearly_then_resumes(stack: Stack) -> None:
    client = stack.client
    with BackgroundRelay(client):
        job_id = client.submit(planted_brief())
        wait_state(client, job_id, {JobState.RENDERING})
        stack.s3_proxy.down()
        try:
            failed = client.wait(job_id, timeout_s=180)
        finally:
            stack.s3_proxy.up()
        assert failed.state == JobState.FAILED, failed
        assert failed.error and failed.error["resumable"] is True and failed.error["step"] == "render"
        render = [s for s in client.store.steps(job_id) if s.step == "render"]
        assert 1 <= len(render) <= stack.settings.step_max_attempts  # bounded retries
        client.resume(job_id)
        job = client.wait(job_id, timeout_s=180)
    assert job.state == JobState.COMPLETED, job.error
    assert sorted(a.kind for a in client.artifacts(job_id)) == ["html", "pdf"]  # one row per export, none twice
    states = _states(stack, job_id)
    assert states[-4:] == ["failed", "rendering", "exporting", "completed"]
    for name in ("validate", "redact", "collect", "analyze", "merge"):
        assert len([s for s in client.store.steps(job_id) if s.step == name]) == 1, name
    _events_exactly_once(stack, job)
    _pii_clean(stack, job_id)
