"""The portal API on a fake backend: validation errors, status mapping, idempotency header, SSE framing."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from fastapi.testclient import TestClient

from actors.job_store import OutboxMessage
from schemas import (
    Artifact,
    ArtifactNotFound,
    Brief,
    Event,
    JobNotFound,
    JobRecord,
    JobState,
    StepRecord,
    StorageError,
)
from schemas.pipeline import ProvidersScript
from schemas.summary import ArtifactLink, JobSummary
from serve_app import PortalBackend, create_app, status_for
from tests.conftest import brief_data

pytestmark = pytest.mark.unit

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


class FakeBackend(PortalBackend):
    """Records submits; serves one scripted job."""

    def __init__(self) -> None:
        self.submits: list[tuple[Brief, str | None, ProvidersScript | None]] = []
        self.jobs: dict[str, JobRecord] = {}

    def submit(self, brief: Brief, *, idempotency_key: str | None, script: ProvidersScript | None) -> str:
        self.submits.append((brief, idempotency_key, script))
        job_id = f"job-{idempotency_key or len(self.submits)}"
        self.jobs[job_id] = JobRecord(id=job_id, project=brief.project, state=JobState.COMPLETED, version=8,
                                      brief=brief, created_at=NOW, updated_at=NOW)
        return job_id

    def job(self, job_id: str) -> tuple[JobRecord, list[StepRecord], JobSummary]:
        if job_id not in self.jobs:
            raise JobNotFound(f"no job {job_id}")
        job = self.jobs[job_id]
        summary = JobSummary(job_id=job_id, state=job.state.value, degraded=False, artifacts=[
            ArtifactLink(id="a1", kind="pdf", uri="file:///srv/mka/objects/x.pdf", sha256="0" * 64, path="/srv/mka/objects/x.pdf"),
            ArtifactLink(id="a2", kind="pdf", uri="file:///srv/mka/objects/de_DE/x.pdf", sha256="1" * 64, locale="de_DE"),
        ])
        return job, [], summary

    def events(self, job_id: str) -> list[OutboxMessage]:
        job, _, _ = self.job(job_id)
        states = ["validating", "completed"]
        return [
            OutboxMessage(
                seq=i + 1, subject=f"mka.events.{job.project}.{job_id}.job_state_changed", headers={},
                event=Event(id=f"e{i}", type="job.state_changed", job_id=job_id, project=job.project,
                            occurred_at=NOW, payload={"to_state": s}),
            )
            for i, s in enumerate(states)
        ]

    def artifact(self, artifact_id: str) -> tuple[Artifact, bytes]:
        return self.artifact_meta(artifact_id), b"%PDF"

    def artifact_meta(self, artifact_id: str) -> Artifact:
        if artifact_id != "a1":
            raise ArtifactNotFound("no artifact")
        return Artifact(id="a1", job_id="j", kind="pdf", key="projects/p/jobs/j/report.pdf", uri="file:///x.pdf",
                        content_type="application/pdf", size=4, sha256="0" * 64, created_at=NOW)

    def job_artifacts(self, job_id: str) -> list[Artifact]:
        self.job(job_id)
        return [self.artifact_meta("a1")]

    def cancel(self, job_id: str) -> str:
        raise StorageError("storage down")

    def resume(self, job_id: str) -> None:
        from schemas import IllegalTransition

        raise IllegalTransition(f"job {job_id} is completed; only jobs failed by infrastructure resume")


@pytest.fixture
def http() -> tuple[TestClient, FakeBackend]:
    app = create_app()
    backend = FakeBackend()
    app.state.backend = backend
    return TestClient(app), backend


def test_submit_validates_and_passes_idempotency_key(http) -> None:  # type: ignore[no-untyped-def]
    client, backend = http
    r = client.post("/v1/jobs", json={"brief": brief_data(), "providers_script": {"deadline_s": 5}},
                    headers={"Idempotency-Key": "k1"})
    assert r.status_code == 202
    assert r.json() == {"job_id": "job-k1", "links": {"self": "/v1/jobs/job-k1", "events": "/v1/jobs/job-k1/events"}}
    brief, key, script = backend.submits[0]
    assert key == "k1" and script is not None and script.deadline_s == 5


def test_invalid_brief_is_422_listing_every_field(http) -> None:  # type: ignore[no-untyped-def]
    client, backend = http
    r = client.post("/v1/jobs", json={"brief": brief_data(markets=["ZZ"], questions=[], locale="??")})
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["code"] == "invalid_brief"
    assert {p["field"] for p in error["problems"]} == {"markets", "questions", "locale"}
    assert backend.submits == []


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"brief": 3}', b"[]", b'{"brief": {}, "providers_script": {"providers": {"x": {"error": "nope"}}}}'],
)
def test_malformed_bodies_are_422_not_500(http, body: bytes) -> None:  # type: ignore[no-untyped-def]
    client, _ = http
    r = client.post("/v1/jobs", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["error"]["problems"]


def test_oversized_body_is_rejected_early(http) -> None:  # type: ignore[no-untyped-def]
    client, backend = http
    r = client.post("/v1/jobs", content=b"{" + b" " * 300_000 + b"}", headers={"content-type": "application/json"})
    assert r.status_code == 422 and backend.submits == []


def test_job_and_artifact_routes(http) -> None:  # type: ignore[no-untyped-def]
    client, _ = http
    job_id = client.post("/v1/jobs", json={"brief": brief_data()}).json()["job_id"]
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert job["state"] == "completed" and job["artifacts"][0]["href"] == "/v1/artifacts/a1"
    assert "/srv/mka" not in str(job) and "path" not in job["artifacts"][0]  # never a server path
    assert [(a["kind"], a["locale"]) for a in job["artifacts"]] == [("pdf", None), ("pdf", "de_DE")]  # localized reports
    art = client.get("/v1/artifacts/a1")
    assert art.content == b"%PDF" and art.headers["content-type"] == "application/pdf"
    assert art.headers["x-content-sha256"] == "0" * 64
    assert client.get("/v1/jobs/nope").status_code == 404
    assert client.get("/v1/artifacts/nope").status_code == 404


def test_resume_of_a_finished_job_is_409(http) -> None:  # type: ignore[no-untyped-def]
    client, _ = http
    r = client.post("/v1/jobs/x/resume")
    assert r.status_code == 409 and "only jobs failed by infrastructure" in r.json()["error"]["message"]


def test_retryable_errors_are_503(http) -> None:  # type: ignore[no-untyped-def]
    client, _ = http
    r = client.post("/v1/jobs/x/cancel")
    assert r.status_code == 503 and r.json()["error"]["retryable"] is True


def test_sse_frames_events_and_ends_at_terminal_state(http) -> None:  # type: ignore[no-untyped-def]
    client, _ = http
    job_id = client.post("/v1/jobs", json={"brief": brief_data()}).json()["job_id"]
    with client.stream("GET", f"/v1/jobs/{job_id}/events") as stream:
        body = "".join(stream.iter_text())
    frames = [f for f in body.split("\n\n") if f.startswith("id:")]
    assert [f.splitlines()[0] for f in frames] == ["id: 1", "id: 2"]
    assert all("event: job.state_changed" in f for f in frames)
    with client.stream("GET", f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": "1"}) as stream:
        body = "".join(stream.iter_text())
    assert "id: 1\n" not in body and "id: 2\n" in body


def test_status_mapping() -> None:
    from schemas import IdempotencyConflict, InvalidBrief, MkaError

    assert status_for(InvalidBrief([])) == 422
    assert status_for(JobNotFound("x")) == 404
    assert status_for(IdempotencyConflict("x")) == 409
    assert status_for(StorageError("x")) == 503
    assert status_for(MkaError("x")) == 500


def test_no_backend_is_503() -> None:
    client = TestClient(create_app())
    assert client.get("/v1/jobs/x").status_code == 503
