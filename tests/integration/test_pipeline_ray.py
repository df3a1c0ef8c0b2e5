"""End to end on a local Ray: portal → validate → PII → MCP → stub LLMs with quorum → PDF, on PostgreSQL, NATS and S3.

One Ray instance and one set of actors serve the whole module; each test submits its own jobs.
"""

from __future__ import annotations

import asyncio
import glob
import json
import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import ray
from pypdf import PdfReader
from sqlalchemy.engine import make_url

from cluster.client import connect
from cluster.relay import OutboxRelay
from cluster.settings import Settings
from cluster.tracing import read_spans
from schemas import EventType, JobState, StepOutcome
from tests.conftest import NATS_URL, brief_data, wait_for_port
from tests.integration.s3_server import start_s3_server

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.timeout(600)]

PLANTED_BRIEF = ["Sabine Fischer", "sabine.fischer@example.org", "+49 151 23456789"]
PLANTED_EVIDENCE = ["Henrik Vogel", "henrik.vogel@example.net"]
PLANTED = PLANTED_BRIEF + PLANTED_EVIDENCE


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def database(pg_url: str):  # type: ignore[no-untyped-def]
    """A database of its own, so the orchestrator resumes only this module's jobs."""
    name = f"mka_e2e_{uuid.uuid4().hex[:10]}"
    admin = make_url(pg_url).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:  # type: ignore[no-untyped-def]
    """The bundled sample dataset with PII planted in its notice (evidence text)."""
    from importlib import resources

    data = json.loads(resources.files("actors.mcp").joinpath("data/market_sample.json").read_text(encoding="utf-8"))
    path = tmp_path_factory.mktemp("dataset") / "market.json"
    data = _plant(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _plant(data: dict[str, Any]) -> dict[str, Any]:
    """Put the planted evidence PII into the dataset notice (it becomes evidence text)."""
    return {**data, "_notice": f"{data['_notice']} Curated by {PLANTED_EVIDENCE[0]} ({PLANTED_EVIDENCE[1]})."}


@pytest.fixture(scope="module")
def stack(database: str, dataset: Path, tmp_path_factory):  # type: ignore[no-untyped-def]
    """Ray + actors + portal on PostgreSQL, the S3 test server and NATS."""
    wait_for_port("127.0.0.1", 4222)
    s3, moto = start_s3_server()
    home = tmp_path_factory.mktemp("mka-home")
    settings = Settings(
        home=home,
        database_url=database,
        nats_url=NATS_URL,
        s3_endpoint=s3.endpoint,
        s3_access_key=s3.access_key,
        s3_secret_key=s3.secret_key,
        s3_bucket=f"e2e-{uuid.uuid4().hex[:8]}",
        ray_namespace=f"mka-e2e-{uuid.uuid4().hex[:8]}",
        quorum_deadline_s=10,
        quorum_grace_s=0.3,
        mcp_servers={
            "market-data": {
                "command": os.sys.executable,
                "args": ["-m", "actors.mcp.market_data_server"],
                "env": {"MKA_MARKET_DATA_FILE": str(dataset)},
            }
        },
    )
    if ray.is_initialized():
        ray.shutdown()
    client = connect(settings)
    from ray import serve

    from serve_app.deployment import portal_app

    port = _free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(portal_app(client.settings), name="mka-portal", route_prefix="/")
    yield client, f"http://127.0.0.1:{port}"
    serve.shutdown()
    ray.shutdown()
    moto.stop()


def _wait_state(client, job_id: str, states: set[JobState], timeout_s: float = 60) -> Any:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(job_id)
        if job.state in states or job.terminal:
            return job
        time.sleep(0.05)
    pytest.fail(f"job {job_id} never reached {states}")


def _brief(**overrides: Any) -> dict[str, Any]:
    return brief_data(
        audience=f"Coffee lovers like our tester {PLANTED_BRIEF[0]} ({PLANTED_BRIEF[1]}, {PLANTED_BRIEF[2]})",
        notes=f"Questions to {PLANTED_BRIEF[0]}.",
        **overrides,
    )


def test_whole_chain_through_the_portal(stack) -> None:  # type: ignore[no-untyped-def]
    client, base = stack
    brief = _brief()
    with httpx.Client(base_url=base, timeout=30) as http:
        bad = http.post("/v1/jobs", json={"brief": {**brief, "markets": ["XX"], "locale": "nope"}})
        assert bad.status_code == 422
        assert {p["field"] for p in bad.json()["error"]["problems"]} == {"markets", "locale"}

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
    answers = json.loads(client.objects.get(f"jobs/{job_id}/steps/analyze.json"))["answers"]
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
    evidence = json.loads(client.objects.get(f"jobs/{job_id}/steps/collect.json"))["evidence"]
    assert any("<PERSON_" in e["text"] or "<EMAIL_ADDRESS_" in e["text"] for e in evidence), "no planted evidence PII was seen"
    logs = "".join(Path(p).read_text(errors="replace") for p in glob.glob(_ray_logs() + "/*") if os.path.isfile(p))
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


def _ray_logs() -> str:
    return ray._private.worker._global_node.get_logs_dir_path()  # noqa: SLF001 - test inspects worker logs


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
    client, _ = stack
    script = {"deadline_s": 10, "grace_s": 0.3, "providers": {"openai": {"latency_s": 0.2}, "gemini": {"latency_s": 0.5}, "xai": {"hang": True}}}
    job_id = _run(client, script)
    job = client.wait(job_id, timeout_s=120)
    assert job.state == JobState.COMPLETED and job.degraded
    summary = client.summary(job_id)
    assert summary["quorum"]["received"] == ["openai", "gemini"]
    assert 0.5 <= summary["quorum"]["waited_s"] < 0.5 + 0.3 + 0.6
    assert summary["providers"]["xai"]["status"] == "cancelled"
    assert "grace" in summary["providers"]["xai"]["reason"]


def test_one_answer_fails_below_quorum(stack) -> None:  # type: ignore[no-untyped-def]
    client, _ = stack
    script = {"deadline_s": 1.5, "providers": {"gemini": {"error": "auth"}, "xai": {"hang": True}}}
    job_id = _run(client, script)
    job = client.wait(job_id, timeout_s=120)
    assert job.state == JobState.FAILED
    assert job.error and job.error["code"] == "below_quorum"
    assert "gemini (auth" in job.error["message"] and "xai (no answer by the 1.5s deadline)" in job.error["message"]
    summary = client.summary(job_id)
    assert summary["quorum"]["received"] == ["openai"]


def test_llm_actor_killed_mid_call_is_survived(stack) -> None:  # type: ignore[no-untyped-def]
    client, _ = stack
    script = {"deadline_s": 20, "grace_s": 0.2, "providers": {"openai": {"latency_s": 8}, "gemini": {"latency_s": 2}, "xai": {"latency_s": 0.1}}}
    job_id = _run(client, script)
    openai = client.handles["llm-openai"]
    deadline = time.monotonic() + 60
    while not any(job_id in r for r in ray.get(openai.recent_requests.remote())):  # the call is in flight
        assert time.monotonic() < deadline, "openai never received the request"
        time.sleep(0.05)
    ray.kill(openai, no_restart=False)
    job = client.wait(job_id, timeout_s=120)
    assert job.state == JobState.COMPLETED and job.degraded
    summary = client.summary(job_id)
    assert summary["providers"]["openai"]["status"] == "error"
    assert "died" in summary["providers"]["openai"]["reason"]
    # The killed actor restarts and serves the next job.
    assert ray.get(client.handles["llm-openai"].recent_requests.remote()) == []


def test_orchestrator_killed_mid_job_resumes_without_rerunning_steps(stack) -> None:  # type: ignore[no-untyped-def]
    client, _ = stack
    script = {"deadline_s": 20, "providers": {p: {"latency_s": 3} for p in ("openai", "gemini", "xai")}}
    job_id = _run(client, script)
    _wait_state(client, job_id, {JobState.ANALYZING})
    ray.kill(client.orchestrator, no_restart=False)
    job = client.wait(job_id, timeout_s=180)
    assert job.state == JobState.COMPLETED
    steps = client.store.steps(job_id)
    for name in ("validate", "redact", "collect"):
        assert [(s.attempt, s.outcome) for s in steps if s.step == name] == [(1, StepOutcome.SUCCEEDED)]
    assert [(s.attempt, s.outcome) for s in steps if s.step == "analyze"] == [(1, StepOutcome.RUNNING), (2, StepOutcome.SUCCEEDED)]
    entered = [m.event.payload["to_state"] for m in client.store.events(job_id) if m.event.type == EventType.JOB_STATE_CHANGED]
    assert len(entered) == len(set(entered)) == 7


def test_orchestrator_metrics_reach_rays_prometheus_endpoint(stack) -> None:  # type: ignore[no-untyped-def]
    import urllib.request

    client, _ = stack
    job = client.wait(client.submit(_brief()), timeout_s=120)
    assert job.state == JobState.COMPLETED, job.error
    port = ray._private.worker._global_node.metrics_export_port  # noqa: SLF001 - where Prometheus scrapes
    wanted = {"ray_mka_job_transitions", "ray_mka_step_latency_seconds_bucket", "ray_mka_provider_outcomes",
              "ray_mka_quorum_decisions", "ray_mka_jobs_running"}
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
