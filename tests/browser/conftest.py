"""The web UI's browser tests: the real stack and portal, Debian's Chromium driven by Playwright, axe-core checks."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest

from tests.integration.stack import running_portal, running_stack

HERE = Path(__file__).parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
AXE_PATH = "/__browser-tests__/axe.min.js"  # answered by the test's route, never by the portal
SHOTS = HERE.parents[1] / "test-artifacts" / "ui"
CHROMIUM = "/usr/bin/chromium"
PROJECT = "ui-browser"
PAGING_PROJECT = "ui-paging"
PAGING_JOBS = 23
SSE_MAX_SECONDS = 2.0
EXPECT_TIMEOUT_MS = 20_000


@dataclass
class Portal:
    """The running portal: its URL, one key per role in PROJECT, and the stack behind it."""

    base: str
    analyst: str
    viewer: str
    admin: str
    stack: Any = field(repr=False)

    @property
    def ui(self) -> str:
        return f"{self.base}/ui/"


@pytest.fixture(scope="module")
def portal(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    """Ray + actors + the portal (as Serve runs it) on PostgreSQL, S3 and NATS, with analyst, viewer and
    deployment-admin keys of one project, and a second project holding PAGING_JOBS jobs that never run.

    Event streams end after SSE_MAX_SECONDS (`stream.timeout`), so following a job takes several streams."""
    from cluster.identity_store import SqlIdentityStore
    from schemas import parse_brief
    from serve_app.auth import create_key, create_project
    from tests.conftest import brief_data

    # Short event streams and heartbeats: a job outlives several streams, so the UI must reconnect with
    # Last-Event-ID (and skip heartbeat comments) to show every event once.
    with running_stack(pg_url, tmp_path_factory.mktemp("mka-home"), sse_max_seconds=SSE_MAX_SECONDS,
                       sse_heartbeat_s=0.5) as running, \
            running_portal(running, PROJECT, roles=("analyst", "viewer")) as live:
        identity = SqlIdentityStore(running.client.store.engine)
        create_project(identity, PAGING_PROJECT, actor="test")
        admin = create_key(identity, project=PROJECT, role="admin", actor="test", deployment_admin=True)[1]
        for n in range(PAGING_JOBS):  # stored, not started: they stay `submitted`
            running.client.store.submit(parse_brief(brief_data(project=PAGING_PROJECT, title=f"Paging job {n:02d}")))
        yield Portal(base=live.base, analyst=live.keys["analyst"], viewer=live.keys["viewer"], admin=admin,
                     stack=running)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless (no browser download); --no-sandbox because the tests run as root."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=EXPECT_TIMEOUT_MS)  # a busy CI machine (2 cores, Ray) answers slower than 5 s at times

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the test item (the page fixture saves a screenshot of a failed test)."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A fresh browser context and page; fails the test on a script error or a content-security-policy violation,
    and leaves a screenshot of the page where a test failed (test-artifacts/ui/failed-<test>.png)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(EXPECT_TIMEOUT_MS)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    opened.on("console", lambda msg: problems.append(f"console: {msg.text}")
              if "Content Security Policy" in msg.text or "Refused to" in msg.text else None)
    try:
        yield opened
        failed = getattr(request.node, "report_call", None)
        if failed is not None and failed.failed:
            screenshot(opened, f"failed-{request.node.name}")
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def screenshot(page: Any, name: str) -> Path:
    """A full-page screenshot in test-artifacts/ui/ (looked at by people, not compared)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_accessible(page: Any) -> None:
    """axe-core (WCAG 2 A and AA rules) finds no violation on the page as it is now."""
    if not AXE.exists():  # `.ci/run` installs it; a fresh checkout installs it here, once
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--prefix", str(HERE)], check=True, timeout=300)
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # The UI's CSP refuses inline scripts, which is what add_script_tag(path=...) writes: serve the file from
        # the page's own origin instead (script-src 'self'), so the policy stays on while axe runs.
        page.route(f"**{AXE_PATH}", lambda route: route.fulfill(path=str(AXE), content_type="text/javascript"))
        page.add_script_tag(url=urljoin(page.url, AXE_PATH))
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa']}});"
        " return {violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))})),"
        " passes: r.passes.length}; }")
    violations = result["violations"]
    assert not violations, "axe found accessibility violations:\n" + "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']}\n" + "\n".join(
            f"    {n['target']}: {n['summary']}" for n in v["nodes"]) for v in violations)
    assert result["passes"] > 0


def dump(data: Any) -> str:
    """JSON for assertion messages."""
    return json.dumps(data, indent=1, default=str)[:2000]
