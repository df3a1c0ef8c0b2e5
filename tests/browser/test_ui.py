"""The web UI at /ui driven in Chromium against the live portal: sign-in, the job list, a brief to a finished job
followed over server-sent events, deliverables, the disagreement table, field errors, roles; axe-core on each view."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PAGING_JOBS, PAGING_PROJECT, PROJECT, Portal, assert_accessible, dump, screenshot

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.timeout(600)]

JOB_TIMEOUT_MS = 240_000


def _api(portal: Portal, key: str) -> httpx.Client:
    return httpx.Client(base_url=portal.base, timeout=30, headers={"Authorization": f"Bearer {key}"})


def _sign_in(page: Page, portal: Portal, key: str) -> None:
    page.goto(portal.ui)
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Jobs", exact=True)).to_be_visible()


def _server_events(http: httpx.Client, job_id: str) -> list[dict[str, Any]]:
    """Every event of a finished job as the portal streams them (Last-Event-ID walks past stream timeouts)."""
    events: list[dict[str, Any]] = []
    while True:
        headers = {"Last-Event-ID": events[-1]["seq"]} if events else {}
        timed_out = False
        with http.stream("GET", f"/v1/jobs/{job_id}/events", headers=headers, timeout=60) as stream:
            seq = None
            for line in stream.iter_lines():
                if line.startswith("id: "):
                    seq = line[4:]
                elif line == "event: stream.timeout":
                    timed_out = True
                elif line.startswith("data: ") and seq is not None:
                    events.append({"seq": seq, **json.loads(line[6:])})
                    seq = None
        if not timed_out:
            return events


def test_analyst_submits_a_brief_and_follows_it_to_its_deliverables(portal: Portal, page: Page) -> None:
    http = _api(portal, portal.analyst)
    me = http.get("/v1/me").json()
    example = http.get("/v1/briefs/example").json()

    page.goto(portal.ui)
    expect(page.get_by_label("API key")).to_have_attribute("type", "password")
    screenshot(page, "01-login")
    assert_accessible(page)

    _sign_in(page, portal, portal.analyst)
    expect(page.locator("#caller-id")).to_have_text(me["id"])
    expect(page.locator("#caller-role")).to_have_text(f"analyst in {PROJECT}")
    assert page.evaluate("() => sessionStorage.getItem('mka.apiKey')") == portal.analyst

    page.get_by_role("navigation", name="Main").get_by_role("link", name="New brief").click()
    page.get_by_role("button", name="Load example brief").click()
    expect(page.get_by_label("Markets")).to_have_value(", ".join(example["markets"]))
    expect(page.get_by_label("Product name")).to_have_value(example["product"]["name"])
    expect(page.get_by_label("Locale")).to_have_value(example["locale"])
    expect(page.get_by_label("Questions")).to_have_value("\n".join(example["questions"]))
    for output in ("pdf", "html", "markdown"):
        expect(page.get_by_role("checkbox", name=output)).to_be_checked(checked=output in example["outputs"])

    with page.expect_request(lambda r: r.url.endswith("/v1/jobs") and r.method == "POST") as sent:
        page.get_by_role("button", name="Submit brief").click()
    request = sent.value
    assert request.headers["authorization"] == f"Bearer {portal.analyst}"
    assert request.headers["x-mka-project"] == PROJECT
    submitted = request.post_data_json["brief"]
    assert "project" not in submitted  # the portal puts the job in the key's project
    assert submitted["product"] == example["product"]  # fields the form does not show are sent as loaded
    answer = request.response()
    assert answer is not None and answer.status == 202, answer and answer.text()
    job_id = answer.json()["job_id"]
    expect(page).to_have_url(re.compile(f"#/jobs/{job_id}$"))

    # Live progress: the log fills from the event stream while the job runs.
    changes = page.locator("#progress-log li[data-type='job.state_changed']")
    expect(changes.first).to_be_visible(timeout=60_000)
    expect(page.get_by_role("log")).to_have_attribute("aria-live", "polite")
    screenshot(page, "04-live-progress")

    expect(page.locator("#job-state")).to_have_text("completed", timeout=JOB_TIMEOUT_MS)
    expect(page.locator("#stream-status")).to_have_attribute("data-status", "finished", timeout=30_000)
    expect(changes.last).to_contain_text("→ completed")

    # The log shows every event once, in order, across the streams that timed out (Last-Event-ID reconnects).
    server = _server_events(http, job_id)
    shown = page.locator("#progress-log li").evaluate_all(
        "items => items.map(li => ({id: li.dataset.id, type: li.dataset.type}))")
    streamed = [item for item in shown if not item["type"].startswith("stream.")]
    assert [(e["seq"], e["type"]) for e in server] == [(i["id"], i["type"]) for i in streamed], dump(shown)
    assert any(item["type"] == "stream.timeout" for item in shown), "no stream timed out: reconnect not exercised"
    states = [e["payload"]["to_state"] for e in server if e["type"] == "job.state_changed"]
    assert [t.split("→ ")[-1].split(" ")[0] for t in changes.all_inner_texts()] == states

    job = http.get(f"/v1/jobs/{job_id}").json()
    expect(page.locator("#job-steps tbody tr")).to_have_count(len(job["steps"]))
    for name in job["providers"]:
        expect(page.locator("#job-providers tbody")).to_contain_text(name)

    # Deliverables: the PDF in a frame, a download, the Markdown as text.
    artifacts = http.get(f"/v1/jobs/{job_id}/artifacts").json()
    assert {"pdf", "markdown", "html"} <= {a["kind"] for a in artifacts}, dump(artifacts)
    served: list[bytes] = []  # what the page's fetch received (the CSP keeps page scripts off blob: URLs)

    def watch(route: Any) -> None:
        answer = route.fetch()
        served.append(answer.body())
        route.fulfill(response=answer)

    page.route("**/v1/artifacts/*", watch)
    page.get_by_role("button", name="Open PDF").click()
    expect(page.locator("iframe#pdf-frame")).to_have_attribute("src", re.compile(r"^blob:"))
    page.unroute("**/v1/artifacts/*", watch)
    assert len(served) == 1 and served[0][:5] == b"%PDF-"

    with page.expect_download() as downloading:
        page.get_by_role("button", name=re.compile(r"^Download pdf")).click()
    download = downloading.value
    assert download.suggested_filename.endswith(".pdf")
    assert Path(download.path()).read_bytes()[:5] == b"%PDF-"
    expect(page.locator("#artifact-status")).to_contain_text("Downloaded")

    markdown = http.get(next(a for a in artifacts if a["kind"] == "markdown")["href"]).text
    page.get_by_role("button", name="Open Markdown").click()
    text = page.locator("pre#markdown-text")
    expect(text).to_be_visible()
    assert text.text_content() == markdown
    assert text.evaluate("pre => pre.childElementCount") == 0  # shown as text, never parsed as HTML
    expect(text).to_contain_text(example["title"])

    # The disagreement table holds what the merge says: a column per provider, a row per topic.
    merge = http.get(f"/v1/jobs/{job_id}/merge").json()
    table = page.locator("table#disagreement-table")
    expect(table.locator("caption")).to_have_text("Where the providers disagree, by topic")
    named = sorted({p for d in merge["disagreements"] for p in d["positions"]})
    providers = named or sorted(n for n, p in job["providers"].items() if p["status"] == "ok")
    assert table.locator("thead th[scope='col']").all_inner_texts() == ["Topic", *providers]
    rows = table.locator("tbody tr")
    if merge["disagreements"]:
        expect(rows).to_have_count(len(merge["disagreements"]))
        for row, item in zip(rows.all(), merge["disagreements"], strict=True):
            expect(row.locator("th[scope='row']")).to_have_text(item["topic"])
            for cell, provider in zip(row.locator("td").all(), providers, strict=True):
                expect(cell).to_have_text(item["positions"].get(provider, "—"))
    else:
        expect(rows).to_have_count(1)
        expect(rows).to_have_text("The providers did not disagree on any topic.")
    screenshot(page, "05-completed-job")
    assert_accessible(page)

    # The job list shows it; the state filter narrows the list.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Jobs").click()
    row = page.locator(f"#jobs-table tr[data-job-id='{job_id}']")
    expect(row).to_contain_text("completed")
    expect(row.get_by_role("link", name=example["title"])).to_be_visible()
    page.get_by_label("State").select_option("failed")
    expect(page.locator("#jobs-table tbody")).to_have_text("No failed jobs.")
    page.get_by_label("State").select_option("completed")
    expect(row).to_be_visible()
    page.get_by_label("State").select_option("")
    expect(row).to_be_visible()
    screenshot(page, "02-job-list")
    assert_accessible(page)

    page.reload()  # the key lives in the tab's sessionStorage: a reload stays signed in
    expect(page.locator("#caller-id")).to_have_text(me["id"])
    expect(row).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    assert page.evaluate("() => sessionStorage.length") == 0


def test_a_bad_brief_shows_the_field_messages_beside_the_fields(portal: Portal, page: Page) -> None:
    _sign_in(page, portal, portal.analyst)
    page.goto(f"{portal.ui}#/new")
    page.get_by_role("button", name="Load example brief").click()
    markets, locale = page.get_by_label("Markets"), page.get_by_label("Locale")
    expect(markets).not_to_have_value("")
    markets.fill("XX")
    locale.fill("nope")
    with page.expect_response(lambda r: r.url.endswith("/v1/jobs") and r.request.method == "POST") as answered:
        page.get_by_role("button", name="Submit brief").click()
    assert answered.value.status == 422
    problem = answered.value.json()
    messages = {e["field"]: e["message"] for e in problem["errors"]}
    assert set(messages) == {"markets", "locale"}, dump(problem)

    for field, name in ((markets, "markets"), (locale, "locale")):
        expect(field).to_have_attribute("aria-invalid", "true")
        ids = (field.get_attribute("aria-describedby") or "").split()
        described = " ".join(page.locator(f"#{i}").inner_text() for i in ids)
        assert messages[name] in described, (name, described)
        expect(field).to_have_accessible_description(re.compile(re.escape(messages[name])))
    expect(page.locator("#brief-errors")).to_contain_text("2 problems")
    expect(markets).to_be_focused()
    expect(page.get_by_label("Audience")).not_to_have_attribute("aria-invalid", "true")
    screenshot(page, "03-brief-errors")
    assert_accessible(page)

    markets.fill("DE")  # fixed fields lose their marks on the next answer
    with page.expect_response(lambda r: r.url.endswith("/v1/jobs") and r.request.method == "POST") as again:
        page.get_by_role("button", name="Submit brief").click()
    assert [e["field"] for e in again.value.json()["errors"]] == ["locale"]
    expect(markets).not_to_have_attribute("aria-invalid", "true")
    expect(locale).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#brief-markets-error")).to_be_hidden()


def test_a_viewer_reads_jobs_but_has_no_way_to_submit(portal: Portal, page: Page) -> None:
    http = _api(portal, portal.viewer)
    listed = http.get("/v1/jobs").json()["items"]
    _sign_in(page, portal, portal.viewer)
    expect(page.locator("#caller-role")).to_have_text(f"viewer in {PROJECT}")
    if listed:
        expect(page.locator("#jobs-table tbody tr[data-job-id]")).to_have_count(len(listed))
    else:
        expect(page.locator("#jobs-table tbody")).to_have_text("No jobs yet.")
    expect(page.locator("#jobs-status")).to_contain_text(f"{len(listed)} job")

    def no_submit_anywhere() -> None:
        assert page.locator("form#brief-form").count() == 0
        assert page.get_by_role("button", name="Submit brief").count() == 0
        assert page.get_by_role("button", name="Load example brief").count() == 0
        assert page.locator("a[href='#/new']").count() == 0

    no_submit_anywhere()
    screenshot(page, "06-viewer")
    assert_accessible(page)

    page.goto(f"{portal.ui}#/new")  # typed by hand: still no form
    expect(page.get_by_role("heading", name="New brief")).to_be_visible()
    expect(page.locator("#new-view")).to_contain_text("may read jobs but not submit briefs")
    no_submit_anywhere()
    assert_accessible(page)

    if listed:  # a job's page opens for a viewer too
        page.goto(f"{portal.ui}#/jobs/{listed[0]['job_id']}")
        expect(page.locator("#job-state")).to_have_text(listed[0]["state"])


def test_a_bad_key_shows_the_problem_detail(portal: Portal, page: Page) -> None:
    refused = httpx.get(f"{portal.base}/v1/me", headers={"Authorization": "Bearer mka_notakey_nope"})
    assert refused.status_code == 401
    page.goto(portal.ui)
    page.get_by_label("API key").fill("mka_notakey_nope")
    page.get_by_role("button", name="Sign in").click()
    error = page.get_by_role("alert").filter(has_text=refused.json()["detail"])
    expect(error).to_have_text(refused.json()["detail"])
    expect(page.locator("#session")).to_be_hidden()
    assert page.evaluate("() => sessionStorage.length") == 0
    assert_accessible(page)


def test_a_deployment_admin_picks_the_project_and_pages_through_its_jobs(portal: Portal, page: Page) -> None:
    _sign_in(page, portal, portal.admin)
    picker = page.get_by_label("Project")
    expect(picker).to_be_visible()
    assert {PROJECT, PAGING_PROJECT} <= {o.split(" ")[0] for o in picker.locator("option").all_inner_texts()}
    with page.expect_request(lambda r: "/v1/jobs?" in r.url) as listed:
        picker.select_option(PAGING_PROJECT)
    assert listed.value.headers["x-mka-project"] == PAGING_PROJECT
    expect(page.locator("#caller-role")).to_have_text(f"admin in {PAGING_PROJECT}, deployment admin")
    rows = page.locator("#jobs-table tbody tr[data-job-id]")
    expect(rows).to_have_count(20)
    more = page.get_by_role("button", name="Load more")
    with page.expect_request(lambda r: "cursor=" in r.url):
        more.click()
    expect(rows).to_have_count(PAGING_JOBS)
    expect(more).to_be_hidden()
    http = _api(portal, portal.admin)
    http.headers["X-Mka-Project"] = PAGING_PROJECT
    first = http.get("/v1/jobs", params={"limit": 20}).json()
    second = http.get("/v1/jobs", params={"limit": 20, "cursor": first["next_cursor"]}).json()
    expected = [j["job_id"] for j in first["items"] + second["items"]]
    shown = rows.evaluate_all("rows => rows.map(r => r.dataset.jobId)")
    assert shown == expected and len(set(shown)) == PAGING_JOBS  # the API's order, none twice
    page.get_by_label("State").select_option("completed")
    expect(page.locator("#jobs-table tbody")).to_have_text("No completed jobs.")
    assert_accessible(page)


def test_the_event_stream_parser_follows_the_spec(portal: Portal, page: Page) -> None:
    chunks = [  # split mid-line, mid-CRLF and mid-field; CR, LF and CRLF line ends; a BOM; comments
        "\ufeffretry: 2000\n\n: heart", "beat\n\nid: 1\r", "\nevent: job.state_changed\r\ndata: {\"a\"",
        ":1}\n\n", "id: 2\rdata:first\rdata: second\r\r", "id: 3\nevent: stream.timeout\ndata\n\n",
        "id: 4\ndata: é", "\n\n", "event: lost\ndata: never dispatched",  # no blank line: dropped at the end
    ]
    page.goto(portal.ui)
    result = page.evaluate("""async (chunks) => {
        const { EventStreamParser, pump } = await import('./sse.js');
        const events = [], comments = [], retries = [];
        const parser = new EventStreamParser((e) => events.push(e),
            { onComment: (c) => comments.push(c), onRetry: (ms) => retries.push(ms) });
        for (const chunk of chunks) parser.feed(chunk);
        parser.feed('', true);
        const bytes = new TextEncoder().encode('id: 9\\ndata: \u00fc\\n\\n');  // ü is two bytes: split between them
        const cut = bytes.indexOf(0xc3) + 1;
        const body = new ReadableStream({
            start(c) { c.enqueue(bytes.slice(0, cut)); c.enqueue(bytes.slice(cut)); c.close(); } });
        const decoded = [];
        await pump(body, new EventStreamParser((e) => decoded.push(e)));
        return { events, comments, retries, last: parser.lastEventId, decoded };
    }""", chunks)
    assert result["retries"] == [2000]
    assert result["comments"] == ["heartbeat"]
    assert result["events"] == [
        {"id": "1", "type": "job.state_changed", "data": '{"a":1}'},
        {"id": "2", "type": "message", "data": "first\nsecond"},
        {"id": "3", "type": "stream.timeout", "data": ""},
        {"id": "4", "type": "message", "data": "é"},
    ]
    assert result["last"] == "4"
    assert result["decoded"] == [{"id": "9", "type": "message", "data": "ü"}]


DISSENT = {  # stub answers scripted to conflict on two quantities (the portal takes scripts while stubs run)
    "openai": [("o1", "The plant-based milk market in Germany grew 6 % in 2023."),
               ("o2", "The plant-based milk market in France is worth EUR 400 m in 2023.")],
    "gemini": [("g1", "The plant-based milk market in Germany shrank 6 % in 2023."),
               ("g2", "The plant-based milk market in France is worth EUR 650 m in 2023.")],
    "xai": [("x1", "The plant-based milk market in Germany grew 6 % in 2023."),
            ("x2", "The plant-based milk market in France is worth EUR 400 m in 2023.")],
}


def test_the_disagreement_table_shows_each_providers_position(portal: Portal, page: Page) -> None:
    http = _api(portal, portal.analyst)
    brief = {**http.get("/v1/briefs/example").json(), "title": "Scripted disagreement"}
    script = {"providers": {p: {"claims": [{"id": i, "text": t, "evidence_ids": []} for i, t in claims]}
                            for p, claims in DISSENT.items()}}
    created = http.post("/v1/jobs", json={"brief": brief, "providers_script": script})
    assert created.status_code == 202, created.text
    job_id = created.json()["job_id"]

    _sign_in(page, portal, portal.analyst)
    page.goto(f"{portal.ui}#/jobs/{job_id}")
    expect(page.locator("#job-state")).to_have_text("completed", timeout=JOB_TIMEOUT_MS)
    merge = http.get(f"/v1/jobs/{job_id}/merge").json()
    assert len(merge["disagreements"]) >= 2, dump(merge["disagreements"])

    table = page.get_by_role("table", name="Where the providers disagree, by topic")
    providers = sorted({p for d in merge["disagreements"] for p in d["positions"]})
    expect(table.locator("thead th[scope='col']")).to_have_text(["Topic", *providers])
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(len(merge["disagreements"]))
    for row, item in zip(rows.all(), merge["disagreements"], strict=True):
        expect(row.locator("th[scope='row']")).to_have_text(item["topic"])
        expect(row.locator("td")).to_have_text([item["positions"].get(p, "—") for p in providers])
    count = len(merge["disagreements"])
    expect(page.locator("#disagreements")).to_contain_text(f"{count} topics where the providers disagree")
    table.scroll_into_view_if_needed()
    screenshot(page, "07-disagreements")
    assert_accessible(page)


def test_the_api_docs_render_with_no_network(portal: Portal, page: Page) -> None:
    """Swagger UI and ReDoc draw the portal's operations with every request outside the portal refused (no CDN)."""
    outside: list[str] = []

    def only_the_portal(route: Any) -> None:
        if route.request.url.startswith(portal.base):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.context.route("**/*", only_the_portal)
    page.goto(f"{portal.base}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Marketing Assistant portal")
    expect(page.locator(".opblock-summary-path", has_text="/v1/jobs/{job_id}/merge")).to_be_visible()
    screenshot(page, "08-api-docs")
    page.goto(f"{portal.base}/redoc")
    expect(page.get_by_role("heading", name=re.compile("Marketing Assistant portal")).first).to_be_visible()
    expect(page.get_by_text("/v1/jobs/{job_id}/merge").first).to_be_attached()
    assert outside == [], outside


def test_a_brief_typed_by_hand_is_accepted_and_the_key_never_travels_in_a_url(portal: Portal, page: Page) -> None:
    """No example loaded: the form's own defaults (every export ticked) make a valid brief; every request carries
    the key in its Authorization header only."""
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    _sign_in(page, portal, portal.analyst)
    page.goto(f"{portal.ui}#/new")
    page.get_by_label("Title").fill("Typed by hand")
    page.get_by_label("Product name").fill("Oat bar")
    page.get_by_label("Markets").fill("de, fr")
    page.get_by_label("Locale").fill("de-DE")
    page.get_by_label("Audience").fill("Students who cycle to campus")
    page.get_by_label("Questions").fill("How big is the snack bar market?\nWho leads it?")
    with page.expect_response(lambda r: r.url.endswith("/v1/jobs") and r.request.method == "POST") as answered:
        page.get_by_role("button", name="Submit brief").click()
    assert answered.value.status == 202, answered.value.text()
    sent = json.loads(answered.value.request.post_data or "{}")["brief"]
    assert sent["outputs"] == ["pdf", "html", "markdown"] and "project" not in sent
    expect(page).to_have_url(re.compile(r"#/jobs/" + re.escape(answered.value.json()["job_id"])))
    assert urls and not [u for u in urls if portal.analyst in u or "mka_" in u]


def test_markup_in_a_title_is_shown_as_text(portal: Portal, page: Page) -> None:
    """A brief's text reaches the page as text, never as HTML."""
    from tests.conftest import brief_data

    bait = '<img src=x onerror="window.__pwned = 1">Launch'
    brief = brief_data(title=bait)
    brief.pop("project")
    with _api(portal, portal.analyst) as http:
        created = http.post("/v1/jobs", json={"brief": brief})
    assert created.status_code == 202, created.text
    _sign_in(page, portal, portal.analyst)
    page.goto(f"{portal.ui}#/jobs/{created.json()['job_id']}")
    expect(page.get_by_role("heading", name=bait)).to_be_visible()
    page.goto(f"{portal.ui}#/jobs")
    expect(page.get_by_text(bait).first).to_be_visible()
    assert page.locator("main img").count() == 0 and page.evaluate("window.__pwned === undefined")
