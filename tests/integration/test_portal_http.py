"""The portal over real HTTP: uvicorn on a socket (body limits cut mid-stream), JWTs from a local issuer whose
JWKS is served over HTTP, and the identity store on PostgreSQL."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from schemas import parse_brief
from serve_app import create_app
from serve_app.auth import Authenticator, JwtConfig, JwtVerifier, add_member, create_project
from serve_app.config import PortalConfig
from serve_app.http import HttpPolicy
from tests.conftest import brief_data
from tests.portal import FakeBackend, Keys, make_identity

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_identity(tmp_path_factory.mktemp("identity"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(keys: Keys) -> Iterator[tuple[int, FakeBackend]]:
    """The portal app under uvicorn on a loopback port."""
    import uvicorn

    backend = FakeBackend()
    config = PortalConfig(http=HttpPolicy(allowed_hosts=("127.0.0.1",)), allow_scripts=True)
    app = create_app(backend, auth=Authenticator(keys.identity), config=config)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield port, backend
    srv.should_exit = True
    thread.join(10)


def _raw(port: int, head: str, chunks: Iterator[bytes], *, read_timeout: float = 10) -> tuple[int, int, bytes]:
    """Send a request head, then body chunks until the server answers; (status, bytes of body sent, answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=read_timeout) as sock:
        sock.sendall(head.encode())
        sent = 0
        sock.setblocking(False)
        answer = b""
        for chunk in chunks:
            try:
                answer += sock.recv(65536)
            except BlockingIOError:
                pass
            if answer:
                break
            try:
                sock.sendall(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
            time.sleep(0.005)
        sock.setblocking(True)
        sock.settimeout(read_timeout)
        while b"\r\n\r\n" not in answer:
            more = sock.recv(65536)
            if not more:
                break
            answer += more
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0
    return status, sent, answer


def test_a_lying_content_length_is_413_without_waiting_for_the_body(server, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    port, backend = server
    head = (f"POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {keys.analyst}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {200 * 1024 * 1024}\r\n\r\n")
    status, sent, answer = _raw(port, head, iter([b"{"]))  # 200 MiB announced, one byte sent
    assert status == 413 and b"problem+json" in answer and sent <= 1
    assert backend.submits == []


def test_a_chunked_body_is_cut_just_past_the_limit(server, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    port, backend = server
    head = (f"POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {keys.analyst}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    piece = b" " * 65536
    chunk = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    status, sent, _ = _raw(port, head, iter([chunk] * 3200))  # 200 MiB if it were all sent (never terminated)
    assert status == 413
    assert sent < 8 * 1024 * 1024  # the answer came after about 1 MiB, long before the end
    assert backend.submits == []


def test_anonymous_and_cross_site_requests_over_http(server, keys: Keys) -> None:  # type: ignore[no-untyped-def]
    import httpx

    port, backend = server
    base = f"http://127.0.0.1:{port}"
    assert httpx.get(f"{base}/v1/health/live").status_code == 200
    assert httpx.get(f"{base}/v1/me").status_code == 401
    form = httpx.post(f"{base}/v1/jobs", content=json.dumps({"brief": brief_data(project="acme")}),
                      headers={"Content-Type": "text/plain", "Origin": "https://evil.example",
                               "Authorization": f"Bearer {keys.analyst}"})
    assert form.status_code == 415 and backend.submits == []
    assert httpx.get(f"{base}/v1/health/live", headers={"Host": "evil.example"}).status_code == 400


# --- JWT from a local issuer ------------------------------------------------------------------------------------


class Issuer:
    """A local OIDC-like issuer: an RSA key pair whose public half is served as a JWKS over HTTP."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "k1"
        self.hits = 0
        self.down = False
        self.hang = 0.0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                issuer.hits += 1
                if issuer.hang:
                    time.sleep(issuer.hang)
                odd = {"/empty-jwks": b'{"keys": []}', "/array-jwks": b"[]", "/string-jwks": b'"keys"',
                       "/slow-jwks": b'{"keys": [' + b" " * 400 + b"]}"}
                if self.path in odd:
                    body = odd[self.path]
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if self.path == "/slow-jwks":  # a trickle: each read is quick, the whole answer takes 4 s
                        for i in range(0, len(body), 10):
                            self.wfile.write(body[i:i + 10])
                            self.wfile.flush()
                            time.sleep(0.1)
                        return
                    self.wfile.write(body)
                    return
                if issuer.down or self.path != "/.well-known/jwks.json":
                    self.send_response(503 if issuer.down else 404)
                    self.end_headers()
                    return
                jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(issuer.key.public_key()))
                body = json.dumps({"keys": [{**jwk, "kid": issuer.kid, "use": "sig", "alg": "RS256"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:
                return

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def token(self, sub: str, *, aud: str | None = "mka-portal", iss: str | None = None, minutes: int = 5,
              kid: str | None = None, key: Any = None, **claims: Any) -> str:
        now = datetime.now(timezone.utc)
        payload = {"sub": sub, "iss": iss or self.url, "aud": aud, "iat": now, "exp": now + timedelta(minutes=minutes),
                   **claims}
        if aud is None:
            del payload["aud"]
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})


@pytest.fixture(scope="module")
def issuer() -> Iterator[Issuer]:
    found = Issuer()
    yield found
    found.http.shutdown()


def _jwt_portal(keys: Keys, issuer: Issuer, backend: FakeBackend, **jwt_extra: Any) -> TestClient:
    verifier = JwtVerifier(JwtConfig(issuer=issuer.url, jwks_url=f"{issuer.url}/.well-known/jwks.json",
                                     audience="mka-portal", **jwt_extra))
    config = PortalConfig(http=HttpPolicy(allowed_hosts=("testserver",)), allow_scripts=True, rate_limit_per_minute=0,
                          auth_failures_per_minute=0)
    return TestClient(create_app(backend, auth=Authenticator(keys.identity, jwt=verifier), config=config))


def test_a_jwt_works_like_an_api_key_with_roles_from_memberships(keys: Keys, issuer: Issuer) -> None:
    subject = f"user-{uuid.uuid4().hex[:8]}@example.com"
    add_member(keys.identity, project="acme", subject=subject, role="analyst", actor="test")
    backend = FakeBackend()
    client = _jwt_portal(keys, issuer, backend)
    auth = {"Authorization": f"Bearer {issuer.token(subject)}"}
    me = client.get("/v1/me", headers=auth).json()
    assert me["kind"] == "jwt" and me["id"] == subject and me["projects"][0]["role"] == "analyst"
    r = client.post("/v1/jobs", json={"brief": brief_data(project="acme")}, headers=auth)
    assert r.status_code == 202 and backend.submits[-1][0].project == "acme"
    job = r.json()["job_id"]
    assert client.get(f"/v1/jobs/{job}", headers=auth).status_code == 200
    assert client.get("/v1/keys", headers=auth).status_code == 403  # analyst, not admin
    # A second project: the subject must choose, and may only choose its own.
    add_member(keys.identity, project="other", subject=subject, role="viewer", actor="test")
    assert client.get(f"/v1/jobs/{job}", headers=auth).status_code == 403  # which project? (names the header)
    assert client.get(f"/v1/jobs/{job}", headers={**auth, "X-Mka-Project": "acme"}).status_code == 200
    assert client.get(f"/v1/jobs/{job}", headers={**auth, "X-Mka-Project": "other"}).status_code == 404
    viewer = client.post("/v1/jobs", json={"brief": brief_data(project="other")}, headers={**auth, "X-Mka-Project": "other"})
    assert viewer.status_code == 403
    assert client.get("/v1/me", headers={**auth, "X-Mka-Project": "nope"}).status_code == 200  # /me needs no project
    assert client.get(f"/v1/jobs/{job}", headers={**auth, "X-Mka-Project": "nope"}).status_code == 403


def test_bad_tokens_are_401(keys: Keys, issuer: Issuer) -> None:
    add_member(keys.identity, project="acme", subject="carol", role="viewer", actor="test")
    client = _jwt_portal(keys, issuer, FakeBackend())
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    bad = {
        "expired": issuer.token("carol", minutes=-10),
        "wrong audience": issuer.token("carol", aud="someone-else"),
        "wrong issuer": issuer.token("carol", iss="https://evil.example"),
        "forged": issuer.token("carol", key=stranger),
        "unknown kid": issuer.token("carol", kid="nope"),
        "garbage": "a.b.c",
        "none alg": jwt.encode({"sub": "carol", "iss": issuer.url, "aud": "mka-portal", "exp": 4102444800}, None,
                               algorithm="none", headers={"kid": issuer.kid}),
        "hs256 with the public key": jwt.encode({"sub": "carol", "iss": issuer.url, "aud": "mka-portal",
                                                 "exp": 4102444800}, "secret-guess", algorithm="HS256",
                                                headers={"kid": issuer.kid}),
        "no audience": issuer.token("carol", aud=None),
    }
    for what, token in bad.items():
        r = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, (what, r.status_code, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    assert client.get("/v1/me", headers={"Authorization": f"Bearer {issuer.token('carol')}"}).status_code == 200
    nobody = client.get("/v1/jobs/x", headers={"Authorization": f"Bearer {issuer.token('dave')}"})
    assert nobody.status_code == 403 and "membership" in nobody.json()["detail"]


def test_a_hanging_or_broken_issuer_is_503_fast_and_api_keys_keep_working(keys: Keys, issuer: Issuer) -> None:
    add_member(keys.identity, project="acme", subject="hank", role="viewer", actor="test")
    verifier = JwtVerifier(JwtConfig(issuer=issuer.url, jwks_url=f"{issuer.url}/.well-known/jwks.json",
                                     audience="mka-portal", fetch_timeout_s=0.5, failure_ttl_s=30))
    config = PortalConfig(http=HttpPolicy(allowed_hosts=("testserver",)), rate_limit_per_minute=0)
    client = TestClient(create_app(FakeBackend(), auth=Authenticator(keys.identity, jwt=verifier), config=config))
    token = {"Authorization": f"Bearer {issuer.token('hank')}"}
    issuer.hang = 3.0
    try:
        first = client.get("/v1/me", headers=token)
        assert first.status_code == 503 and first.json()["retryable"] is True
        hits = issuer.hits
        started = time.monotonic()
        assert [client.get("/v1/me", headers=token).status_code for _ in range(5)] == [503] * 5
        assert issuer.hits == hits and time.monotonic() - started < 2  # remembered: no fetch, no wait
        assert client.get("/v1/me", headers={"Authorization": f"Bearer {keys.viewer}"}).status_code == 200
    finally:
        issuer.hang = 0.0
    for odd in ("empty-jwks", "array-jwks", "string-jwks", "slow-jwks"):
        verifier = JwtVerifier(JwtConfig(issuer=issuer.url, jwks_url=f"{issuer.url}/{odd}", audience="mka-portal",
                                         fetch_timeout_s=1.0))
        broken = TestClient(create_app(FakeBackend(), auth=Authenticator(keys.identity, jwt=verifier), config=config))
        started = time.monotonic()
        r = broken.get("/v1/me", headers=token)
        assert r.status_code == 503, (odd, r.text)  # the issuer's fault: never a 500, never a wait past the timeout
        assert time.monotonic() - started < 2.5, odd
        hits = issuer.hits
        assert broken.get("/v1/me", headers=token).status_code == 503 and issuer.hits == hits, odd  # remembered


def test_requests_do_not_queue_behind_a_jwks_fetch(keys: Keys, issuer: Issuer) -> None:
    add_member(keys.identity, project="acme", subject="ivy", role="viewer", actor="test")
    verifier = JwtVerifier(JwtConfig(issuer=issuer.url, jwks_url=f"{issuer.url}/.well-known/jwks.json",
                                     audience="mka-portal", fetch_timeout_s=5))
    token = issuer.token("ivy")
    issuer.hang = 1.5
    first: list[Any] = []
    fetching = threading.Thread(target=lambda: first.append(_try(verifier, token)))
    try:
        fetching.start()
        time.sleep(0.3)  # the first request is inside the fetch
        assert _try(verifier, token) == "AdapterError" and fetching.is_alive()  # 503 at once, not after the fetch
    finally:
        fetching.join()
        issuer.hang = 0.0
    assert first == ["ivy"]
    forged = jwt.encode({"sub": "ivy", "iss": issuer.url, "aud": "mka-portal", "exp": 4102444800}, issuer.key,
                        algorithm="RS256", headers={"kid": issuer.kid})
    forged = ".".join([jwt.utils.base64url_encode(json.dumps({"alg": "ES256", "kid": issuer.kid}).encode()).decode(),
                       *forged.split(".")[1:]])
    assert _try(verifier, forged) == "Unauthenticated"  # ES256 against an RSA key: refused, not a crash


def _try(verifier: JwtVerifier, token: str) -> str:
    try:
        return verifier.verify(token).subject
    except Exception as exc:
        return type(exc).__name__


def test_the_jwks_is_cached_and_an_unreachable_issuer_is_503(keys: Keys, issuer: Issuer) -> None:
    add_member(keys.identity, project="acme", subject="erin", role="viewer", actor="test")
    client = _jwt_portal(keys, issuer, FakeBackend())
    before = issuer.hits
    for _ in range(5):
        assert client.get("/v1/me", headers={"Authorization": f"Bearer {issuer.token('erin')}"}).status_code == 200
    assert issuer.hits - before == 1  # fetched once, then cached
    cold = _jwt_portal(keys, issuer, FakeBackend())
    issuer.down = True
    try:
        r = cold.get("/v1/me", headers={"Authorization": f"Bearer {issuer.token('erin')}"})
        assert r.status_code == 503 and r.json()["retryable"] is True
    finally:
        issuer.down = False


def test_a_projects_claim_adds_roles(keys: Keys, issuer: Issuer) -> None:
    client = _jwt_portal(keys, issuer, FakeBackend(), projects_claim="mka_projects")
    token = issuer.token("frank", mka_projects={"acme": "admin", "other": "nonsense"})
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert [(p["project"], p["role"]) for p in me["projects"]] == [("acme", "admin")]
    listed = issuer.token("grace", mka_projects=["acme:analyst"])
    assert client.get("/v1/keys", headers={"Authorization": f"Bearer {listed}"}).status_code == 403
    assert client.get("/v1/jobs/x", headers={"Authorization": f"Bearer {listed}"}).status_code == 404


# --- PostgreSQL ---------------------------------------------------------------------------------------------------


def test_identity_store_on_postgresql(pg_url: str) -> None:
    from cluster.db import make_engine
    from cluster.identity_store import SqlIdentityStore
    from cluster.migrate import upgrade
    from serve_app.auth import create_key, remove_member, revoke_key

    engine = make_engine(pg_url)
    upgrade(engine)
    identity = SqlIdentityStore(engine)
    project = f"pg-{uuid.uuid4().hex[:10]}"
    create_project(identity, project, actor="test")
    record, api_key = create_key(identity, project=project, role="analyst", actor="test", expires_in=timedelta(days=1))
    auth = Authenticator(identity)
    principal = auth.authenticate(f"Bearer {api_key}")
    assert principal.roles == {project: "analyst"} and principal.actor == f"key:{record.key_id}"
    add_member(identity, project=project, subject="pg-user", role="admin", actor="test")
    assert [m.subject for m in identity.members(project)] == ["pg-user"]
    remove_member(identity, project=project, subject="pg-user", actor="test")
    revoke_key(identity, record.key_id, actor="test")
    with pytest.raises(Exception, match="revoked"):
        auth.authenticate(f"Bearer {api_key}")
    engine.dispose()


def test_a_brief_for_a_job_submitted_by_key_lands_in_the_keys_project(keys: Keys) -> None:
    backend = FakeBackend()
    config = PortalConfig(http=HttpPolicy(allowed_hosts=("testserver",)))
    client = TestClient(create_app(backend, auth=Authenticator(keys.identity), config=config),
                        headers={"Authorization": f"Bearer {keys.analyst}"})
    brief = brief_data()
    brief.pop("project")
    assert client.post("/v1/jobs", json={"brief": brief}).status_code == 202
    assert backend.submits[-1][0] == parse_brief({**brief, "project": "acme"})


# --- tenancy on the real backend ------------------------------------------------------------------------------


def test_the_real_backend_answers_404_for_another_projects_job_on_every_route(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """ClientBackend over the SQL job store and the filesystem object store (a finished job of project acme): every
    job and artifact route answers acme's own viewer, and 404 to an admin of another project."""
    from cluster.client import MkaClient
    from cluster.db import make_engine
    from cluster.identity_store import SqlIdentityStore
    from cluster.settings import Settings
    from cluster.sql_store import SqlJobStore
    from serve_app.auth import create_key
    from serve_app.backend import ClientBackend
    from tests.conftest import TEST_KEYRING
    from tests.inprocess import run_in_process

    done = run_in_process(tmp_path / "run", brief_data(project="acme"))
    store = SqlJobStore(make_engine(f"sqlite:///{tmp_path / 'run' / 'mka.db'}"), keyring=TEST_KEYRING)
    client = MkaClient(Settings(home=tmp_path / "home"), {}, store=store, objects=done.objects)
    identity = SqlIdentityStore(store.engine)
    for name in ("acme", "other"):
        if identity.get_project(name) is None:
            create_project(identity, name, actor="test")
    own = create_key(identity, project="acme", role="viewer", actor="test")[1]
    stranger = create_key(identity, project="other", role="admin", actor="test")[1]
    config = PortalConfig(http=HttpPolicy(allowed_hosts=("testserver",)), rate_limit_per_minute=0)
    app = create_app(ClientBackend(client), auth=Authenticator(identity), config=config)
    mine = TestClient(app, headers={"Authorization": f"Bearer {own}"})
    theirs = TestClient(app, headers={"Authorization": f"Bearer {stranger}"})
    job = done.job.id
    pdf = next(a for a in done.artifacts if a.kind == "html")  # the report (no PDF in this run)
    reads = [f"/v1/jobs/{job}", f"/v1/jobs/{job}/events", f"/v1/jobs/{job}/evidence", f"/v1/jobs/{job}/merge",
             f"/v1/jobs/{job}/artifacts", f"/v1/artifacts/{pdf.id}/meta", f"/v1/artifacts/{pdf.id}"]
    for path in reads:
        assert mine.get(path).status_code == 200, path
        r = theirs.get(path)
        assert r.status_code == 404, (path, r.status_code, r.text[:200])
        assert job not in r.json()["detail"] or "no job" in r.json()["detail"]  # says only that it does not exist
    assert theirs.get(f"/v1/jobs/{job}/figma-plan", params={"template": "deck"}).status_code == 404
    for path in (f"/v1/jobs/{job}/cancel", f"/v1/jobs/{job}/resume", f"/v1/artifacts/{pdf.id}/release"):
        assert theirs.post(path).status_code == 404, path
    assert theirs.post(f"/v1/artifacts/{pdf.id}/hold", json={"reason": "x"}).status_code == 404
    assert store.get_artifact(pdf.id).legal_hold is False
    assert mine.get(f"/v1/jobs/{job}/merge", params={"reveal_pii": "true"}).status_code == 403  # no grant
    r = mine.get("/v1/jobs/abc%00")
    assert r.status_code == 404
