"""The pure parts of portal access: key format and expiry, role permissions, token buckets and stream caps on a
fake clock, the CLI for projects, keys and members."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from schemas import InvalidInput, RateLimited
from serve_app.auth.keys import new_key, parse_expiry, parse_key
from serve_app.auth.rbac import ROLE_PERMISSIONS, Permission, Principal, Role
from serve_app.limits import RateLimiter, StreamCap
from tests.fakes import FakeClock

pytestmark = pytest.mark.unit


def test_keys_parse_and_expiries() -> None:
    key_id, api_key = new_key()
    assert parse_key(api_key) == (key_id, api_key.split("_", 2)[2]) and len(api_key) == 4 + 12 + 1 + 43
    assert parse_key(api_key + "x") is None and parse_key("mka_short_x") is None
    assert parse_expiry("30d") == timedelta(days=30) and parse_expiry("12h") == timedelta(hours=12)
    for bad in ("0d", "30", "d", "11y", "1.5d", "-1d"):
        with pytest.raises(InvalidInput):
            parse_expiry(bad)


def test_roles_nest_and_pii_is_a_grant_not_a_role() -> None:
    assert ROLE_PERMISSIONS[Role.VIEWER] < ROLE_PERMISSIONS[Role.ANALYST] < ROLE_PERMISSIONS[Role.ADMIN]
    assert all(Permission.PII_REVEAL not in p for p in ROLE_PERMISSIONS.values())
    reader = Principal(kind="key", id="k", roles={"acme": Role.VIEWER}, pii_reader=frozenset({"acme"}))
    assert reader.can(Permission.PII_REVEAL, "acme") and not reader.can(Permission.JOBS_WRITE, "acme")
    assert not reader.can(Permission.PII_REVEAL, "other")
    root = Principal(kind="key", id="r", roles={"default": Role.ADMIN}, deployment_admin=True)
    assert root.can(Permission.KEYS_MANAGE, "any") and root.can(Permission.PROJECTS_CREATE, "any")
    assert not root.can(Permission.PII_REVEAL, "any")  # admin of everything still needs the grant


def test_token_bucket_refills_on_the_clock() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, burst=2, clock=clock)
    limiter.take("a")
    limiter.take("a")
    with pytest.raises(RateLimited) as err:
        limiter.take("a")
    assert err.value.retry_after_s == 1.0
    limiter.take("b")  # its own bucket
    clock.advance(1.0)
    limiter.take("a")
    with pytest.raises(RateLimited):
        limiter.take("a")
    clock.advance(10)
    limiter.take("a")
    limiter.take("a")  # refilled to the burst, not beyond
    with pytest.raises(RateLimited):
        limiter.take("a")
    RateLimiter(per_minute=0, burst=1, clock=clock).take("x")  # 0: off


def test_the_bucket_table_stays_bounded_and_cheap() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, burst=5, clock=clock, max_callers=1000)
    for n in range(5000):  # many callers spending one token each (as an address sweep would)
        limiter.take(f"ip:{n}")
        if n % 500 == 0:
            clock.advance(11)
    assert len(limiter._buckets) <= 2000
    prunes = []
    original = limiter._prune
    limiter._prune = lambda now: (prunes.append(now), original(now))  # type: ignore[method-assign]
    for n in range(2000):
        limiter.take(f"late:{n}")
    assert len(prunes) <= 1  # no rebuild of the table on every call while the clock stands still
    limiter.take("ip:4999")  # a recent caller keeps its bucket


def test_stream_cap_counts_releases_and_forgets_stale_holds() -> None:
    clock = FakeClock()
    cap = StreamCap(per_caller=2, max_age_s=60, clock=clock)
    first, second = cap.acquire("k"), cap.acquire("k")
    with pytest.raises(RateLimited):
        cap.acquire("k")
    cap.release("k", first)
    third = cap.acquire("k")
    assert cap.open("k") == 2 and third != second
    clock.advance(61)  # never released (a stream that never started): no longer counted
    cap.acquire("k")
    assert cap.open("k") == 1


def test_cli_projects_keys_members(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cluster.cli import app

    monkeypatch.setenv("MKA_HOME", str(tmp_path / ".mka"))
    run = CliRunner().invoke
    assert run(app, ["projects", "create", "acme"]).exit_code == 0
    assert run(app, ["projects", "create", "acme", "--json"]).exit_code == 2
    made = run(app, ["keys", "create", "--project", "acme", "--role", "analyst", "--pii-reader", "--expires", "30d",
                     "--json"])
    assert made.exit_code == 0, made.output
    created = json.loads(made.stdout)
    assert set(created) == {"key_id", "api_key"} and created["api_key"].startswith(f"mka_{created['key_id']}_")
    listed = json.loads(run(app, ["keys", "list", "--project", "acme", "--json"]).stdout)
    assert [(k["key_id"], k["role"], k["pii_reader"]) for k in listed] == [(created["key_id"], "analyst", True)]
    assert listed[0]["expires_at"] and created["api_key"] not in json.dumps(listed)
    assert run(app, ["keys", "create", "--project", "nope", "--role", "admin"]).exit_code == 2
    assert run(app, ["keys", "create", "--project", "acme", "--role", "boss"]).exit_code == 2
    assert run(app, ["keys", "revoke", created["key_id"]]).exit_code == 0
    assert json.loads(run(app, ["keys", "list", "--json"]).stdout)[0]["revoked_at"]
    assert run(app, ["members", "add", "--project", "acme", "--subject", "alice", "--role", "viewer"]).exit_code == 0
    members = json.loads(run(app, ["members", "list", "--project", "acme", "--json"]).stdout)
    assert [(m["subject"], m["role"]) for m in members] == [("alice", "viewer")]
    assert run(app, ["members", "remove", "--project", "acme", "--subject", "alice"]).exit_code == 0
    assert run(app, ["members", "remove", "--project", "acme", "--subject", "alice"]).exit_code == 2


def test_serve_says_how_to_make_the_first_key_and_warns_when_auth_is_off(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from cluster.cli import _auth_banner
    from cluster.settings import Settings

    settings = Settings(home=tmp_path / ".mka")
    _auth_banner(settings)
    assert "mka keys create --project default --role admin --deployment-admin" in capsys.readouterr().err
    _auth_banner(settings.model_copy(update={"auth": "off"}))
    assert "WARNING: MKA_AUTH=off" in capsys.readouterr().err
    from cluster.identity_store import SqlIdentityStore
    from cluster.sql_store import SqlJobStore
    from serve_app.auth import create_key

    create_key(SqlIdentityStore(SqlJobStore.from_settings(settings).engine), project="default", role="admin",
               actor="test")
    _auth_banner(settings)
    assert capsys.readouterr().err == ""  # a key exists: nothing to say


def test_concurrent_requests_with_the_right_key_share_one_check_and_are_never_refused(tmp_path: Path) -> None:
    from serve_app.auth import Authenticator, create_key
    from tests.portal import make_identity, run_together

    keys = make_identity(tmp_path)
    auth = Authenticator(keys.identity)
    failures = RateLimiter(per_minute=1, burst=2)
    _, api_key = create_key(keys.identity, project="acme", role="viewer", actor="test")
    runs = []
    verify = auth._verify
    auth._verify = lambda key, record: (runs.append(1), verify(key, record))[1]  # type: ignore[method-assign]
    outcomes = run_together(30, lambda: auth.authenticate(f"Bearer {api_key}", client="10.0.0.1",
                                                          failures=failures).kind)
    assert outcomes == ["key"] * 30 and len(runs) == 1  # one argon2 check; nobody refused
    # All checking slots busy (other callers): 503, and the token it spent is given back.
    _, fresh = create_key(keys.identity, project="acme", role="viewer", actor="test")
    for _ in range(4):
        auth._hashing.acquire()
    try:
        for _ in range(3):
            with pytest.raises(Exception, match="retry shortly"):
                auth.authenticate(f"Bearer {fresh}", client="10.0.0.1", failures=failures)
    finally:
        for _ in range(4):
            auth._hashing.release()
    assert auth.authenticate(f"Bearer {fresh}", client="10.0.0.1", failures=failures).kind == "key"


def test_a_call_bounded_in_wall_clock_time() -> None:
    import time

    from serve_app.auth.tokens import _within

    assert _within(1.0, lambda: 7) == 7
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        _within(0.2, lambda: time.sleep(2))
    assert time.monotonic() - started < 1.5
    with pytest.raises(ValueError):
        _within(1.0, lambda: int("x"))
