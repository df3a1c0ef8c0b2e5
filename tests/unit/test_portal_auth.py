"""Portal identity, RBAC and HTTP hardening on a fake backend: the full route × credential × project matrix,
then one test per hardening item (body limits, media types, CORS, hosts, headers, idempotency, scripts, rate
limits, event streams, server paths, problem details)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from schemas import EventType, IdempotencyConflict, StorageError, parse_brief
from serve_app import create_app
from serve_app.auth import Authenticator
from serve_app.config import PortalConfig
from serve_app.http import HttpPolicy
from tests.conftest import brief_data
from tests.portal import FakeBackend, Keys, make_identity, portal, run_together

pytestmark = pytest.mark.unit


class MatrixBackend(FakeBackend):
    """A backend whose every operation succeeds, so the matrix sees only authorization outcomes."""

    def cancel(self, job_id: str, *, project: str) -> str:
        self._get(job_id, project)
        return "cancelled"

    def resume(self, job_id: str, *, project: str) -> None:
        self._get(job_id, project)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_identity(tmp_path_factory.mktemp("identity"))


def _config(**extra: Any) -> PortalConfig:
    http = extra.pop("http", HttpPolicy(allowed_hosts=("testserver",), server_roots=("/srv/mka",)))
    extra.setdefault("auth_failures_per_minute", 0)
    return PortalConfig(http=http, allow_scripts=True, rate_limit_per_minute=0, **extra)


# --- the matrix ---------------------------------------------------------------------------------------------
# Written from the issue, not from the permission table: who may call each route on project `acme`'s resources.

ANYONE, SIGNED, VIEWER, ANALYST, ADMIN, ROOT = "anyone", "signed", "viewer", "analyst", "admin", "root"
RANK = {VIEWER: 1, ANALYST: 2, ADMIN: 3}


@dataclass(frozen=True)
class Case:
    """One route: who may call it, how to call it on `acme`'s resources, the status of success."""

    needs: str
    path: str
    ok: int = 200
    body: dict[str, Any] | None = None
    scoped: bool = True  # the route acts on a resource (or the named project) of acme
    named: bool = False  # the project is in the path: a deployment admin reaches it with any key


CASES: dict[tuple[str, str], Case] = {
    ("GET", "/v1/health"): Case(ANYONE, "/v1/health", scoped=False),
    ("GET", "/v1/health/live"): Case(ANYONE, "/v1/health/live", scoped=False),
    ("GET", "/v1/health/ready"): Case(ANYONE, "/v1/health/ready", scoped=False),
    ("GET", "/v1/signing-keys"): Case(ANYONE, "/v1/signing-keys", scoped=False),
    ("GET", "/v1/me"): Case(SIGNED, "/v1/me", scoped=False),
    ("GET", "/v1/projects"): Case(SIGNED, "/v1/projects", scoped=False),
    ("POST", "/v1/projects"): Case(ROOT, "/v1/projects", 201, {"name": "p-{n}"}, scoped=False),
    ("GET", "/v1/projects/{project}/members"): Case(ADMIN, "/v1/projects/acme/members", named=True),
    ("POST", "/v1/projects/{project}/members"): Case(ADMIN, "/v1/projects/acme/members", 201,
                                                     {"subject": "user-{n}", "role": "viewer"}, named=True),
    ("DELETE", "/v1/projects/{project}/members"): Case(ADMIN, "/v1/projects/acme/members?subject=gone-{n}", 204, named=True),
    ("DELETE", "/v1/projects/{project}/members/{subject}"): Case(ADMIN, "/v1/projects/acme/members/gone-{n}", 204, named=True),
    ("GET", "/v1/keys"): Case(ADMIN, "/v1/keys", scoped=False),
    ("POST", "/v1/keys"): Case(ADMIN, "/v1/keys", 201, {"role": "viewer", "expires": "1d"}, scoped=False),
    ("DELETE", "/v1/keys/{key_id}"): Case(ADMIN, "/v1/keys/{key_id}"),
    ("GET", "/v1/jobs"): Case(VIEWER, "/v1/jobs?state=completed&limit=5", scoped=False),
    ("POST", "/v1/jobs"): Case(ANALYST, "/v1/jobs", 202, {"brief": "brief"}, scoped=False),
    ("GET", "/v1/briefs/example"): Case(SIGNED, "/v1/briefs/example", scoped=False),
    ("GET", "/v1/jobs/{job_id}/localizations"): Case(VIEWER, "/v1/jobs/{job}/localizations"),
    ("GET", "/v1/templates"): Case(VIEWER, "/v1/templates", scoped=False),
    ("GET", "/v1/documents"): Case(VIEWER, "/v1/documents", scoped=False),
    ("GET", "/v1/jobs/{job_id}"): Case(VIEWER, "/v1/jobs/{job}"),
    ("POST", "/v1/jobs/{job_id}/cancel"): Case(ANALYST, "/v1/jobs/{job}/cancel"),
    ("POST", "/v1/jobs/{job_id}/resume"): Case(ANALYST, "/v1/jobs/{job}/resume", 202),
    ("GET", "/v1/jobs/{job_id}/events"): Case(VIEWER, "/v1/jobs/{job}/events"),
    ("GET", "/v1/jobs/{job_id}/evidence"): Case(VIEWER, "/v1/jobs/{job}/evidence"),
    ("GET", "/v1/jobs/{job_id}/merge"): Case(VIEWER, "/v1/jobs/{job}/merge"),
    ("GET", "/v1/jobs/{job_id}/artifacts"): Case(VIEWER, "/v1/jobs/{job}/artifacts"),
    ("GET", "/v1/jobs/{job_id}/figma-plan"): Case(VIEWER, "/v1/jobs/{job}/figma-plan?template=deck"),
    ("GET", "/v1/jobs/{job_id}/figma-preview"): Case(VIEWER, "/v1/jobs/{job}/figma-preview?template=deck"),
    ("GET", "/v1/artifacts/{artifact_id}"): Case(VIEWER, "/v1/artifacts/a1"),
    ("GET", "/v1/artifacts/{artifact_id}/meta"): Case(VIEWER, "/v1/artifacts/a1/meta"),
    ("POST", "/v1/artifacts/{artifact_id}/hold"): Case(ADMIN, "/v1/artifacts/a1/hold", 200, {"reason": "audit"}),
    ("POST", "/v1/artifacts/{artifact_id}/release"): Case(ADMIN, "/v1/artifacts/a1/release"),
    ("POST", "/v1/documents"): Case(ANALYST, "/v1/documents", 201, scoped=False),
}

# Credentials: (key attribute or a bad value, role in acme or None, extra headers)
GOOD = {"viewer": VIEWER, "pii": VIEWER, "analyst": ANALYST, "admin": ADMIN}
BAD = {"none": None, "garbage": "Bearer not-a-key", "unknown": "Bearer mka_aaaaaaaaaaaa_" + "A" * 43,
       "basic": "Basic dXNlcjpwYXNz", "expired": "expired", "revoked": "revoked"}


def _expected(case: Case, who: str) -> int:
    if case.needs == ANYONE:
        return case.ok
    if who in BAD:
        return 401
    if case.needs == SIGNED:
        return case.ok
    if who == "root@acme" or (who == "root" and case.named):  # the deployment admin is admin of every project
        return case.ok
    if case.needs == ROOT:
        return case.ok if who.startswith("root") else 403
    if who in ("other", "root"):  # admins of another project (their key's own)
        if not case.scoped:
            return case.ok if case.needs in (ADMIN, ANALYST, VIEWER) else 403
        return 404  # acme's resources do not exist for them
    return case.ok if RANK[GOOD[who]] >= RANK[case.needs] else 403


def _call(client: TestClient, method: str, case: Case, auth: dict[str, str], fill: dict[str, str]) -> Any:
    path = case.path.format(**fill)
    if case.path == "/v1/documents" and method == "POST":
        return client.post(path, files={"file": ("notes.md", b"# Notes\n\nOat milk grows.")}, headers=auth)
    body = None
    if case.body is not None:
        body = {k: (brief_data(project=fill["project"]) if v == "brief" else v.format(**fill) if isinstance(v, str)
                    else v) for k, v in case.body.items()}
        if "brief" in body:
            body["brief"].pop("project")  # the project comes from the credential
    return client.request(method, path, json=body, headers=auth)


def test_every_route_is_in_the_matrix(keys: Keys) -> None:
    app = create_app(MatrixBackend(), auth=Authenticator(keys.identity), config=_config())
    from fastapi.routing import APIRoute

    served = {(m, r.path) for r in app.routes if isinstance(r, APIRoute) for m in r.methods}
    assert served == set(CASES)


def test_rbac_matrix_every_route_every_credential_own_and_other_project(keys: Keys) -> None:
    """Every route × {no, malformed, unknown, basic, expired, revoked credential, viewer, pii reader, analyst, admin
    of acme, admin of another project, deployment admin (own project, and acme via X-Mka-Project)}."""
    backend = MatrixBackend()
    client = TestClient(create_app(backend, auth=Authenticator(keys.identity), config=_config()))
    creds: dict[str, dict[str, str]] = {}
    for who, value in BAD.items():
        if value in ("expired", "revoked"):
            value = f"Bearer {getattr(keys, value)}"
        creds[who] = {"Authorization": value} if value else {}
    for who in (*GOOD, "other", "root"):
        creds[who] = {"Authorization": f"Bearer {getattr(keys, who)}"}
    creds["root@acme"] = {**creds["root"], "X-Mka-Project": "acme"}
    seen = 0
    failures = []
    for n, ((method, route), case) in enumerate(sorted(CASES.items())):
        for who, auth in creds.items():
            job = backend.submit(parse_brief(brief_data(project="acme")), idempotency_key=f"{n}-{who}", script=None)
            fill = {"job": job, "project": "acme", "n": f"{n}-{who.replace('@', '-')}",
                    "key_id": _fresh_key(keys, "acme") if "{key_id}" in case.path else ""}
            if "gone-" in case.path:  # a member to remove
                from serve_app.auth import add_member

                add_member(keys.identity, project="acme", subject=f"gone-{fill['n']}", role="viewer", actor="test")
            if who in ("other", "root") and not case.scoped:
                fill["project"] = "other" if who == "other" else "default"
            r = _call(client, method, case, auth, fill)
            seen += 1
            want = _expected(case, who)
            if r.status_code != want:
                failures.append((method, route, who, r.status_code, want, r.text[:160]))
            if r.status_code >= 400:
                assert r.headers["content-type"] == "application/problem+json", (method, route, who)
                problem = r.json()
                assert problem["status"] == r.status_code and problem["type"].startswith("urn:mka:problem:")
            if r.status_code == 401:
                assert r.headers["www-authenticate"].startswith("Bearer")
            assert "/srv/mka" not in r.text  # no server path, in answers or problems
    assert not failures, "\n".join(map(str, failures))
    assert seen == len(CASES) * len(creds) >= 28 * 13


def _fresh_key(keys: Keys, project: str) -> str:
    from serve_app.auth import create_key

    return create_key(keys.identity, project=project, role="viewer", actor="test")[0].key_id


def test_reveal_pii_needs_the_grant_and_is_audited(keys: Keys) -> None:
    backend = MatrixBackend()
    app = create_app(backend, auth=Authenticator(keys.identity), config=_config())
    analyst = TestClient(app, headers={"Authorization": f"Bearer {keys.analyst}"})
    reader = TestClient(app, headers={"Authorization": f"Bearer {keys.pii}"})
    job = analyst.post("/v1/jobs", json={"brief": brief_data(project="acme")}).json()["job_id"]
    assert "<PERSON_1>" in analyst.get(f"/v1/jobs/{job}/merge").text
    denied = analyst.get(f"/v1/jobs/{job}/merge", params={"reveal_pii": "true"})
    assert denied.status_code == 403 and "Anna" not in denied.text
    shown = reader.get(f"/v1/jobs/{job}/merge", params={"reveal_pii": "true"})
    assert shown.status_code == 200 and "Anna Schmidt" in shown.text and shown.headers["cache-control"] == "no-store"
    reader_id = reader.get("/v1/me").json()["id"]
    audit = _audit_events(keys)
    assert {"type": EventType.AUDIT_PII_REVEALED, "actor": f"key:{reader_id}", "target": job} in audit
    assert {"type": EventType.AUDIT_JOB_SUBMITTED, "actor": f"key:{analyst.get('/v1/me').json()['id']}",
            "target": job} in audit


def _audit_events(keys: Keys) -> list[dict[str, str]]:
    from sqlalchemy import select

    from cluster.db import OutboxRow

    with keys.identity._sessions() as s:
        rows = s.scalars(select(OutboxRow).where(OutboxRow.job_id == "audit")).all()
        return [{"type": r.type, **r.event["payload"]} for r in rows]


def test_audit_events_name_the_key_id_never_the_key_and_hashes_are_argon2(keys: Keys, tmp_path: Any) -> None:
    admin = portal(keys, MatrixBackend(), key=keys.admin, config=_config())
    made = admin.post("/v1/keys", json={"role": "analyst", "name": "ci"}).json()
    assert made["api_key"].startswith("mka_") and made["role"] == "analyst" and "key_hash" not in made
    listed = admin.get("/v1/keys").json()
    assert made["key_id"] in {k["key_id"] for k in listed} and "api_key" not in json.dumps(listed)
    assert admin.delete(f"/v1/keys/{made['key_id']}").json()["revoked_at"]
    revoked = portal(keys, MatrixBackend(), key=made["api_key"], config=_config()).get("/v1/me")
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]
    row = keys.identity.get_key(made["key_id"])
    assert row.key_hash.startswith("$argon2id$") and made["api_key"] not in row.key_hash
    everything = json.dumps(_audit_events(keys))
    assert made["key_id"] in everything and made["api_key"] not in everything and keys.admin not in everything
    with keys.identity._sessions() as s:  # the key is nowhere in the database
        from sqlalchemy import text

        dump = json.dumps([list(map(str, r)) for t in ("api_keys", "outbox") for r in s.execute(text(f"SELECT * FROM {t}"))])
    assert made["api_key"] not in dump and made["api_key"].split("_", 2)[2] not in dump


def test_a_key_records_its_last_use(keys: Keys) -> None:
    from serve_app.auth import create_key

    record, api_key = create_key(keys.identity, project="acme", role="viewer", actor="test")
    assert keys.identity.get_key(record.key_id).last_used_at is None
    assert portal(keys, MatrixBackend(), key=api_key, config=_config()).get("/v1/me").status_code == 200
    assert keys.identity.get_key(record.key_id).last_used_at is not None


def test_without_an_identity_store_every_non_public_route_is_401() -> None:
    client = TestClient(create_app(MatrixBackend(), config=_config()))
    assert client.get("/v1/health/live").status_code == 200  # public routes stay open
    for (method, route), case in CASES.items():
        if case.needs != ANYONE:
            path = case.path.format(job="j", key_id="k", n="0", project="acme")
            assert client.request(method, path).status_code == 401, route


def test_auth_off_is_the_local_developer_admin_everywhere(keys: Keys) -> None:
    client = TestClient(create_app(MatrixBackend(), auth=Authenticator(keys.identity, enabled=False), config=_config()))
    me = client.get("/v1/me").json()
    assert me["kind"] == "dev" and me["deployment_admin"] is True
    assert client.post("/v1/jobs", json={"brief": brief_data(project="default")}).status_code == 202


def test_a_subject_with_several_projects_chooses_with_a_header(keys: Keys) -> None:
    from serve_app.auth.rbac import Principal, Role, choose_project
    from schemas import PermissionDenied

    two = Principal(kind="jwt", id="u", roles={"acme": Role.VIEWER, "other": Role.ADMIN})
    assert choose_project(two, "other", default="default") == "other"
    with pytest.raises(PermissionDenied, match="X-Mka-Project"):
        choose_project(two, None, default="default")
    with pytest.raises(PermissionDenied):
        choose_project(two, "third", default="default")
    key = Principal(kind="key", id="k", roles={"acme": Role.ADMIN})
    with pytest.raises(PermissionDenied):
        choose_project(key, "other", default="default")


# --- hardening ----------------------------------------------------------------------------------------------


@pytest.fixture
def analyst(keys: Keys) -> Iterator[tuple[TestClient, MatrixBackend]]:
    backend = MatrixBackend()
    yield portal(keys, backend, key=keys.analyst, config=_config()), backend


def test_non_json_bodies_are_415_so_a_cross_site_form_cannot_submit(analyst) -> None:  # type: ignore[no-untyped-def]
    client, backend = analyst
    body = json.dumps({"brief": brief_data(project="acme")})
    for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""):
        r = client.post("/v1/jobs", content=body, headers={"content-type": kind, "Origin": "https://evil.example"})
        assert r.status_code == 415 and r.json()["reason"] == "unsupported_type", (kind, r.status_code)
        assert "access-control-allow-origin" not in r.headers
    assert backend.submits == []
    ok = client.post("/v1/jobs", content=body, headers={"content-type": "application/json; charset=utf-8"})
    assert ok.status_code == 202


def test_body_limit_is_413_from_content_length_before_reading(analyst) -> None:  # type: ignore[no-untyped-def]
    client, backend = analyst
    pulled = []

    def body() -> Iterator[bytes]:
        for _ in range(300):  # 300 × 64 KiB = 19 MiB if it were read
            pulled.append(1)
            yield b" " * 65536

    r = client.post("/v1/jobs", content=body(), headers={"content-type": "application/json",
                                                          "content-length": str(300 * 65536)})
    assert r.status_code == 413 and r.json()["reason"] == "too_large" and backend.submits == []
    assert len(pulled) <= 2  # answered before the body was read


def test_body_limit_holds_while_streaming_without_a_length(analyst) -> None:  # type: ignore[no-untyped-def]
    """(The test client buffers request bodies; tests/integration/test_portal_http.py checks the cut on a socket.)"""
    client, backend = analyst

    def body() -> Iterator[bytes]:
        for _ in range(300):
            yield b" " * 65536

    r = client.post("/v1/jobs", content=body(), headers={"content-type": "application/json"})  # chunked
    assert r.status_code == 413 and r.json()["reason"] == "too_large" and backend.submits == []


def test_cors_is_an_allow_list(keys: Keys) -> None:
    config = _config(http=HttpPolicy(allowed_hosts=("testserver",), cors_origins=("https://app.example",)))
    client = portal(keys, MatrixBackend(), key=keys.viewer, config=config)
    pre = client.options("/v1/me", headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == "https://app.example"
    assert "Authorization" in pre.headers["access-control-allow-headers"]
    got = client.get("/v1/me", headers={"Origin": "https://app.example"})
    assert got.headers["access-control-allow-origin"] == "https://app.example"
    evil = client.options("/v1/me", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert evil.status_code == 403 and "access-control-allow-origin" not in evil.headers
    assert "access-control-allow-origin" not in client.get("/v1/me", headers={"Origin": "https://evil.example"}).headers
    assert "access-control-allow-origin" not in client.get("/v1/me", headers={"Origin": "null"}).headers


def test_the_figma_plugin_panel_may_fetch_plans_cross_origin_and_nothing_else(analyst) -> None:  # type: ignore[no-untyped-def]
    client, _backend = analyst
    job_id = client.post("/v1/jobs", json={"brief": brief_data(project="acme")}).json()["job_id"]
    path = f"/v1/jobs/{job_id}/figma-plan"
    preflight = client.options(path, headers={"Origin": "null", "Access-Control-Request-Method": "GET",
                                              "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == "null"
    got = client.get(path, params={"template": "deck"}, headers={"Origin": "null"})
    assert got.status_code == 200 and got.headers["access-control-allow-origin"] == "null"
    missing = client.get(path, params={"template": "nope"}, headers={"Origin": "null"})
    assert missing.status_code == 404 and missing.headers["access-control-allow-origin"] == "null"  # readable
    assert "access-control-allow-origin" not in client.get(f"/v1/jobs/{job_id}", headers={"Origin": "null"}).headers
    anonymous = client.get(path, params={"template": "deck"}, headers={"Origin": "null", "Authorization": ""})
    assert anonymous.status_code == 401  # the panel sends a key like anyone else


def test_untrusted_hosts_are_refused(keys: Keys) -> None:
    client = portal(keys, MatrixBackend(), key=keys.viewer, config=_config())
    r = client.get("/v1/health/live", headers={"Host": "evil.example"})
    assert r.status_code == 400 and r.json()["reason"] == "bad_host"
    local = portal(keys, MatrixBackend(), config=_config(http=HttpPolicy()))
    assert local.get("http://localhost:8000/v1/health/live").status_code == 200
    assert local.get("http://[::1]:8000/v1/health/live").status_code == 200
    assert local.get("http://testserver/v1/health/live").status_code == 400


@pytest.mark.parametrize(("header", "value"), [
    ("Last-Event-ID", "²"), ("Last-Event-ID", "-1"), ("Last-Event-ID", "9" * 40), ("Last-Event-ID", "1.5"),
    ("Idempotency-Key", "k" * 201), ("Idempotency-Key", "with space"), ("X-Mka-Project", "Not A Project"),
])
def test_odd_headers_are_4xx_never_5xx(analyst, header: str, value: str) -> None:  # type: ignore[no-untyped-def]
    client, backend = analyst
    job_id = client.post("/v1/jobs", json={"brief": brief_data(project="acme")}).json()["job_id"]
    raw = value.encode("utf-8")
    if header == "Last-Event-ID":
        r = client.get(f"/v1/jobs/{job_id}/events", headers={header: raw})  # type: ignore[dict-item]
    else:
        r = client.post("/v1/jobs", json={"brief": brief_data(project="acme")}, headers={header: raw})  # type: ignore[dict-item]
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert r.json()["status"] == r.status_code
    assert len(backend.submits) == 1
    ok = client.post("/v1/jobs", json={"brief": brief_data(project="acme")}, headers={"Idempotency-Key": "k" * 200})
    assert ok.status_code == 202


def test_the_same_idempotency_key_with_another_request_is_422(keys: Keys) -> None:
    from tests.conftest import TEST_KEYRING
    from tests.fakes import MemoryJobStore

    store = MemoryJobStore(keyring=TEST_KEYRING)

    class StoreBackend(MatrixBackend):
        def submit(self, brief, *, idempotency_key, script):  # type: ignore[no-untyped-def]
            raw = script.model_dump(mode="json") if script else None
            job = store.submit(brief, idempotency_key=idempotency_key, script=raw)
            self.jobs[job.id] = job
            return job.id

    client = portal(keys, StoreBackend(), key=keys.analyst, config=_config())
    brief = brief_data(project="acme")
    first = client.post("/v1/jobs", json={"brief": brief, "providers_script": {"deadline_s": 5}},
                        headers={"Idempotency-Key": "same"})
    again = client.post("/v1/jobs", json={"brief": brief, "providers_script": {"deadline_s": 5}},
                        headers={"Idempotency-Key": "same"})
    assert first.status_code == again.status_code == 202 and first.json()["job_id"] == again.json()["job_id"]
    other = client.post("/v1/jobs", json={"brief": brief, "providers_script": {"deadline_s": 1}},
                        headers={"Idempotency-Key": "same"})
    assert other.status_code == 422 and other.json()["code"] == IdempotencyConflict.code
    assert len(store.list_jobs()) == 1


def test_provider_scripts_only_with_stubs(keys: Keys) -> None:
    """(The operator's limits are applied where the script is used: tests/unit/test_runner.py, "tightens".)"""
    backend = MatrixBackend()
    real = portal(keys, backend, key=keys.analyst,
                  config=PortalConfig(http=HttpPolicy(allowed_hosts=("testserver",)), allow_scripts=False))
    r = real.post("/v1/jobs", json={"brief": brief_data(project="acme"), "providers_script": {"deadline_s": 5}})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "providers_script" and backend.submits == []
    stubs = portal(keys, backend, key=keys.analyst, config=_config())
    script = {"deadline_s": 3600, "cost_budget_usd": 10.0, "providers": {"xai": {"deadline_s": 900}}}
    assert stubs.post("/v1/jobs", json={"brief": brief_data(project="acme"), "providers_script": script}).status_code == 202
    _, _, sent = backend.submits[-1]
    assert sent is not None and sent.model_dump(mode="json", exclude_defaults=True) == {
        "deadline_s": 3600.0, "cost_budget_usd": 10.0, "providers": {"xai": {"deadline_s": 900.0}}}  # fingerprinted as sent
    bad = stubs.post("/v1/jobs", json={"brief": brief_data(project="acme"), "providers_script": {"deadline_s": -1}})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "providers_script.deadline_s"


def test_rate_limit_per_key_is_429_with_retry_after(keys: Keys) -> None:
    config = PortalConfig(http=HttpPolicy(allowed_hosts=("testserver",)), rate_limit_per_minute=6, rate_limit_burst=3,
                          auth_failures_per_minute=0)
    app = create_app(MatrixBackend(), auth=Authenticator(keys.identity), config=config)
    viewer = TestClient(app, headers={"Authorization": f"Bearer {keys.viewer}"})
    admin = TestClient(app, headers={"Authorization": f"Bearer {keys.admin}"})
    assert [viewer.get("/v1/me").status_code for _ in range(3)] == [200, 200, 200]
    limited = viewer.get("/v1/me")
    assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 10
    assert limited.json()["code"] == "rate_limited"
    assert admin.get("/v1/me").status_code == 200  # another key has its own bucket
    assert viewer.get("/v1/health/live").status_code == 200  # public routes are not counted


def test_wrong_secrets_are_limited_per_client_and_key_before_the_argon2_check(keys: Keys) -> None:
    from serve_app.auth import create_key

    config = PortalConfig(http=HttpPolicy(allowed_hosts=("testserver",)), auth_failures_per_minute=6,
                          auth_failures_burst=3)
    auth = Authenticator(keys.identity)
    client = TestClient(create_app(MatrixBackend(), auth=auth, config=config))
    _, seen = create_key(keys.identity, project="acme", role="viewer", actor="test")
    _, unseen = create_key(keys.identity, project="acme", role="viewer", actor="test")
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {seen}"}).status_code == 200  # verified, cached
    calls = []
    verify = auth._verify
    auth._verify = lambda key, record: (calls.append(record.key_id), verify(key, record))[1]  # type: ignore[method-assign]
    for target in (seen, unseen):
        wrong = {"Authorization": f"Bearer {target[:-4]}AAAA"}  # a real key id, a wrong secret
        assert [client.get("/v1/me", headers=wrong).status_code for _ in range(3)] == [401, 401, 401]
        limited = client.get("/v1/me", headers=wrong)
        assert limited.status_code == 429 and limited.headers["retry-after"]
    assert len(calls) == 6  # the refused attempts cost no argon2 check
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {seen}"}).status_code == 200  # never refused
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {keys.admin}"}).status_code == 200  # other keys
    assert client.get("/v1/me", headers={"Authorization": "Bearer mka_zzzzzzzzzzzz_" + "A" * 43}).status_code == 401


def test_concurrent_wrong_secrets_cannot_outrun_the_budget(keys: Keys) -> None:
    from serve_app.auth import create_key
    from serve_app.limits import RateLimiter

    auth = Authenticator(keys.identity)
    _, api_key = create_key(keys.identity, project="acme", role="viewer", actor="test")
    failures = RateLimiter(per_minute=1, burst=2)
    runs = []
    verify = auth._verify
    auth._verify = lambda key, record: (runs.append(1), verify(key, record))[1]  # type: ignore[method-assign]
    outcomes = run_together(12, lambda: auth.authenticate(f"Bearer {api_key[:-4]}AAAA", client="10.0.0.9",
                                                          failures=failures))
    assert len(runs) == 2 and sorted(outcomes) == ["RateLimited"] * 10 + ["Unauthenticated"] * 2
    assert auth.authenticate(f"Bearer {keys.viewer}", client="10.0.0.9", failures=failures).kind == "key"


def test_projects_nobody_created_are_404(keys: Keys) -> None:
    root = portal(keys, MatrixBackend(), key=keys.root, config=_config())
    ghost = {"X-Mka-Project": "ghost"}
    assert root.post("/v1/jobs", json={"brief": brief_data(project="ghost")}, headers=ghost).status_code == 404
    assert root.get("/v1/projects/ghost/members").status_code == 404
    assert root.post("/v1/documents", files={"file": ("a.md", b"# a")}, headers=ghost).status_code == 404
    assert root.post("/v1/jobs", json={"brief": brief_data(project="acme")},
                     headers={"X-Mka-Project": "acme"}).status_code == 202


def test_odd_project_names_are_404_before_any_lookup(keys: Keys) -> None:
    dev = TestClient(create_app(MatrixBackend(), auth=Authenticator(keys.identity, enabled=False), config=_config()))
    for path in ("/v1/projects/x%00y/members", "/v1/projects/Not%20A%20Project/members"):
        assert dev.get(path).status_code == 404, path
    assert dev.get("/v1/jobs/x", headers={"X-Mka-Project": "ghost"}).status_code == 404
    assert dev.get("/v1/projects/acme/members").status_code == 200


def test_a_malformed_upload_form_is_a_422_problem(analyst) -> None:  # type: ignore[no-untyped-def]
    client, backend = analyst
    r = client.post("/v1/documents", content=b"--x\r\n", headers={"content-type": "multipart/form-data"})
    assert r.status_code == 422 and r.json()["reason"] == "bad_form" and backend.uploads == []


def test_a_project_admin_cannot_see_or_revoke_a_deployment_admin_key(keys: Keys) -> None:
    from serve_app.auth import create_key

    root_record, _ = create_key(keys.identity, project="acme", role="admin", deployment_admin=True, actor="test")
    admin = portal(keys, MatrixBackend(), key=keys.admin, config=_config())
    assert root_record.key_id not in {k["key_id"] for k in admin.get("/v1/keys").json()}
    assert admin.delete(f"/v1/keys/{root_record.key_id}").status_code == 404
    assert keys.identity.get_key(root_record.key_id).revoked_at is None
    root = portal(keys, MatrixBackend(), key=keys.root, config=_config())
    assert root_record.key_id in {k["key_id"] for k in root.get("/v1/keys", headers={"X-Mka-Project": "acme"}).json()}


def test_bodies_are_read_after_the_guard_and_cut_at_the_limit_on_every_route(keys: Keys) -> None:
    admin = portal(keys, MatrixBackend(), key=keys.root, config=_config())
    admin.headers["X-Mka-Project"] = "acme"
    anonymous = portal(keys, MatrixBackend(), config=_config())
    for path in ("/v1/keys", "/v1/projects", "/v1/projects/acme/members", "/v1/artifacts/a1/hold", "/v1/jobs"):
        assert anonymous.post(path, content=b"{not json", headers={"content-type": "application/json"}
                              ).status_code == 401, path

        def body() -> Iterator[bytes]:
            for _ in range(40):
                yield b" " * 65536

        big = admin.post(path, content=body(), headers={"content-type": "application/json"})
        assert big.status_code == 413 and big.json()["reason"] == "too_large", (path, big.text)
    bad = admin.post("/v1/keys", json={"role": "emperor"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "role"


@pytest.mark.parametrize("path", ["/v1/jobs/abc%00", "/v1/jobs/%0a/events", "/v1/artifacts/x%00/meta",
                                  "/v1/keys/x%00", "/v1/projects/acme/members/x%00y",
                                  "/v1/projects/acme/members?subject=x%00y"])
def test_ids_no_store_could_hold_are_404(keys: Keys, path: str) -> None:
    admin = portal(keys, MatrixBackend(), key=keys.admin, config=_config())
    method = "DELETE" if "keys" in path or "members" in path else "GET"
    r = admin.request(method, path)
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def test_sse_heartbeats_ends_after_its_maximum_and_resumes(keys: Keys) -> None:
    backend = MatrixBackend()
    backend.states = ["validating", "collecting"]  # never terminal
    config = _config(sse_heartbeat_s=0.02, sse_max_seconds=0.3, sse_poll_s=0.01)
    client = portal(keys, backend, key=keys.viewer, config=config)
    job = backend.submit(parse_brief(brief_data(project="acme")), idempotency_key="sse", script=None)
    with client.stream("GET", f"/v1/jobs/{job}/events") as stream:
        body = "".join(stream.iter_text())
    assert body.startswith("retry: ") and "id: 1\n" in body and "id: 2\n" in body
    assert ": heartbeat" in body and body.rstrip().endswith('data: {"reconnect": true}')
    with client.stream("GET", f"/v1/jobs/{job}/events", headers={"Last-Event-ID": "1"}) as stream:
        resumed = "".join(stream.iter_text())
    assert "id: 1\n" not in resumed and "id: 2\n" in resumed
    backend.states = ["validating", "completed"]
    with client.stream("GET", f"/v1/jobs/{job}/events", headers={"Last-Event-ID": "2"}) as stream:
        done = "".join(stream.iter_text())
    assert "stream.timeout" not in done and "id:" not in done  # already terminal: closes at once


def test_an_open_stream_ends_when_its_key_is_revoked(keys: Keys) -> None:
    from serve_app.auth import create_key, revoke_key

    record, api_key = create_key(keys.identity, project="acme", role="viewer", actor="test")
    backend = MatrixBackend()
    backend.states = ["validating", "collecting"]  # never terminal
    config = _config(sse_heartbeat_s=0.02, sse_max_seconds=30, sse_poll_s=0.01, sse_reauth_s=0.1)
    client = portal(keys, backend, key=api_key, config=config)
    job = backend.submit(parse_brief(brief_data(project="acme")), idempotency_key="reauth", script=None)
    lines = []
    with client.stream("GET", f"/v1/jobs/{job}/events") as stream:
        for line in stream.iter_lines():
            lines.append(line)
            if line.startswith("id: 2"):
                revoke_key(keys.identity, record.key_id, actor="test")
    lines = [line for line in lines if line]
    assert lines[-1].startswith("data: ") and "credential no longer valid" in lines[-1]
    assert "event: stream.closed" in lines and "stream.timeout" not in "\n".join(lines)


def test_sse_streams_are_capped_per_key(keys: Keys) -> None:
    backend = MatrixBackend()
    client = portal(keys, backend, key=keys.viewer, config=_config(sse_max_streams=2))
    job = backend.submit(parse_brief(brief_data(project="acme")), idempotency_key="cap", script=None)
    actor = "key:" + client.get("/v1/me").json()["id"]
    streams = client.app.state.streams
    held = [streams.acquire(actor), streams.acquire(actor)]
    r = client.get(f"/v1/jobs/{job}/events")
    assert r.status_code == 429 and r.headers["retry-after"]
    streams.release(actor, held.pop())
    with client.stream("GET", f"/v1/jobs/{job}/events") as stream:
        assert "id: 2" in "".join(stream.iter_text())
    assert streams.open(actor) == 1  # the finished stream gave its place back


def test_errors_carry_no_server_paths(keys: Keys) -> None:
    class Leaky(MatrixBackend):
        def cancel(self, job_id: str, *, project: str) -> str:
            self._get(job_id, project)
            raise StorageError("cannot write /srv/mka/artifacts/projects/acme/x.pdf: disk full")

    backend = Leaky()
    client = portal(keys, backend, key=keys.analyst, config=_config())
    job = client.post("/v1/jobs", json={"brief": brief_data(project="acme")}).json()["job_id"]
    r = client.post(f"/v1/jobs/{job}/cancel")
    assert r.status_code == 503 and "/srv/mka" not in r.text and "disk full" in r.json()["detail"]
    view = client.get(f"/v1/jobs/{job}").json()
    assert "/srv/mka" not in json.dumps(view) and all("path" not in a for a in view["artifacts"])


def test_framework_errors_are_problem_details_too(analyst) -> None:  # type: ignore[no-untyped-def]
    client, _ = analyst
    job = client.post("/v1/jobs", json={"brief": brief_data(project="acme")}).json()["job_id"]
    missing_param = client.get(f"/v1/jobs/{job}/figma-plan")  # FastAPI's own 422
    assert missing_param.status_code == 422 and missing_param.headers["content-type"] == "application/problem+json"
    assert missing_param.json()["errors"][0]["field"] == "query.template"
    unknown = client.get("/v1/nothing-here")
    assert unknown.status_code == 404 and unknown.json()["title"] == "Not Found"
    wrong = client.put("/v1/jobs", json={})
    assert wrong.status_code == 405 and wrong.json()["status"] == 405


def test_ready_names_the_failing_part(keys: Keys) -> None:
    class Down(MatrixBackend):
        def ready(self) -> dict[str, str]:
            return {"database": "ok", "objects": "storage_error"}

    client = portal(keys, Down(), config=_config())
    r = client.get("/v1/health/ready")
    assert r.status_code == 503 and r.json()["failing"] == ["objects"]
    assert portal(keys, MatrixBackend(), config=_config()).get("/v1/health/ready").status_code == 200


def test_projects_members_and_me(keys: Keys) -> None:
    root = portal(keys, MatrixBackend(), key=keys.root, config=_config())
    assert root.post("/v1/projects", json={"name": "beta"}).status_code == 201
    assert root.post("/v1/projects", json={"name": "beta"}).status_code == 409
    assert root.post("/v1/projects", json={"name": "Bad Name"}).status_code == 422
    admin = portal(keys, MatrixBackend(), key=keys.admin, config=_config())
    added = admin.post("/v1/projects/acme/members", json={"subject": "alice@example.com", "role": "analyst"})
    assert added.status_code == 201 and added.json()["role"] == "analyst"
    grant = admin.post("/v1/projects/acme/members", json={"subject": "bob", "role": "viewer", "pii_reader": True})
    assert grant.status_code == 403  # an admin without the grant cannot hand it on
    assert "alice@example.com" in {m["subject"] for m in admin.get("/v1/projects/acme/members").json()}
    assert admin.delete("/v1/projects/acme/members/alice@example.com").status_code == 204
    assert admin.delete("/v1/projects/acme/members/alice@example.com").status_code == 404
    me = admin.get("/v1/me").json()
    assert me["kind"] == "key" and [p["project"] for p in me["projects"]] == ["acme"]
    assert "keys:manage" in me["projects"][0]["permissions"] and "pii:reveal" not in me["projects"][0]["permissions"]
    assert [p["name"] for p in admin.get("/v1/projects").json()] == ["acme"]
    assert {"acme", "other", "beta", "default"} <= {p["name"] for p in root.get("/v1/projects").json()}
    bad = admin.post("/v1/keys", json={"role": "viewer", "expires": "forever"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "expires"




def test_the_docs_name_every_route_and_setting() -> None:
    """docs/portal.md and the README's route table list every route of the permission table."""
    from pathlib import Path

    from serve_app.auth.rbac import ROUTES

    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text(encoding="utf-8")
    doc = (root / "docs" / "portal.md").read_text(encoding="utf-8")
    for _, path in ROUTES:
        shown = path.replace("{job_id}", "{id}").replace("{artifact_id}", "{id}").replace("{project}", "{p}")
        assert shown in readme, path
    for setting in ("MKA_AUTH", "MKA_MAX_BODY_BYTES", "MKA_ALLOWED_HOSTS", "MKA_CORS_ORIGINS", "MKA_RATE_LIMIT_PER_MINUTE",
                    "MKA_SSE_MAX_STREAMS", "MKA_SSE_MAX_SECONDS", "MKA_JWT_ISSUER", "MKA_JWT_PROJECTS_CLAIM"):
        assert setting in readme and (setting in doc or setting == "MKA_AUTH"), setting
