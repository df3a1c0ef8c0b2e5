"""The portal API on a fake backend: validation errors, status mapping, idempotency header, SSE framing."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from schemas import JobNotFound, StorageError
from serve_app import status_for
from tests.conftest import brief_data
from tests.portal import FakeBackend, Keys, make_identity, portal

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_identity(tmp_path_factory.mktemp("identity"))


@pytest.fixture
def http(keys: Keys) -> tuple[TestClient, FakeBackend]:
    backend = FakeBackend()
    return portal(keys, backend, key=keys.analyst), backend


def acme(**fields):  # type: ignore[no-untyped-def]
    return brief_data(project="acme", **fields)


def test_submit_validates_and_passes_idempotency_key(http) -> None:  # type: ignore[no-untyped-def]
    client, backend = http
    r = client.post("/v1/jobs", json={"brief": acme(), "providers_script": {"deadline_s": 5}},
                    headers={"Idempotency-Key": "k1"})
    assert r.status_code == 202
    assert r.json() == {"job_id": "job-k1", "project": "acme",
                        "links": {"self": "/v1/jobs/job-k1", "events": "/v1/jobs/job-k1/events"}}
    brief, key, script = backend.submits[0]
    assert key == "k1" and script is not None and script.deadline_s == 5


def test_invalid_brief_is_422_listing_every_field(http) -> None:  # type: ignore[no-untyped-def]
    client, backend = http
    r = client.post("/v1/jobs", json={"brief": acme(markets=["ZZ"], questions=[], locale="??")})
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["code"] == "invalid_brief" and problem["status"] == 422 and problem["type"].endswith("invalid_brief")
    assert {p["field"] for p in problem["errors"]} == {"markets", "questions", "locale"}
    assert backend.submits == []


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"brief": 3}', b"[]", b'{"brief": {}, "providers_script": {"providers": {"x": {"error": "nope"}}}}'],
)
def test_malformed_bodies_are_422_not_500(http, body: bytes) -> None:  # type: ignore[no-untyped-def]
    client, _ = http
    r = client.post("/v1/jobs", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.json()["errors"]


def test_oversized_body_is_413(http) -> None:  # type: ignore[no-untyped-def]
    client, backend = http
    r = client.post("/v1/jobs", content=b"{" + b" " * 1_100_000 + b"}", headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["reason"] == "too_large" and backend.submits == []


def test_job_and_artifact_routes(http) -> None:  # type: ignore[no-untyped-def]
    client, _ = http
    job_id = client.post("/v1/jobs", json={"brief": acme()}).json()["job_id"]
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
    job_id = client.post("/v1/jobs", json={"brief": acme()}).json()["job_id"]
    r = client.post(f"/v1/jobs/{job_id}/resume")
    assert r.status_code == 409 and "only jobs failed by infrastructure" in r.json()["detail"]


def test_retryable_errors_are_503(http) -> None:  # type: ignore[no-untyped-def]
    client, _ = http
    job_id = client.post("/v1/jobs", json={"brief": acme()}).json()["job_id"]
    r = client.post(f"/v1/jobs/{job_id}/cancel")
    assert r.status_code == 503 and r.json()["retryable"] is True


def test_sse_frames_events_and_ends_at_terminal_state(http) -> None:  # type: ignore[no-untyped-def]
    client, _ = http
    job_id = client.post("/v1/jobs", json={"brief": acme()}).json()["job_id"]
    with client.stream("GET", f"/v1/jobs/{job_id}/events") as stream:
        body = "".join(stream.iter_text())
    frames = [f for f in body.split("\n\n") if f.startswith("id:")]
    assert [f.splitlines()[0] for f in frames] == ["id: 1", "id: 2"]
    assert all("event: job.state_changed" in f for f in frames)
    with client.stream("GET", f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": "1"}) as stream:
        body = "".join(stream.iter_text())
    assert "id: 1\n" not in body and "id: 2\n" in body


def test_events_say_whether_their_signature_verifies_and_the_keys_are_public(http, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    import json

    from cluster.events import verify
    from cluster.signing import KeySet, PublicKey
    from tests.portal import SIGNING_KEY

    client, backend = http
    job_id = client.post("/v1/jobs", json={"brief": acme()}).json()["job_id"]
    backend.unsigned_last = True
    with client.stream("GET", f"/v1/jobs/{job_id}/events") as stream:
        frames = [f for f in "".join(stream.iter_text()).split("\n\n") if f.startswith("id:")]
    data = [json.loads(f.split("data: ", 1)[1]) for f in frames]
    assert [d["verification"] for d in data] == ["verified", "unsigned"]
    listed = client.get(f"/v1/jobs/{job_id}/events", headers={"Accept": "application/json"}).json()
    assert [(e["seq"], e["verification"]) for e in listed] == [(1, "verified"), (2, "unsigned")]
    anonymous = portal(keys, backend)
    jwks = anonymous.get("/v1/signing-keys")
    assert jwks.status_code == 200
    [jwk] = jwks.json()["keys"]
    assert jwk["kid"] == SIGNING_KEY.key_id and jwk["status"] == "active" and "d" not in jwk
    # a consumer can verify an event with nothing but the published JWK
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    raw = base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
    keys_from_jwks = KeySet([PublicKey.of(Ed25519PublicKey.from_public_bytes(raw))])
    assert verify(listed[0], keys_from_jwks).ok and verify(data[0], keys_from_jwks).ok  # as served
    assert verify(listed[1], keys_from_jwks).reason == "unsigned"

    def no_keys() -> KeySet:
        from cluster.signing import SigningKeyError

        raise SigningKeyError("no signing key here")

    backend.signing_keys = no_keys  # a portal started where no key is: events still stream, each says so
    listed = client.get(f"/v1/jobs/{job_id}/events", headers={"Accept": "application/json"}).json()
    assert {e["verification"] for e in listed} == {"unverifiable (no signing keys here)"}


def test_status_mapping() -> None:
    from schemas import IdempotencyConflict, InvalidBrief, MkaError

    assert status_for(InvalidBrief([])) == 422
    assert status_for(JobNotFound("x")) == 404
    assert status_for(IdempotencyConflict("x")) == 422  # same key, different request
    assert status_for(StorageError("x")) == 503
    assert status_for(MkaError("x")) == 500


def test_no_backend_is_503(keys: Keys) -> None:
    client = portal(keys, key=keys.analyst)
    client.app.state.backend = None
    assert client.get("/v1/jobs/x").status_code == 503


DOCS = Path(__file__).resolve().parents[1] / "data" / "docs"


def test_document_upload_is_multipart_and_returns_the_id(http) -> None:  # type: ignore[no-untyped-def]
    client, backend = http
    data = (DOCS / "market.xlsx").read_bytes()
    r = client.post("/v1/documents", files={"file": ("market.xlsx", data)})
    assert r.status_code == 201, r.text
    assert r.json()["document_id"] == "doc-0123456789abcdef" and r.json()["type"] == "xlsx"
    assert backend.uploads == [("acme", "market.xlsx", data)]  # the key's project
    other = client.post("/v1/documents", files={"file": ("market.xlsx", data)}, data={"project": "demo"})
    assert other.status_code == 403 and len(backend.uploads) == 1


@pytest.mark.parametrize(("name", "status", "reason"), [
    ("encrypted.pdf", 422, "encrypted"),
    ("bomb.xlsx", 413, "too_large"),  # over this backend's 200 kB limit before any parser runs
    ("diagram.odg", 415, "unsupported_type"),
])
def test_bad_uploads_get_their_own_status(http, name: str, status: int, reason: str) -> None:  # type: ignore[no-untyped-def]
    client, backend = http
    r = client.post("/v1/documents", files={"file": (name, (DOCS / name).read_bytes())})
    assert r.status_code == status, r.text
    assert r.json()["reason"] == reason
    assert name.split(".")[0] in r.json()["detail"] or reason == "too_large"
    assert backend.uploads == []


def test_upload_needs_multipart_and_a_file_part(http) -> None:  # type: ignore[no-untyped-def]
    client, _ = http
    assert client.post("/v1/documents", json={"file": "x"}).status_code == 415
    r = client.post("/v1/documents", files={"other": ("a.txt", b"x")})
    assert r.status_code == 422 and "file" in r.json()["detail"]


def test_job_evidence_lists_source_types(http) -> None:  # type: ignore[no-untyped-def]
    client, _ = http
    job_id = client.post("/v1/jobs", json={"brief": acme()}).json()["job_id"]
    rows = client.get(f"/v1/jobs/{job_id}/evidence").json()
    assert rows == [{"id": "doc-0123456789abcdef-t1r1", "source": "doc://doc-0123456789abcdef#t1r1",
                     "source_type": "document", "text": "DE 52%", "data": {"oat_share_pct": 52.0},
                     "retrieved_at": "2026-01-01T00:00:00Z"},
                    {"id": "web-1", "source": "https://example.org/oat", "source_type": None,  # no figures, no type
                     "text": "Oat drinks grow.", "data": None, "retrieved_at": None}]
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
    assert r.status_code == 422 and r.json()["reason"] == "zip_bomb" and backend.uploads == []


def test_figma_plan_and_preview_routes(http: tuple[TestClient, FakeBackend]) -> None:
    client, backend = http
    job_id = client.post("/v1/jobs", json={"brief": acme()}).json()["job_id"]
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
    job_id = client.post("/v1/jobs", json={"brief": acme()}).json()["job_id"]
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
