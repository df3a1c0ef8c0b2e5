"""The typed HTTP client over the portal app in-process (fake backend): paging, problems as errors, retries after
Retry-After, the event stream parser and sha256-checked downloads. The live-portal tests are in
tests/integration/test_http_client.py."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from fastapi.testclient import TestClient

from cluster.http_client import PortalClient, PortalError, _sse
from schemas import IntegrityFailure
from serve_app import create_app
from serve_app.auth import Authenticator
from tests.conftest import brief_data
from tests.portal import FakeBackend, Keys, _test_config, make_identity, portal

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return make_identity(tmp_path_factory.mktemp("client"))


def _client(keys: Keys, key: str, backend: FakeBackend | None = None, **config: object) -> PortalClient:
    app = create_app(backend or FakeBackend(), auth=Authenticator(keys.identity),
                     config=replace(_test_config(), **config))
    inner = TestClient(app)

    def forward(request: httpx.Request) -> httpx.Response:  # the app in-process; streams arrive whole
        answer = inner.request(request.method, str(request.url), headers=dict(request.headers),
                               content=request.read())
        return httpx.Response(answer.status_code, headers=answer.headers, content=answer.content)

    return PortalClient("http://testserver", key, transport=httpx.MockTransport(forward))


def _brief() -> dict[str, object]:
    data = brief_data()
    data.pop("project")
    return data


def test_submit_read_and_page_through_jobs(keys: Keys) -> None:
    client = _client(keys, keys.analyst)
    ids = [client.submit(_brief(), idempotency_key=f"k{n}").job_id for n in range(5)]
    assert client.get(ids[0]).project == "acme"
    pages = []
    cursor = None
    while True:
        page = client.jobs(limit=2, cursor=cursor)
        pages.append([j.job_id for j in page.items])
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [j for p in pages for j in p] == sorted(ids, reverse=True)  # newest first, ties by id
    assert [j.job_id for j in client.iter_jobs(limit=3)] == sorted(ids, reverse=True)
    assert client.jobs(state=["failed"]).items == []
    events = client.events(ids[0])
    assert [e.seq for e in events] == [1, 2] and client.events(ids[0], after=1)[0].seq == 2
    assert [e.payload["to_state"] for e in client.stream(ids[0])] == ["validating", "completed"]
    assert client.wait(ids[0]).state == "completed"
    merge = client.merge(ids[0])  # the server's MergeResult, placeholders kept
    assert merge.claims[0].text.startswith("<PERSON_1>") and merge.disagreements[0].positions["xai"] == "shrinks 2 %"


def test_problems_become_errors_with_fields(keys: Keys) -> None:
    client = _client(keys, keys.analyst)
    with pytest.raises(PortalError) as bad:
        client.submit({**_brief(), "markets": ["XX"]})
    assert bad.value.status == 422 and bad.value.errors[0]["field"] == "markets"
    assert "'XX'" in str(bad.value)
    with pytest.raises(PortalError) as cursor:
        client.jobs(cursor="not-ours")
    assert cursor.value.code == "invalid_request" and cursor.value.errors[0]["field"] == "query.cursor"
    with pytest.raises(PortalError) as viewer:
        _client(keys, keys.viewer).submit(_brief())
    assert viewer.value.status == 403 and viewer.value.code == "forbidden"


def test_rate_limits_are_waited_out_and_then_raised(keys: Keys, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr("cluster.http_client.time.sleep", waits.append)
    client = _client(keys, keys.viewer, rate_limit_per_minute=1, rate_limit_burst=1)
    client.me()
    with pytest.raises(PortalError) as limited:
        client.me()  # the bucket refills one token a minute; the client's waits are recorded, not slept
    assert limited.value.status == 429 and limited.value.retryable
    assert len(waits) == client.retries and all(0 < w <= 30 for w in waits)


def test_a_download_that_does_not_match_its_sha256_is_refused(keys: Keys) -> None:
    backend = FakeBackend()  # its artifact's bytes (%PDF) are not the sha256 it claims (0…0)
    job = _client(keys, keys.analyst, backend).submit(_brief())
    viewer = _client(keys, keys.viewer, backend)
    [artifact] = viewer.artifacts(job.job_id)
    assert artifact.kind == "pdf" and artifact.href == "/v1/artifacts/a1"
    with pytest.raises(IntegrityFailure):
        viewer.download(artifact)


def test_the_event_stream_parser() -> None:
    lines = ["retry: 2000", "", ": heartbeat", "", "id: 3", "event: job.state_changed", 'data: {"a":', "data: 1}",
             "", "event: stream.timeout", 'data: {"reconnect": true}', ""]
    assert list(_sse(iter(lines))) == [("job.state_changed", 3, '{"a":\n1}'),
                                       ("stream.timeout", None, '{"reconnect": true}')]


def test_a_portal_that_does_not_answer_is_a_retryable_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cluster.http_client.time.sleep", lambda _: None)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = PortalClient("http://127.0.0.1:9", "k", transport=httpx.MockTransport(refuse))
    with pytest.raises(Exception) as failed:
        client.me()
    assert getattr(failed.value, "retryable", False) and "did not answer" in str(failed.value)


def test_a_resumed_jobs_old_failure_does_not_end_the_wait(keys: Keys) -> None:
    backend = FakeBackend()
    backend.states = ["failed", "validating", "completed"]  # failed on infrastructure, resumed, then done
    client = _client(keys, keys.analyst, backend)
    job = client.submit(_brief())
    assert [e.payload["to_state"] for e in client.stream(job.job_id)] == ["failed", "validating", "completed"]


def test_the_job_list_is_the_callers_project_only(keys: Keys) -> None:
    backend = FakeBackend()
    mine = _client(keys, keys.analyst, backend).submit(_brief()).job_id
    theirs = _client(keys, keys.other, backend).submit(_brief()).job_id
    assert [j.job_id for j in _client(keys, keys.viewer, backend).iter_jobs()] == [mine]
    assert [j.job_id for j in _client(keys, keys.other, backend).iter_jobs()] == [theirs]
    raw = portal(keys, backend, key=keys.viewer)
    assert raw.get("/v1/jobs", params={"project": "other"}).status_code == 403
    assert raw.get("/v1/jobs", headers={"X-Mka-Project": "other"}).status_code == 403
