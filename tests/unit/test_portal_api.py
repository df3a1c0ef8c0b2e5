"""The portal API on a fake backend: validation errors, status mapping, idempotency header, SSE framing."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from actors.documents.convert import Limits, check_document
from actors.documents.store import DocumentInfo
from actors.job_store import OutboxMessage
from schemas import (
    Artifact,
    ArtifactNotFound,
    Brief,
    Event,
    Evidence,
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

from schemas.figma import FigmaExport, FillPlan, Replacement  # noqa: E402

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


class FakeBackend(PortalBackend):
    """Records submits; serves one scripted job."""

    def __init__(self) -> None:
        self.submits: list[tuple[Brief, str | None, ProvidersScript | None]] = []
        self.jobs: dict[str, JobRecord] = {}
        self.uploads: list[tuple[str, str, bytes]] = []

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

    def upload_document(self, project: str, name: str, data: bytes) -> DocumentInfo:
        doc_type = check_document(name, data, Limits(max_bytes=self.max_document_bytes()))
        self.uploads.append((project, name, data))
        return DocumentInfo(document_id="doc-0123456789abcdef", project=project, type=doc_type, size=len(data),
                            sha256="0" * 64, created_at=NOW)

    def max_document_bytes(self) -> int:
        return 200_000

    def evidence(self, job_id: str) -> list[Evidence]:
        self.job(job_id)
        return [Evidence(id="doc-0123456789abcdef-t1r1", source="doc://doc-0123456789abcdef#t1r1", text="DE 52%",
                         data={"oat_share_pct": 52.0}, source_type="document", retrieved_at=NOW)]

    def figma_export(self, job_id: str, template: str, locale: str | None) -> FigmaExport:
        self.job(job_id)
        if template != "deck":
            raise ArtifactNotFound(f"no template {template} in project default")
        plan = FillPlan(template_id="deck", version=2, job_id=job_id, locale=locale or "en_US", replacements=[
            Replacement(node_id="1:2", node_name="#title", field="title", kind="text", value="Oat launch")])
        return FigmaExport(locale=plan.locale, plan=plan, preview="<svg><text>Oat launch</text></svg>")

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


DOCS = Path(__file__).resolve().parents[1] / "data" / "docs"


def test_document_upload_is_multipart_and_returns_the_id(http) -> None:  # type: ignore[no-untyped-def]
    client, backend = http
    data = (DOCS / "market.xlsx").read_bytes()
    r = client.post("/v1/documents", files={"file": ("market.xlsx", data)}, data={"project": "demo"})
    assert r.status_code == 201, r.text
    assert r.json()["document_id"] == "doc-0123456789abcdef" and r.json()["type"] == "xlsx"
    assert backend.uploads == [("demo", "market.xlsx", data)]


@pytest.mark.parametrize(("name", "status", "reason"), [
    ("encrypted.pdf", 422, "encrypted"),
    ("bomb.xlsx", 413, "too_large"),  # over this backend's 200 kB limit before any parser runs
    ("diagram.odg", 415, "unsupported_type"),
])
def test_bad_uploads_get_their_own_status(http, name: str, status: int, reason: str) -> None:  # type: ignore[no-untyped-def]
    client, backend = http
    r = client.post("/v1/documents", files={"file": (name, (DOCS / name).read_bytes())})
    assert r.status_code == status, r.text
    assert r.json()["error"]["reason"] == reason
    assert name.split(".")[0] in r.json()["error"]["message"] or reason == "too_large"
    assert backend.uploads == []


def test_upload_needs_multipart_and_a_file_part(http) -> None:  # type: ignore[no-untyped-def]
    client, _ = http
    assert client.post("/v1/documents", json={"file": "x"}).status_code == 415
    r = client.post("/v1/documents", data={"project": "demo"}, files={"other": ("a.txt", b"x")})
    assert r.status_code == 422 and "file" in r.json()["error"]["message"]
    bad = client.post("/v1/documents", data={"project": "No Spaces"}, files={"file": ("a.md", b"# x")})
    assert bad.status_code == 422


def test_job_evidence_lists_source_types(http) -> None:  # type: ignore[no-untyped-def]
    client, _ = http
    job_id = client.post("/v1/jobs", json={"brief": brief_data()}).json()["job_id"]
    rows = client.get(f"/v1/jobs/{job_id}/evidence").json()
    assert rows == [{"id": "doc-0123456789abcdef-t1r1", "source": "doc://doc-0123456789abcdef#t1r1",
                     "source_type": "document", "text": "DE 52%", "data": {"oat_share_pct": 52.0},
                     "retrieved_at": "2026-01-01T00:00:00Z"}]
    assert client.get("/v1/jobs/nope/evidence").status_code == 404


def test_a_small_zip_bomb_is_refused_with_its_reason(http) -> None:  # type: ignore[no-untyped-def]
    import io
    import zipfile

    client, backend = http
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (64 * 1024 * 1024))
    assert len(buffer.getvalue()) < 200_000  # under the size limit: only the zip check can stop it
    r = client.post("/v1/documents", files={"file": ("big.xlsx", buffer.getvalue())})
    assert r.status_code == 422 and r.json()["error"]["reason"] == "zip_bomb" and backend.uploads == []


def test_figma_plan_and_preview_routes(http: tuple[TestClient, FakeBackend]) -> None:
    client, backend = http
    job_id = client.post("/v1/jobs", json={"brief": brief_data()}).json()["job_id"]
    plan = client.get(f"/v1/jobs/{job_id}/figma-plan", params={"template": "deck", "locale": "de_DE"})
    assert plan.status_code == 200
    assert set(plan.json()) == {"template_id", "version", "job_id", "locale", "replacements", "missing_fields",
                                "unknown_fields", "overflow"}
    assert plan.json()["locale"] == "de_DE" and plan.json()["replacements"][0]["kind"] == "text"
    preview = client.get(f"/v1/jobs/{job_id}/figma-preview", params={"template": "deck"})
    assert preview.headers["content-type"] == "image/svg+xml" and b"Oat launch" in preview.content
    assert client.get(f"/v1/jobs/{job_id}/figma-plan", params={"template": "nope"}).status_code == 404
    assert client.get(f"/v1/jobs/{job_id}/figma-plan").status_code == 422  # the template is required
    assert client.get("/v1/jobs/no-such-job/figma-plan", params={"template": "deck"}).status_code == 404


def test_the_figma_plugin_panel_may_fetch_plans_cross_origin_and_nothing_else(http: tuple[TestClient, FakeBackend]) -> None:
    client, _backend = http
    job_id = client.post("/v1/jobs", json={"brief": brief_data()}).json()["job_id"]
    path = f"/v1/jobs/{job_id}/figma-plan"
    preflight = client.options(path, headers={"Origin": "null", "Access-Control-Request-Method": "GET",
                                              "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "null"
    assert "Authorization" in preflight.headers["access-control-allow-headers"]
    got = client.get(path, params={"template": "deck"}, headers={"Origin": "null"})
    assert got.status_code == 200 and got.headers["access-control-allow-origin"] == "null"
    missing = client.get(path, params={"template": "nope"}, headers={"Origin": "null"})
    assert missing.status_code == 404 and missing.headers["access-control-allow-origin"] == "null"  # readable
    other = client.get(f"/v1/jobs/{job_id}", headers={"Origin": "null"})
    assert "access-control-allow-origin" not in other.headers
    evil = client.get(path, params={"template": "deck"}, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in evil.headers
