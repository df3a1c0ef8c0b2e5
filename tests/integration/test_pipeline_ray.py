"""End to end on a local Ray: portal → validate → PII → MCP → stub LLMs with quorum → PDF, on PostgreSQL, NATS and S3.

One Ray instance and one set of actors serve the whole module; each test submits its own jobs.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import ray
from pypdf import PdfReader

from actors.object_store import checkpoint_key
from cluster.relay import OutboxRelay
from cluster.tracing import read_spans
from schemas import JobState
from tests.conftest import NATS_URL
from tests.integration.stack import (
    PLANTED,
    planted_brief,
    ray_logs,
    running_portal,
    running_stack,
    wait_state,
)

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def stack(pg_url: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Ray + actors + portal on PostgreSQL, the S3 test server and NATS."""
    with running_stack(pg_url, tmp_path_factory.mktemp("mka-home")) as running, \
            running_portal(running, "e2e-portal", roles=("analyst",)) as portal:
        yield running.client, portal.base, portal.keys["analyst"]


_wait_state = wait_state
_brief = planted_brief


def test_whole_chain_through_the_portal(stack) -> None:  # type: ignore[no-untyped-def]
    client, base, api_key = stack
    brief = _brief(project="e2e-portal")
    assert httpx.post(f"{base}/v1/jobs", json={"brief": brief}).status_code == 401  # secure by default
    with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {api_key}"}) as http:
        bad = http.post("/v1/jobs", json={"brief": {**brief, "markets": ["XX"], "locale": "nope"}})
        assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
        assert {p["field"] for p in bad.json()["errors"]} == {"markets", "locale"}

        created = http.post("/v1/jobs", json={"brief": brief}, headers={"Idempotency-Key": "e2e-1"})
        assert created.status_code == 202, created.text
        job_id = created.json()["job_id"]
        again = http.post("/v1/jobs", json={"brief": brief}, headers={"Idempotency-Key": "e2e-1"})
        assert again.json()["job_id"] == job_id

        sse: list[dict[str, Any]] = []
        with http.stream("GET", f"/v1/jobs/{job_id}/events", timeout=120) as stream:
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    sse.append(json.loads(line[6:]))
        job = http.get(f"/v1/jobs/{job_id}").json()
        assert job["state"] == "completed", job
        assert not job["degraded"]
        assert set(job["providers"]) == {"openai", "gemini", "xai"}
        [pdf_link] = [a for a in job["artifacts"] if a["kind"] == "pdf"]
        assert pdf_link["uri"].startswith("s3://")
        pdf = http.get(pdf_link["href"])
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert http.get("/v1/jobs/does-not-exist").status_code == 404

    # Events: SSE saw the whole outbox in order; NATS gets each exactly once.
    outbox = client.store.events(job_id)
    assert [e["id"] for e in sse] == [m.event.id for m in outbox]
    assert sse[-1]["payload"]["to_state"] == "completed"
    nats_ids = _relay_and_consume(client, job_id)
    assert sorted(nats_ids) == sorted(m.event.id for m in outbox)

    # PDF: claims are in it.
    text = "".join(p.extract_text() for p in PdfReader(__import__("io").BytesIO(pdf.content)).pages)
    answers = json.loads(client.objects.get(checkpoint_key(client.store.get(job_id).project, job_id, "analyze")))["answers"]
    claims = [c for a in answers for c in a["claims"]]
    assert claims
    flat = " ".join(text.split())
    for claim in claims[:5]:
        assert claim["id"] in flat or " ".join(claim["text"].split())[:40] in flat

    # One trace, a span for every step and agent call.
    record = client.get(job_id)
    spans = read_spans(client.settings.spans_file, record.trace_id)
    names = {s["name"] for s in spans}
    assert {f"step.{s}" for s in ("validate", "redact", "collect", "analyze", "merge", "render")} <= names
    assert {"job", "agent.pii.brief", "agent.collect", "agent.llm", "agent.report"} <= names
    assert {s["trace_id"] for s in spans} == {record.trace_id}

    # PII: planted values reached no LLM request, event, span, log or the PDF.
    sent = [r for p in ("openai", "gemini", "xai") for r in ray.get(client.handles[f"llm-{p}"].recent_requests.remote())]
    assert sent and any("<PERSON_" in r for r in sent)
    evidence = json.loads(client.objects.get(checkpoint_key(client.store.get(job_id).project, job_id, "collect")))["evidence"]
    assert any("<PERSON_" in e["text"] or "<EMAIL_ADDRESS_" in e["text"] for e in evidence), "no planted evidence PII was seen"
    logs = ray_logs()
    channels = {
        "llm requests": "\n".join(sent),
        "events": json.dumps([m.event.model_dump(mode="json") for m in outbox]) + json.dumps([m.headers for m in outbox]),
        "spans": Path(client.settings.spans_file).read_text(),
        "logs": logs,
        "pdf": flat,
        "checkpoints": json.dumps(evidence) + json.dumps(answers),
    }
    for channel, blob in channels.items():
        for value in PLANTED:
            assert value.lower() not in blob.lower(), f"{value!r} leaked into {channel}"


def _relay_and_consume(client, job_id: str) -> list[str]:  # type: ignore[no-untyped-def]
    import nats

    async def go() -> list[str]:
        relay = OutboxRelay(client.store, nats_url=NATS_URL)
        await relay.connect()
        await relay.drain()
        await relay.close()
        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        project = client.get(job_id).project
        sub = await js.subscribe(f"mka.events.{project}.{job_id}.>", ordered_consumer=True)
        ids: list[str] = []
        while True:
            try:
                msg = await sub.next_msg(timeout=2)
            except nats.errors.TimeoutError:
                break
            ids.append(msg.headers["Nats-Msg-Id"])
        await nc.close()
        return ids

    return asyncio.run(go())


def _run(client, script: dict[str, Any], **brief_overrides: Any) -> str:  # type: ignore[no-untyped-def]
    return client.submit(_brief(**brief_overrides), script=script)


def test_quorum_degraded_in_second_latency_plus_grace(stack) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = stack
    script = {"deadline_s": 10, "grace_s": 0.3, "providers": {"openai": {"latency_s": 0.2}, "gemini": {"latency_s": 0.5}, "xai": {"hang": True}}}
    job_id = _run(client, script)
    job = client.wait(job_id, timeout_s=120)
    assert job.state == JobState.COMPLETED and job.degraded
    summary = client.summary(job_id)
    assert summary.quorum and summary.quorum.received == ["openai", "gemini"]
    assert 0.5 <= summary.quorum.waited_s < 0.5 + 0.3 + 0.6
    assert summary.providers["xai"].status == "cancelled"
    assert "grace" in (summary.providers["xai"].reason or "")


def test_one_answer_fails_below_quorum(stack) -> None:  # type: ignore[no-untyped-def]
    client, _, _ = stack
    script = {"deadline_s": 1.5, "providers": {"gemini": {"error": "auth"}, "xai": {"hang": True}}}
    job_id = _run(client, script)
    job = client.wait(job_id, timeout_s=120)
    assert job.state == JobState.FAILED
    assert job.error and job.error["code"] == "below_quorum"
    message = job.error["message"]
    assert "gemini (auth" in message
    assert "xai (no answer by the 1.5s deadline)" in message or "xai (timeout: no answer within" in message
    summary = client.summary(job_id)
    assert summary.quorum and summary.quorum.received == ["openai"]


def test_orchestrator_metrics_reach_rays_prometheus_endpoint(stack) -> None:  # type: ignore[no-untyped-def]
    import urllib.request

    client, _, _ = stack
    job = client.wait(client.submit(_brief()), timeout_s=120)
    assert job.state == JobState.COMPLETED, job.error
    port = ray._private.worker._global_node.metrics_export_port  # noqa: SLF001 - where Prometheus scrapes
    wanted = {"ray_mka_job_transitions", "ray_mka_step_latency_seconds_bucket", "ray_mka_provider_outcomes",
              "ray_mka_quorum_decisions", "ray_mka_jobs_running", "ray_mka_job_duration_seconds_bucket",
              "ray_mka_quorum_wait_seconds_bucket", "ray_mka_jobs", "ray_mka_outbox_backlog", "ray_mka_relay_lag_seconds"}
    deadline = time.monotonic() + 90  # Ray exports on an interval: poll until the job's end shows
    seen: set[str] = set()
    transitions: list[str] = []
    while time.monotonic() < deadline:
        body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        seen = {line.split("{", 1)[0].removesuffix("_total") for line in body.splitlines() if line.startswith("ray_mka_")}
        transitions = [line for line in body.splitlines() if line.startswith("ray_mka_job_transitions")]
        if wanted <= seen and any('state="completed"' in line for line in transitions):
            break
        time.sleep(1)
    assert wanted <= seen, f"missing metrics: {wanted - seen}"
    assert any('state="completed"' in line for line in transitions), transitions
    assert 'provider="openai"' in body
    durations = [line for line in body.splitlines() if line.startswith("ray_mka_job_duration_seconds_count")]
    assert any('outcome="completed"' in line or 'outcome="degraded"' in line for line in durations), durations
