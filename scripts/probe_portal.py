#!/usr/bin/env python3
"""Black-box probes of the mka portal API (auth, RBAC, tenancy, hardening, jobs).

An outside split: written by another author from the issue text and DESIGN.md only (no source read), run
unchanged against `mka serve`; not tuned on. It sets up its own
projects and keys with the `mka` CLI (same MKA_HOME as the server), then runs independent probes,
each printing `PASS|FAIL <name>: <detail>`, and a final `probes: N passed of M`. Exit code is 0.

usage: MKA_HOME=/tmp/probe/.mka mka serve --port 8199 &
       python scripts/probe_portal.py --base http://localhost:8199 --home /tmp/probe/.mka
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import hashlib
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from datetime import datetime, timezone
from urllib.parse import urlparse

import httpx

try:
    import yaml  # only to read the example brief
except ImportError:  # pragma: no cover
    yaml = None

RESULTS: list[tuple[bool, str, str]] = []
RECORD: list[dict] = []  # every HTTP answer seen: method, path, status, ctype, body (text)
_lock = threading.Lock()
PROBLEM_CT = "application/problem+json"


# ----------------------------------------------------------------------------------------------
# reporting

def report(ok: bool, name: str, detail: str) -> None:
    detail = " ".join(str(detail).split())[:400]
    with _lock:
        RESULTS.append((ok, name, detail))
        print(f"{'PASS' if ok else 'FAIL'} {name}: {detail}", flush=True)


def probe(name: str, fn, *args) -> None:
    """Run one probe; an exception is a FAIL with its message, never a crash of the script."""
    try:
        ok, detail = fn(*args)
    except Exception as exc:  # noqa: BLE001 - a probe must not stop the others
        ok, detail = False, f"probe error {type(exc).__name__}: {exc}"
        if os.environ.get("PROBE_DEBUG"):
            traceback.print_exc()
    report(bool(ok), name, detail)


# ----------------------------------------------------------------------------------------------
# HTTP helpers

class Api:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.client = httpx.Client(base_url=self.base, timeout=httpx.Timeout(30.0, connect=10.0))

    def call(self, method: str, path: str, key: str | None = None, *, headers=None, **kw) -> httpx.Response:
        h = dict(headers or {})
        if key is not None and "Authorization" not in h:
            h["Authorization"] = f"Bearer {key}"
        r = self.client.request(method, path, headers=h, **kw)
        _ = r.content
        record(method, path, r)
        return r

    def get(self, path, key=None, **kw):
        return self.call("GET", path, key, **kw)

    def post(self, path, key=None, **kw):
        return self.call("POST", path, key, **kw)

    def delete(self, path, key=None, **kw):
        return self.call("DELETE", path, key, **kw)


def record(method: str, path: str, r: httpx.Response, body: str | None = None) -> None:
    if body is None:
        try:
            body = r.content.decode("utf-8", errors="replace")
        except httpx.ResponseNotRead:
            body = ""
    with _lock:
        RECORD.append({"method": method, "path": path, "status": r.status_code,
                       "ctype": r.headers.get("content-type", ""), "body": body,
                       "headers": dict(r.headers)})


def brief_of(r: httpx.Response) -> str:
    return f"{r.status_code} {r.headers.get('content-type', '')} {r.text[:160]!r}"


def is_problem(r: httpx.Response, status: int | None = None) -> tuple[bool, str]:
    """RFC 9457: application/problem+json with type, title, status, detail (status matching)."""
    ct = r.headers.get("content-type", "")
    if not ct.startswith(PROBLEM_CT):
        return False, f"content-type {ct!r} is not {PROBLEM_CT}"
    try:
        body = r.json()
    except ValueError:
        return False, "body is not JSON"
    missing = [k for k in ("type", "title", "status", "detail") if k not in body]
    if missing:
        return False, f"problem lacks {missing}"
    if body["status"] != r.status_code:
        return False, f"problem status {body['status']} != HTTP {r.status_code}"
    if status is not None and r.status_code != status:
        return False, f"HTTP {r.status_code}, wanted {status}"
    return True, "problem+json ok"


def expect(r: httpx.Response, statuses, problem: bool | None = None) -> tuple[bool, str]:
    if isinstance(statuses, int):
        statuses = (statuses,)
    ok = r.status_code in statuses
    detail = f"got {brief_of(r)}; want {'/'.join(map(str, statuses))}"
    if ok and (problem or (problem is None and r.status_code >= 400)):
        pok, pd = is_problem(r)
        if not pok:
            return False, f"{detail}; {pd}"
    return ok, detail


# ----------------------------------------------------------------------------------------------
# CLI helpers

class Cli:
    def __init__(self, home: str) -> None:
        self.home = home
        self.env = dict(os.environ, MKA_HOME=home)

    def run(self, *args: str, env_extra: dict | None = None, timeout: float = 120) -> dict | list:
        env = dict(self.env, **(env_extra or {}))
        p = subprocess.run(["mka", *args, "--json"], env=env, capture_output=True, text=True, timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"mka {' '.join(args)} exited {p.returncode}: {p.stdout[-300:]} {p.stderr[-300:]}")
        return json.loads(p.stdout)

    def key(self, project: str, role: str, *flags: str, env_extra=None, name: str = "") -> dict:
        args = ["keys", "create", "--project", project, "--role", role, *flags]
        if name:
            args += ["--name", name]
        out = self.run(*args, env_extra=env_extra)
        assert "key_id" in out and "api_key" in out, f"unexpected keys create output {out}"
        return out


TIMESHIFT = '''
import datetime as _dt, time as _time, os
_off = float(os.environ.get("PROBE_TIME_SHIFT_S", "0"))
if _off:
    _real = _dt.datetime
    class _Shifted(_real):
        @classmethod
        def now(cls, tz=None):
            return _real.now(tz) - _dt.timedelta(seconds=_off)
        @classmethod
        def utcnow(cls):
            return _real.utcnow() - _dt.timedelta(seconds=_off)
    _dt.datetime = _Shifted
    _rt = _time.time
    _time.time = lambda: _rt() - _off
'''


def make_expired_key(cli: Cli, project: str) -> dict:
    """A key created 'two days ago' with a 12h lifetime: the CLI runs with a shifted clock."""
    d = tempfile.mkdtemp(prefix="probe-timeshift-")
    with open(os.path.join(d, "sitecustomize.py"), "w") as f:
        f.write(TIMESHIFT)
    pp = d + (os.pathsep + os.environ["PYTHONPATH"] if os.environ.get("PYTHONPATH") else "")
    k = cli.key(project, "viewer", "--expires", "12h", name="probe-expired",
                env_extra={"PYTHONPATH": pp, "PROBE_TIME_SHIFT_S": str(2 * 86400)})
    rows = cli.run("keys", "list", "--project", project)
    row = next((x for x in rows if x.get("key_id") == k["key_id"]), None)
    exp = (row or {}).get("expires_at")
    if not exp or datetime.fromisoformat(exp.replace("Z", "+00:00")) >= datetime.now(timezone.utc):
        raise RuntimeError(f"could not create an already-expired key (expires_at={exp})")
    return k


# ----------------------------------------------------------------------------------------------
# SSE helpers

def sse_read(base: str, path: str, key: str, *, headers=None, overall_s: float = 30.0,
             read_timeout: float = 25.0, stop=None) -> dict:
    """Read an SSE stream; returns events, comment lines, whether it ended on its own, status."""
    h = {"Authorization": f"Bearer {key}", "Accept": "text/event-stream", **(headers or {})}
    out = {"status": None, "events": [], "comments": [], "ended": False, "error": None, "raw": []}
    t0 = time.monotonic()
    cur: dict = {}
    try:
        with httpx.Client(base_url=base, timeout=httpx.Timeout(read_timeout, connect=10.0)) as c:
            with c.stream("GET", path, headers=h) as r:
                out["status"] = r.status_code
                out["ctype"] = r.headers.get("content-type", "")
                if r.status_code != 200:
                    r.read()
                    record("GET", path, r)
                    out["body"] = r.text
                    return out
                for line in r.iter_lines():
                    out["raw"].append(line)
                    if line == "":
                        if cur:
                            out["events"].append(cur)
                            cur = {}
                    elif line.startswith(":"):
                        out["comments"].append(line)
                    else:
                        k, _, v = line.partition(":")
                        v = v[1:] if v.startswith(" ") else v
                        if k == "data":
                            cur["data"] = cur.get("data", "") + v
                        elif k in ("id", "event", "retry"):
                            cur[k] = v
                    if stop and stop(out):
                        return out
                    if time.monotonic() - t0 > overall_s:
                        out["error"] = f"still open after {overall_s}s"
                        return out
                if cur:
                    out["events"].append(cur)
                out["ended"] = True
    except httpx.ReadTimeout:
        out["error"] = f"no bytes for {read_timeout}s (stream stayed open)"
    except Exception as exc:  # noqa: BLE001
        out["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        if out["status"] == 200:  # non-200 answers were recorded with their body above
            with _lock:
                RECORD.append({"method": "GET", "path": path, "status": out["status"] or 0, "ctype": "text/event-stream",
                               "body": "\n".join(out["raw"]), "headers": {}})
    return out


# ----------------------------------------------------------------------------------------------
# raw socket helper (to see a 413 without sending the whole body)

def raw_post(base: str, path: str, key: str, head_extra: str, chunks: list[bytes], wait_s: float = 8.0):
    u = urlparse(base)
    s = socket.create_connection((u.hostname, u.port or 80), timeout=wait_s)
    try:
        head = (f"POST {path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\nAuthorization: Bearer {key}\r\n"
                f"Content-Type: application/json\r\n{head_extra}\r\n")
        s.sendall(head.encode())
        for ch in chunks:
            try:
                s.sendall(ch)
            except (BrokenPipeError, ConnectionResetError):
                break
        t0 = time.monotonic()
        data = b""
        while b"\r\n\r\n" not in data and time.monotonic() - t0 < wait_s:
            try:
                d = s.recv(65536)
            except socket.timeout:
                break
            if not d:
                break
            data += d
        dt = time.monotonic() - t0
        # read a little of the body too
        s.settimeout(1.0)
        try:
            data += s.recv(65536)
        except Exception:  # noqa: BLE001
            pass
        return dt, data
    finally:
        s.close()


# ----------------------------------------------------------------------------------------------
# the probes

def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", default="http://localhost:8199")
    ap.add_argument("--home", default="/tmp/probe/.mka")
    ap.add_argument("--brief", default="/work/main/examples/brief.yaml")
    ap.add_argument("--job-timeout", type=float, default=180.0)
    a = ap.parse_args()
    base = a.base.rstrip("/")
    api = Api(base)
    cli = Cli(a.home)

    # --- wait for the server
    t0 = time.monotonic()
    while True:
        try:
            if httpx.get(base + "/v1/health/live", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() - t0 > 90:
            print(f"FAIL setup: server at {base} not live after 90s")
            print("probes: 0 passed of 1")
            return 0
        time.sleep(2)

    # --- brief
    if a.brief.endswith((".yaml", ".yml")):
        with open(a.brief) as f:
            BRIEF = yaml.safe_load(f)
    else:
        with open(a.brief) as f:
            BRIEF = json.load(f)

    # --- setup: projects and keys through the CLI
    sfx = secrets.token_hex(3)
    PA, PB = f"probe-a-{sfx}", f"probe-b-{sfx}"
    K: dict[str, dict] = {}
    try:
        cli.run("projects", "create", PA)
        cli.run("projects", "create", PB)
        K["dep_admin"] = cli.key(PA, "admin", "--deployment-admin", name="probe-dep-admin")
        K["admin_a"] = cli.key(PA, "admin", name="probe-admin")
        K["analyst_a"] = cli.key(PA, "analyst", name="probe-analyst")
        K["viewer_a"] = cli.key(PA, "viewer", name="probe-viewer")
        K["viewer2_a"] = cli.key(PA, "viewer", name="probe-viewer2")
        K["pii_a"] = cli.key(PA, "viewer", "--pii-reader", name="probe-pii")
        K["revoke_a"] = cli.key(PA, "viewer", name="probe-to-revoke")
        K["rate_a"] = cli.key(PA, "viewer", name="probe-rate")
        K["future_a"] = cli.key(PA, "viewer", "--expires", "30d", name="probe-30d")
        K["admin_b"] = cli.key(PB, "admin", name="probe-admin-b")
        K["analyst_b"] = cli.key(PB, "analyst", name="probe-analyst-b")
        K["viewer_b"] = cli.key(PB, "viewer", name="probe-viewer-b")
        K["pii_b"] = cli.key(PB, "viewer", "--pii-reader", name="probe-pii-b")
    except Exception as exc:  # noqa: BLE001
        print(f"FAIL setup: {exc}")
        print("probes: 0 passed of 1")
        return 0
    try:
        K["expired_a"] = make_expired_key(cli, PA)
    except Exception as exc:  # noqa: BLE001
        K["expired_a"] = None
        print(f"# setup note: {exc}")
    try:
        op_cfg = cli.run("config")
    except Exception:  # noqa: BLE001
        op_cfg = {}
    k = {n: (v["api_key"] if v else None) for n, v in K.items()}
    BRIEF = dict(BRIEF, project=PA)  # the example names `demo`; our key's project is PA
    print(f"# projects {PA} {PB}; {len(K)} keys created", flush=True)

    # --- long-running work started early, in the background
    main_job: dict = {}

    def submit_main():
        r = api.post("/v1/jobs", k["analyst_a"], json={"brief": BRIEF})
        main_job["submit"] = r
        if r.status_code == 202:
            main_job["id"] = r.json().get("job_id")

    submit_main()
    hang_script = {"providers": {"openai": {"hang": True}, "gemini": {"hang": True}}}
    over_deadline = float(op_cfg.get("quorum_deadline_s") or 60) * 10
    r_dead = api.post("/v1/jobs", k["analyst_a"],
                      json={"brief": BRIEF, "providers_script": {"deadline_s": over_deadline, **hang_script}})
    dead_job = r_dead.json().get("job_id") if r_dead.status_code == 202 else None
    r_cancel = api.post("/v1/jobs", k["analyst_a"],
                        json={"brief": BRIEF, "providers_script": {"deadline_s": 50, **hang_script}})
    cancel_job = r_cancel.json().get("job_id") if r_cancel.status_code == 202 else None

    pool = cf.ThreadPoolExecutor(max_workers=4)

    def wait_terminal(job_id, key, limit):
        t = time.monotonic()
        last = None
        while time.monotonic() - t < limit:
            r = api.get(f"/v1/jobs/{job_id}", key)
            if r.status_code == 200:
                last = r.json()
                if last.get("state") in ("completed", "failed", "cancelled"):
                    return last, time.monotonic() - t
            time.sleep(2)
        return last, time.monotonic() - t

    fut_main = pool.submit(wait_terminal, main_job.get("id"), k["analyst_a"], a.job_timeout) \
        if main_job.get("id") else None
    fut_dead = pool.submit(wait_terminal, dead_job, k["analyst_a"], over_deadline + 120) if dead_job else None

    # heartbeat on a running job (the hanging one), read concurrently
    def hb():
        if not dead_job:
            return None
        return sse_read(base, f"/v1/jobs/{dead_job}/events", k["viewer2_a"], overall_s=40, read_timeout=35,
                        stop=lambda o: bool(o["comments"]))
    fut_hb = pool.submit(hb)

    JOB_GET = "/v1/jobs/{}"

    # ================================ public routes
    def p_public(path, check=None):
        def f():
            r = api.get(path)
            if r.status_code != 200:
                return False, brief_of(r)
            if check:
                return check(r)
            return True, "200 without credentials"
        return f

    probe("public_health_live", p_public("/v1/health/live"))
    probe("public_health_ready", p_public("/v1/health/ready"))
    probe("public_openapi_json", p_public("/openapi.json", lambda r: (
        "paths" in r.json() and "/v1/jobs" in r.json()["paths"], f"200, {len(r.json().get('paths', {}))} paths")))
    probe("public_docs", p_public("/docs", lambda r: ("swagger" in r.text.lower(), "200 swagger page")))

    def p_docs_local():
        r = api.get("/docs")
        ext = [w for w in ("cdn.jsdelivr.net", "unpkg.com", "fastapi.tiangolo.com", "cdnjs") if w in r.text]
        return (r.status_code == 200 and not ext), (f"external asset hosts referenced: {ext}" if ext
                                                     else f"{r.status_code}, assets local")
    probe("docs_assets_served_locally (DESIGN)", p_docs_local)

    # ================================ credential failures
    some_job = main_job.get("id") or "00000000-0000-0000-0000-000000000000"

    def p_cred(header_value, path="/v1/me", want=401):
        def f():
            h = {} if header_value is None else {"Authorization": header_value}
            r = api.get(path, headers=h)
            ok, d = expect(r, want)
            return ok, d
        return f

    probe("auth_none_401", p_cred(None))
    probe("auth_none_401_on_job_route", p_cred(None, JOB_GET.format(some_job)))
    probe("auth_malformed_basic_scheme_401", p_cred("Basic dXNlcjpwYXNz"))
    probe("auth_malformed_bearer_empty_401", p_cred("Bearer"))
    probe("auth_malformed_bearer_garbage_401", p_cred("Bearer not-a-key-at-all!!"))
    kid_a = K["viewer_a"]["key_id"]
    probe("auth_unknown_key_401", p_cred(f"Bearer mka_{'z' * len(kid_a)}_{secrets.token_urlsafe(32)}"))
    probe("auth_known_id_wrong_secret_401", p_cred(f"Bearer mka_{kid_a}_{secrets.token_urlsafe(32)}"))
    probe("auth_bogus_jwt_401", p_cred(
        "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJwcm9iZSIsImV4cCI6NDEwMjQ0NDgwMH0."
        "c2lnbmF0dXJlLW5vdC12YWxpZA"))

    def p_expired():
        if not k.get("expired_a"):
            return False, "setup could not create an expired key (see setup note)"
        r = api.get("/v1/me", k["expired_a"])
        return expect(r, 401)
    probe("auth_expired_key_401", p_expired)

    def p_not_yet_expired():
        r = api.get("/v1/me", k["future_a"])
        return expect(r, 200)
    probe("auth_key_with_future_expiry_200", p_not_yet_expired)

    def p_revoked_cli():
        r0 = api.get("/v1/me", k["revoke_a"])
        if r0.status_code != 200:
            return False, f"key did not work before revocation: {brief_of(r0)}"
        cli.run("keys", "revoke", K["revoke_a"]["key_id"])
        r = api.get("/v1/me", k["revoke_a"])
        ok, d = expect(r, 401)
        return ok, "200 before, after `mka keys revoke`: " + d
    probe("auth_revoked_key_cli_401", p_revoked_cli)

    def p_401_everywhere():
        bad = []
        for m, p in [("POST", "/v1/jobs"), ("GET", "/v1/keys"), ("GET", "/v1/projects"),
                     ("GET", f"/v1/jobs/{some_job}/artifacts"), ("POST", f"/v1/jobs/{some_job}/cancel"),
                     ("GET", f"/v1/projects/{PA}/members")]:
            r = api.call(m, p, json={} if m == "POST" else None)
            if r.status_code != 401:
                bad.append(f"{m} {p} -> {r.status_code}")
        return not bad, "all 401 without credentials" if not bad else "; ".join(bad)
    probe("auth_none_401_on_sample_routes", p_401_everywhere)

    # ================================ identity & role matrix
    def p_me():
        r = api.get("/v1/me", k["viewer_a"])
        if r.status_code != 200:
            return False, brief_of(r)
        body = r.text
        return (PA in body and "viewer" in body and PB not in body), f"200 {body[:200]}"
    probe("me_shows_project_and_role", p_me)

    def p_projects_scoped():
        r = api.get("/v1/projects", k["viewer_a"])
        if r.status_code != 200:
            return False, brief_of(r)
        return (PA in r.text and PB not in r.text), f"200; own listed={PA in r.text}, other listed={PB in r.text}"
    probe("projects_list_scoped_to_key", p_projects_scoped)

    def p_viewer_submit():
        return expect(api.post("/v1/jobs", k["viewer_a"], json={"brief": BRIEF}), 403)
    probe("viewer_submit_job_403", p_viewer_submit)

    def p_analyst_submit():
        r = main_job.get("submit")
        if r is None or r.status_code != 202:
            return False, f"submit: {brief_of(r) if r is not None else 'none'}"
        body = r.json()
        return (bool(body.get("job_id")) and body.get("project", PA) == PA), \
            f"202 job {body.get('job_id')} project {body.get('project')}"
    probe("analyst_submit_job_202_project_from_key", p_analyst_submit)

    def p_brief_names_other_project():
        # the project comes from the key: a brief naming another project must not land there
        r = api.post("/v1/jobs", k["analyst_a"], json={"brief": dict(BRIEF, project=PB)})
        if r.status_code in (200, 202):
            jid = r.json().get("job_id")
            seen_b = api.get(JOB_GET.format(jid), k["viewer_b"]).status_code
            proj = api.get(JOB_GET.format(jid), k["viewer_a"]).json().get("project")
            return (seen_b == 404 and proj == PA), f"{r.status_code}; job project {proj}; B's viewer sees {seen_b}"
        return (r.status_code in (400, 403, 422) and is_problem(r)[0]), f"refused: {brief_of(r)}"
    probe("brief_naming_other_project_not_honoured", p_brief_names_other_project)

    def p_job_read(keyname, want):
        def f():
            if not main_job.get("id"):
                return False, "no job was submitted"
            return expect(api.get(JOB_GET.format(main_job["id"]), k[keyname]), want)
        return f
    probe("viewer_read_own_job_200", p_job_read("viewer_a", 200))
    probe("admin_read_own_job_200", p_job_read("admin_a", 200))
    probe("other_project_viewer_read_job_404", p_job_read("viewer_b", 404))
    probe("other_project_admin_read_job_404", p_job_read("admin_b", 404))

    def p_404_indistinguishable():
        if not main_job.get("id"):
            return False, "no job"
        r1 = api.get(JOB_GET.format(main_job["id"]), k["viewer_b"])
        fake = "11111111-2222-3333-4444-555555555555"
        r2 = api.get(JOB_GET.format(fake), k["viewer_b"])
        if r1.status_code != 404 or r2.status_code != 404:
            return False, f"other-project {r1.status_code}, nonexistent {r2.status_code}"
        b1, b2 = r1.json(), r2.json()
        same = (b1.get("type") == b2.get("type") and b1.get("title") == b2.get("title")
                and b1.get("detail", "").replace(main_job["id"], "X") == b2.get("detail", "").replace(fake, "X"))
        return same, f"other-project 404 {b1.get('type')} vs nonexistent 404 {b2.get('type')}; same shape={same}"
    probe("other_project_404_same_as_nonexistent", p_404_indistinguishable)

    def p_viewer_action(action, want=403):
        def f():
            jid = cancel_job or main_job.get("id")
            if not jid:
                return False, "no job of project A to act on"
            return expect(api.post(f"/v1/jobs/{jid}/{action}", k["viewer_a"], json={}), want)
        return f
    probe("viewer_cancel_403", p_viewer_action("cancel"))
    probe("viewer_resume_403", p_viewer_action("resume"))

    def p_other_action(action):
        def f():
            jid = cancel_job or main_job.get("id")
            if not jid:
                return False, "no job of project A to act on"
            return expect(api.post(f"/v1/jobs/{jid}/{action}", k["analyst_b"], json={}), 404)
        return f
    probe("other_project_analyst_cancel_404", p_other_action("cancel"))
    probe("other_project_analyst_resume_404", p_other_action("resume"))

    def p_analyst_cancel():
        if not cancel_job:
            return False, f"hanging job not submitted: {brief_of(r_cancel)}"
        r = api.post(f"/v1/jobs/{cancel_job}/cancel", k["analyst_a"], json={})
        if r.status_code not in (200, 202):
            return False, brief_of(r)
        t = time.monotonic()
        state = None
        while time.monotonic() - t < 40:
            g = api.get(JOB_GET.format(cancel_job), k["analyst_a"])
            state = g.json().get("state") if g.status_code == 200 else g.status_code
            if state == "cancelled":
                break
            time.sleep(1)
        return state == "cancelled", f"cancel {r.status_code}; job state {state}"
    probe("analyst_cancel_running_job", p_analyst_cancel)

    def p_analyst_resume_allowed():
        jid = cancel_job or main_job.get("id")
        if not jid:
            return False, "no job of project A to act on"
        r = api.post(f"/v1/jobs/{jid}/resume", k["analyst_a"], json={})
        ok = r.status_code not in (401, 403, 404) and r.status_code < 500
        return ok, f"authorized (not 401/403/404): {brief_of(r)}"
    probe("analyst_resume_authorized", p_analyst_resume_allowed)

    def p_docs_upload(keyname, want):
        def f():
            r = api.post("/v1/documents", k[keyname],
                         files={"file": ("probe-notes.txt", b"Oat drinks sell well in Berlin cafes.", "text/plain")})
            return expect(r, want)
        return f
    probe("viewer_upload_document_403", p_docs_upload("viewer_a", 403))
    probe("analyst_upload_document_201", p_docs_upload("analyst_a", (200, 201)))

    probe("analyst_list_keys_403", lambda: expect(api.get("/v1/keys", k["analyst_a"]), 403))
    probe("analyst_create_key_403", lambda: expect(api.post("/v1/keys", k["analyst_a"], json={"role": "viewer"}), 403))
    probe("viewer_list_members_403", lambda: expect(api.get(f"/v1/projects/{PA}/members", k["viewer_a"]), 403))
    probe("analyst_add_member_403", lambda: expect(api.post(
        f"/v1/projects/{PA}/members", k["analyst_a"], json={"subject": "probe-x", "role": "viewer"}), 403))

    def p_admin_keys_list():
        r = api.get("/v1/keys", k["admin_a"])
        if r.status_code != 200:
            return False, brief_of(r)
        txt = r.text
        leaks = [n for n, v in k.items() if v and v in txt]
        secret_tails = [n for n, v in k.items() if v and v.rsplit("_", 1)[-1] in txt]
        other = K["admin_b"]["key_id"] in txt
        ok = (K["viewer_a"]["key_id"] in txt) and not leaks and not secret_tails and not other
        return ok, (f"200; own keys listed={K['viewer_a']['key_id'] in txt}, other project's listed={other}, "
                    f"secrets shown={leaks or secret_tails or 'none'}")
    probe("admin_list_keys_scoped_no_secrets", p_admin_keys_list)

    def p_admin_key_lifecycle():
        r = api.post("/v1/keys", k["admin_a"], json={"role": "viewer", "name": "probe-api-key"})
        if r.status_code not in (200, 201):
            return False, "create: " + brief_of(r)
        body = r.json()
        new_key, new_id = body.get("api_key"), body.get("key_id")
        me = api.get("/v1/me", new_key)
        if me.status_code != 200 or PA not in me.text:
            return False, "new key does not work in the admin's project: " + brief_of(me)
        d = api.delete(f"/v1/keys/{new_id}", k["admin_a"])
        if d.status_code not in (200, 204):
            return False, "revoke: " + brief_of(d)
        after = api.get("/v1/me", new_key)
        return after.status_code == 401, f"create {r.status_code}, use 200, DELETE {d.status_code}, then {after.status_code}"
    probe("admin_key_create_use_revoke_api (revoked -> 401)", p_admin_key_lifecycle)

    def p_admin_delete_other_key():
        r = api.delete(f"/v1/keys/{K['viewer_b']['key_id']}", k["admin_a"])
        still = api.get("/v1/me", k["viewer_b"]).status_code
        return (r.status_code == 404 and still == 200), f"DELETE other project's key: {brief_of(r)}; that key now {still}"
    probe("admin_delete_other_project_key_404", p_admin_delete_other_key)

    def p_admin_members():
        subj = f"probe-user-{sfx}"
        r = api.post(f"/v1/projects/{PA}/members", k["admin_a"], json={"subject": subj, "role": "analyst"})
        if r.status_code not in (200, 201):
            return False, "add: " + brief_of(r)
        g = api.get(f"/v1/projects/{PA}/members", k["admin_a"])
        listed = g.status_code == 200 and subj in g.text
        d = api.delete(f"/v1/projects/{PA}/members/{subj}", k["admin_a"])
        g2 = api.get(f"/v1/projects/{PA}/members", k["admin_a"])
        gone = g2.status_code == 200 and subj not in g2.text
        return (listed and d.status_code in (200, 204) and gone), \
            f"add {r.status_code}, listed={listed}, DELETE {d.status_code}, gone={gone}"
    probe("admin_members_add_list_remove", p_admin_members)

    def p_admin_other_members():
        r = api.get(f"/v1/projects/{PB}/members", k["admin_a"])
        r2 = api.post(f"/v1/projects/{PB}/members", k["admin_a"], json={"subject": "intruder", "role": "admin"})
        ok = r.status_code in (403, 404) and r2.status_code in (403, 404)
        return ok, f"GET other project's members {r.status_code}, POST {r2.status_code}"
    probe("admin_other_project_members_refused", p_admin_other_members)

    def p_cli_members():
        subj = f"probe-cli-{sfx}"
        cli.run("members", "add", "--project", PA, "--subject", subj, "--role", "viewer")
        g = api.get(f"/v1/projects/{PA}/members", k["admin_a"])
        cli.run("members", "remove", "--project", PA, "--subject", subj)
        g2 = api.get(f"/v1/projects/{PA}/members", k["admin_a"])
        return (subj in g.text and subj not in g2.text), \
            f"CLI add visible via API={subj in g.text}, CLI remove visible={subj not in g2.text}"
    probe("cli_members_visible_in_api", p_cli_members)

    probe("admin_create_project_403_without_deployment_admin", lambda: expect(
        api.post("/v1/projects", k["admin_a"], json={"name": f"probe-x-{sfx}"}), 403))
    probe("viewer_create_project_403", lambda: expect(
        api.post("/v1/projects", k["viewer_a"], json={"name": f"probe-y-{sfx}"}), 403))

    def p_dep_admin_project():
        name = f"probe-c-{sfx}"
        r = api.post("/v1/projects", k["dep_admin"], json={"name": name})
        if r.status_code not in (200, 201):
            return False, brief_of(r)
        listed = name in json.dumps(cli.run("projects", "list"))
        return listed, f"{r.status_code}; in `mka projects list`={listed}"
    probe("deployment_admin_create_project_201", p_dep_admin_project)

    # ================================ hardening (no job needed)
    def p_415(path, key):
        def f():
            r = api.post(path, k[key], content=json.dumps({"brief": BRIEF}).encode(),
                         headers={"Content-Type": "text/plain"})
            return expect(r, 415)
        return f
    probe("text_plain_post_jobs_415", p_415("/v1/jobs", "analyst_a"))
    probe("text_plain_post_keys_415", p_415("/v1/keys", "admin_a"))

    def p_form_415():
        r = api.post("/v1/jobs", k["analyst_a"], data={"brief": "x"})
        return expect(r, 415)
    probe("form_urlencoded_post_jobs_415", p_form_415)

    def p_413_plain():
        big = b'{"brief": "' + b"a" * (1024 * 1024 + 10) + b'"}'
        return expect(api.post("/v1/jobs", k["analyst_a"], content=big,
                               headers={"Content-Type": "application/json"}), 413)
    probe("body_over_1mib_413", p_413_plain)

    def p_413_early():
        # declare 100 MiB, send only 8 KiB: the answer must come without the rest of the body
        dt, data = raw_post(base, "/v1/jobs", k["analyst_a"], f"Content-Length: {100 * 1024 * 1024}\r\n",
                            [b'{"brief": "' + b"a" * 8192], wait_s=8)
        status = data.split(b"\r\n", 1)[0].decode(errors="replace") if data else "(no answer)"
        ok = b" 413 " in data[:20] and b"problem+json" in data.lower()
        return ok, f"{status} after {dt:.2f}s with 8 KiB of a declared 100 MiB body"
    probe("body_413_before_reading_declared_length", p_413_early)

    def p_413_chunked():
        chunk = b"a" * 65536
        chunks = [b'b\r\n{"brief": "\r\n'] + [b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(18)]
        dt, data = raw_post(base, "/v1/jobs", k["analyst_a"], "Transfer-Encoding: chunked\r\n", chunks, wait_s=8)
        status = data.split(b"\r\n", 1)[0].decode(errors="replace") if data else "(no answer)"
        return b" 413 " in data[:20], f"{status} (chunked, 1.1 MiB sent, body never terminated)"
    probe("body_413_chunked_without_length", p_413_chunked)

    def p_cors_simple():
        r = api.get("/v1/me", k["viewer_a"], headers={"Origin": "https://evil.example.com"})
        acao = r.headers.get("access-control-allow-origin")
        return acao is None, f"{r.status_code}; Access-Control-Allow-Origin={acao!r}"
    probe("cors_foreign_origin_no_acao", p_cors_simple)

    def p_cors_preflight():
        r = api.call("OPTIONS", "/v1/jobs", headers={"Origin": "https://evil.example.com",
                                                      "Access-Control-Request-Method": "POST",
                                                      "Access-Control-Request-Headers": "authorization,content-type"})
        acao = r.headers.get("access-control-allow-origin")
        return (acao is None and r.status_code < 500), f"preflight {r.status_code}; ACAO={acao!r}"
    probe("cors_preflight_foreign_origin_no_acao", p_cors_preflight)

    def p_host():
        r = api.get("/v1/me", k["viewer_a"], headers={"Host": "evil.example.com"})
        ok = 400 <= r.status_code < 500 and r.status_code not in (401, 403, 404)
        return ok and is_problem(r)[0], f"Host evil.example.com -> {brief_of(r)}"
    probe("untrusted_host_refused", p_host)

    def p_host_health():
        r = api.get("/v1/health/live", headers={"Host": "attacker.test"})
        return 400 <= r.status_code < 500, f"public route with Host attacker.test -> {r.status_code}"
    probe("untrusted_host_refused_on_public_route", p_host_health)

    idem = f"probe-idem-{sfx}"

    def p_idem_same():
        body = {"brief": BRIEF}
        r1 = api.post("/v1/jobs", k["analyst_a"], json=body, headers={"Idempotency-Key": idem})
        r2 = api.post("/v1/jobs", k["analyst_a"], json=body, headers={"Idempotency-Key": idem})
        if r1.status_code not in (200, 202) or r2.status_code not in (200, 202):
            return False, f"{brief_of(r1)} / {brief_of(r2)}"
        j1, j2 = r1.json().get("job_id"), r2.json().get("job_id")
        return j1 == j2 and bool(j1), f"{r1.status_code} {j1} then {r2.status_code} {j2}"
    probe("idempotency_same_key_same_body_same_job", p_idem_same)

    def p_idem_diff():
        b2 = dict(BRIEF, title=str(BRIEF.get("title", "")) + " (changed)")
        r = api.post("/v1/jobs", k["analyst_a"], json={"brief": b2}, headers={"Idempotency-Key": idem})
        return expect(r, 422)
    probe("idempotency_same_key_other_body_422", p_idem_diff)

    def p_idem_long():
        r = api.post("/v1/jobs", k["analyst_a"], json={"brief": BRIEF}, headers={"Idempotency-Key": "k" * 201})
        return (400 <= r.status_code < 500 and is_problem(r)[0]), f"201-char key -> {brief_of(r)}"
    probe("idempotency_key_over_200_chars_4xx", p_idem_long)

    def p_idem_other_project():
        # the same key string in another project must not hand out project A's job
        r_a = api.post("/v1/jobs", k["analyst_a"], json={"brief": BRIEF}, headers={"Idempotency-Key": idem})
        ja = r_a.json().get("job_id") if r_a.status_code in (200, 202) else None
        r = api.post("/v1/jobs", k["analyst_b"], json={"brief": dict(BRIEF, project=PB)},
                     headers={"Idempotency-Key": idem})
        jb = r.json().get("job_id") if r.status_code in (200, 202) else None
        if not ja or r.status_code >= 500:
            return False, f"A: {brief_of(r_a)}; B: {brief_of(r)}"
        leaked = jb == ja or (ja in r.text)
        return (not leaked and (jb is not None or r.status_code in (409, 422))), \
            f"project A's job {ja}; project B with the same Idempotency-Key got {r.status_code} {jb}"
    probe("idempotency_key_scoped_per_project", p_idem_other_project)

    def p_lei():
        jid = main_job.get("id") or some_job
        r = api.get(f"/v1/jobs/{jid}/events", k["viewer_a"], headers={"Last-Event-ID": "²".encode("utf-8")})
        return (400 <= r.status_code < 500 and is_problem(r)[0]), f"Last-Event-ID '²' -> {brief_of(r)}"
    probe("last_event_id_superscript_4xx", p_lei)

    def p_lei_latin1():
        jid = main_job.get("id") or some_job
        r = api.get(f"/v1/jobs/{jid}/events", k["viewer_a"], headers={"Last-Event-ID": "²".encode("latin-1")})
        return 400 <= r.status_code < 500, f"Last-Event-ID b'\\xb2' -> {brief_of(r)}"
    probe("last_event_id_latin1_byte_4xx", p_lei_latin1)

    def p_script_latency():
        r = api.post("/v1/jobs", k["analyst_a"], json={
            "brief": BRIEF, "providers_script": {"providers": {"openai": {"latency_s": 10 ** 7}}}})
        return r.status_code in (400, 422), f"latency_s 1e7 -> {brief_of(r)}"
    probe("providers_script_absurd_latency_4xx", p_script_latency)

    def p_fastapi_422_query():
        jid = main_job.get("id") or some_job
        r = api.get(f"/v1/jobs/{jid}/merge", k["viewer_a"], params={"reveal_pii": "not-a-bool"})
        return expect(r, 422, problem=True)
    probe("fastapi_422_query_is_problem", p_fastapi_422_query)

    def p_fastapi_422_body():
        r = api.post("/v1/keys", k["admin_a"], json={"role": "superuser"})
        return expect(r, 422, problem=True)
    probe("fastapi_422_body_is_problem", p_fastapi_422_body)

    def p_bad_json():
        r = api.post("/v1/jobs", k["analyst_a"], content=b"{not json", headers={"Content-Type": "application/json"})
        return (400 <= r.status_code < 500 and is_problem(r)[0]), brief_of(r)
    probe("malformed_json_4xx_problem", p_bad_json)

    def p_unknown_route():
        return expect(api.get("/v1/no-such-route", k["viewer_a"]), 404, problem=True)
    probe("unknown_route_404_problem", p_unknown_route)

    # ================================ the full job
    final = None
    if fut_main:
        final, took = fut_main.result()
    state = (final or {}).get("state")

    def p_job_done():
        if not main_job.get("id"):
            return False, "job not submitted: " + (brief_of(main_job["submit"]) if "submit" in main_job else "")
        return state == "completed", f"job {main_job['id']} state {state} after {took:.0f}s"
    probe("analyst_job_completes", p_job_done)

    arts: list = []

    def p_arts_list():
        nonlocal arts
        if not main_job.get("id"):
            return False, "no job"
        r = api.get(f"/v1/jobs/{main_job['id']}/artifacts", k["viewer_a"])
        if r.status_code != 200:
            return False, brief_of(r)
        body = r.json()
        arts = body if isinstance(body, list) else body.get("artifacts", body.get("items", []))
        kinds = sorted({x.get("kind") for x in arts})
        return bool(arts), f"200, {len(arts)} artifacts, kinds {kinds}"
    probe("viewer_lists_job_artifacts", p_arts_list)

    def p_arts_download():
        if not arts:
            return False, "no artifacts listed"
        bad, n = [], 0
        for x in arts:
            r = api.get(f"/v1/artifacts/{x['id']}", k["viewer_a"], follow_redirects=True)
            n += 1
            if r.status_code != 200:
                bad.append(f"{x['id']} {r.status_code}")
                continue
            if x.get("sha256") and hashlib.sha256(r.content).hexdigest() != x["sha256"]:
                bad.append(f"{x['id']} sha256 mismatch")
        return not bad, f"{n} downloaded, sha256 matches" if not bad else "; ".join(bad)
    probe("viewer_downloads_artifacts_sha256", p_arts_download)

    def p_arts_other(keyname, what):
        def f():
            if not arts:
                return False, "no artifacts listed"
            x = arts[0]
            path = {"download": f"/v1/artifacts/{x['id']}", "meta": f"/v1/artifacts/{x['id']}/meta",
                    "list": f"/v1/jobs/{main_job['id']}/artifacts"}[what]
            return expect(api.get(path, k[keyname], follow_redirects=True), 404)
        return f
    probe("other_project_viewer_artifact_download_404", p_arts_other("viewer_b", "download"))
    probe("other_project_admin_artifact_download_404", p_arts_other("admin_b", "download"))
    probe("other_project_viewer_artifact_meta_404", p_arts_other("viewer_b", "meta"))
    probe("other_project_viewer_job_artifacts_404", p_arts_other("viewer_b", "list"))

    def p_other_events():
        if not main_job.get("id"):
            return False, "no job"
        out = sse_read(base, f"/v1/jobs/{main_job['id']}/events", k["viewer_b"], overall_s=10, read_timeout=10)
        return out["status"] == 404, f"events for other project's job -> {out['status']} {out.get('body', '')[:120]!r}"
    probe("other_project_events_404", p_other_events)

    def p_holds():
        if not arts:
            return False, "no artifacts listed"
        aid = arts[0]["id"]
        r_an = api.post(f"/v1/artifacts/{aid}/hold", k["analyst_a"], json={"reason": "probe"})
        r_b = api.post(f"/v1/artifacts/{aid}/hold", k["admin_b"], json={"reason": "probe"})
        r_ad = api.post(f"/v1/artifacts/{aid}/hold", k["admin_a"], json={"reason": "probe legal hold"})
        r_rel = api.post(f"/v1/artifacts/{aid}/release", k["admin_a"], json={})
        ok = (r_an.status_code == 403 and r_b.status_code == 404 and r_ad.status_code in (200, 201)
              and r_rel.status_code in (200, 204))
        return ok, (f"analyst {r_an.status_code} (want 403), other admin {r_b.status_code} (want 404), "
                    f"admin hold {r_ad.status_code}, release {r_rel.status_code}")
    probe("holds_admin_only", p_holds)

    def p_merge(keyname, reveal, want):
        def f():
            if not main_job.get("id"):
                return False, "no job"
            params = {"reveal_pii": "true"} if reveal else None
            r = api.get(f"/v1/jobs/{main_job['id']}/merge", k[keyname], params=params)
            ok, d = expect(r, want)
            if ok and want == 200:
                ok = "claims" in r.json()
            return ok, d
        return f
    probe("merge_viewer_200", p_merge("viewer_a", False, 200))
    probe("merge_reveal_without_grant_viewer_403", p_merge("viewer_a", True, 403))
    probe("merge_reveal_without_grant_analyst_403", p_merge("analyst_a", True, 403))
    probe("merge_reveal_with_pii_reader_200", p_merge("pii_a", True, 200))
    probe("merge_reveal_pii_reader_other_project_404", p_merge("pii_b", True, 404))

    # ================================ SSE
    sse_full: dict = {}

    def p_sse_close():
        nonlocal sse_full
        if state not in ("completed", "failed"):
            return False, f"job not terminal ({state})"
        sse_full = sse_read(base, f"/v1/jobs/{main_job['id']}/events", k["viewer_a"], overall_s=30, read_timeout=20)
        types = [e.get("event") for e in sse_full["events"]]
        return (sse_full["status"] == 200 and sse_full["ended"] and len(types) > 0), \
            (f"status {sse_full['status']}, {len(types)} events, ended by server={sse_full['ended']}, "
             f"last={types[-1:]} {sse_full['error'] or ''}")
    probe("sse_closes_when_job_terminal", p_sse_close)

    def p_sse_resume():
        evs = [e for e in sse_full.get("events", []) if e.get("id")]
        if len(evs) < 4:
            return False, f"too few events with ids in the first read ({len(evs)})"
        cut = evs[2]["id"]
        want = [e["id"] for e in evs[3:]]
        out = sse_read(base, f"/v1/jobs/{main_job['id']}/events", k["viewer_a"],
                       headers={"Last-Event-ID": cut}, overall_s=30, read_timeout=20)
        got = [e["id"] for e in out["events"] if e.get("id")]
        return got == want, f"Last-Event-ID {cut}: got {len(got)} events from {got[:1]}, want {len(want)} from {want[:1]}"
    probe("sse_resume_with_last_event_id", p_sse_resume)

    def p_sse_heartbeat():
        out = fut_hb.result()
        if out is None:
            return False, f"no running job to watch ({brief_of(r_dead)})"
        hb_lines = [c for c in out["comments"]]
        ev_hb = [e for e in out["events"] if e.get("event") in ("heartbeat", "ping")]
        return (out["status"] == 200 and bool(hb_lines or ev_hb)), \
            f"status {out['status']}, heartbeat lines {hb_lines[:2]} {ev_hb[:1]} {out['error'] or ''}"
    probe("sse_heartbeat_on_running_job", p_sse_heartbeat)

    # ================================ operator limits on providers_script
    def p_deadline_limit():
        limit = float(op_cfg.get("quorum_deadline_s") or 60)
        if r_dead.status_code != 202:
            return r_dead.status_code in (400, 422), f"deadline_s {over_deadline} refused: {brief_of(r_dead)}"
        fin, _ = fut_dead.result()
        q = (fin or {}).get("quorum") or {}
        waited = q.get("waited_s")
        ok = waited is not None and waited <= limit + 5
        return ok, (f"deadline_s {over_deadline} accepted (202); job {fin and fin.get('state')} waited "
                    f"{waited}s; operator limit {limit}s")
    probe("providers_script_deadline_capped_by_operator", p_deadline_limit)

    # ================================ rate limit (last, so a per-IP limiter cannot spoil the others)
    def p_rate():
        # as fast as possible from 8 threads with one key; burst plus refill must run out
        def one(_):
            with httpx.Client(base_url=base, timeout=15) as c:
                out = []
                for _ in range(40):
                    r = c.get("/v1/me", headers={"Authorization": f"Bearer {k['rate_a']}"})
                    out.append((r.status_code, r.headers.get("retry-after"), r.headers.get("content-type", ""),
                                r.text))
                return out
        with cf.ThreadPoolExecutor(8) as ex:
            res = [x for lst in ex.map(one, range(8)) for x in lst]
        n429 = [x for x in res if x[0] == 429]
        other = sorted({x[0] for x in res} - {200, 429})
        if not n429:
            return False, f"{len(res)} requests, no 429 (statuses {sorted({x[0] for x in res})})"
        ra = n429[0][1]
        ra_ok = ra is not None and ra.strip().isdigit() and int(ra) >= 1
        pj = n429[0][2].startswith(PROBLEM_CT)
        # also: another key of the same project is not throttled
        other_key = api.get("/v1/me", k["viewer_a"]).status_code
        return (ra_ok and pj and not other and other_key == 200), \
            (f"{len(n429)}/{len(res)} got 429, Retry-After={ra!r}, problem+json={pj}, unexpected={other}, "
             f"other key meanwhile {other_key}")
    probe("rate_limit_429_with_retry_after", p_rate)

    # ================================ global scans over every answer seen
    def p_no_paths():
        needles = {a.home, os.path.dirname(os.path.abspath(a.home)) + "/", os.path.expanduser("~") + "/",
                   "/work/main", "file://"}
        needles = {n for n in needles if n and n not in ("/", "//")}
        hits = []
        for rec in RECORD:
            for n in needles:
                if n in rec["body"] or any(n in str(v) for v in rec["headers"].values()):
                    hits.append(f"{rec['method']} {rec['path']} ({rec['status']}) contains {n!r}")
        return not hits, (f"{len(RECORD)} answers scanned for {sorted(needles)}; none" if not hits
                          else "; ".join(hits[:5]))
    probe("no_server_paths_in_responses", p_no_paths)

    def p_all_problems():
        bad = []
        n = 0
        for rec in RECORD:
            if rec["status"] >= 400:
                n += 1
                ok = rec["ctype"].startswith(PROBLEM_CT)
                if ok:
                    try:
                        b = json.loads(rec["body"])
                        ok = all(x in b for x in ("type", "title", "status", "detail")) and b["status"] == rec["status"]
                    except ValueError:
                        ok = False
                if not ok:
                    bad.append(f"{rec['method']} {rec['path']} {rec['status']} {rec['ctype']!r} {rec['body'][:80]!r}")
        return not bad, (f"{n} error answers, all RFC 9457 problems" if not bad else "; ".join(bad[:4]))
    probe("every_error_is_rfc9457_problem", p_all_problems)

    def p_no_5xx():
        bad = [f"{r['method']} {r['path']} {r['status']}" for r in RECORD if r["status"] >= 500]
        return not bad, f"{len(RECORD)} answers, no 5xx" if not bad else "; ".join(bad[:5])
    probe("no_5xx_seen", p_no_5xx)

    pool.shutdown(wait=False, cancel_futures=True)
    passed = sum(1 for ok, _, _ in RESULTS if ok)
    print(f"probes: {passed} passed of {len(RESULTS)}", flush=True)
    return 0


if __name__ == "__main__":
    try:
        main()
    except Exception:  # noqa: BLE001
        traceback.print_exc()
        passed = sum(1 for ok, _, _ in RESULTS if ok)
        print(f"probes: {passed} passed of {len(RESULTS)}")
    sys.exit(0)
