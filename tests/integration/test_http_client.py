"""The typed HTTP client against the live portal (Ray Serve over Ray, PostgreSQL, S3 and NATS): submit, wait over
server-sent events, read the job, its merge result and artifacts, page through jobs, and problems as errors."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from cluster.http_client import PortalClient, PortalError
from schemas import MergeResult, parse_brief
from serve_app.openapi import ArtifactView, JobView
from tests.conftest import brief_data
from tests.integration.stack import running_portal, running_stack

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def portal(pg_url: str, tmp_path_factory):  # type: ignore[no-untyped-def]
    """The portal on Ray Serve with a viewer, an analyst and an admin key of project `client`."""
    with running_stack(pg_url, tmp_path_factory.mktemp("mka-home")) as running, \
            running_portal(running, "client") as live:
        yield live


def _brief(**overrides: Any) -> dict[str, Any]:
    data = brief_data(**{"outputs": ["pdf", "markdown"], **overrides})
    data.pop("project")
    return data


def test_submit_wait_over_sse_and_read_everything(portal, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with PortalClient(portal.base, portal.keys["analyst"]) as client:
        me = client.me()
        assert me.kind == "key" and [p.project for p in me.projects] == ["client"]
        accepted = client.submit(parse_brief({**_brief(), "project": "client"}), idempotency_key="client-1")
        assert accepted.project == "client"
        assert client.submit(_brief(), idempotency_key="client-1").job_id == accepted.job_id  # same key, same job

        seen: list[Any] = []
        done = client.wait(accepted.job_id, timeout_s=240, on_event=seen.append)
        assert isinstance(done, JobView) and done.state == "completed", done.error
        states = [e.payload["to_state"] for e in seen if e.type == "job.state_changed"]
        assert seen[0].type == "job.submitted" and states[-1] == "completed"
        assert [e.seq for e in seen] == sorted({e.seq for e in seen})  # in order, none twice
        stored = client.events(accepted.job_id)
        assert [e.id for e in stored][:len(seen)] == [e.id for e in seen]  # the stream and the stored events agree
        assert {s.step for s in done.steps} >= {"validate", "redact", "collect", "analyze", "merge", "render"}

        merge = client.merge(accepted.job_id)
        assert isinstance(merge, MergeResult) and merge.claims and merge.quorum.received >= 2
        for row in merge.disagreements:
            assert set(row.positions) <= {"openai", "gemini", "xai"}

        artifacts = client.artifacts(accepted.job_id)
        assert all(isinstance(a, ArtifactView) for a in artifacts)
        pdf = next(a for a in artifacts if a.kind == "pdf")
        data = client.download(pdf)
        assert data.startswith(b"%PDF") and hashlib.sha256(data).hexdigest() == pdf.sha256
        saved = client.save(next(a for a in artifacts if a.kind == "markdown"), tmp_path)
        assert saved.read_text(encoding="utf-8").startswith("#")

        listed = [j.job_id for j in client.iter_jobs(state="completed", limit=1)]
        assert accepted.job_id in listed and len(listed) == len(set(listed))


def test_problems_are_raised_with_their_fields(portal) -> None:  # type: ignore[no-untyped-def]
    with PortalClient(portal.base, portal.keys["analyst"]) as client:
        with pytest.raises(PortalError) as bad:
            client.submit({**_brief(), "markets": ["XX"], "locale": "nope"})
        assert bad.value.status == 422 and {e["field"] for e in bad.value.errors} == {"markets", "locale"}
        with pytest.raises(PortalError) as missing:
            client.get("no-such-job")
        assert missing.value.status == 404 and missing.value.code == "job_not_found"
    with PortalClient(portal.base, portal.keys["viewer"]) as viewer:
        with pytest.raises(PortalError) as denied:
            viewer.submit(_brief())
        assert denied.value.status == 403 and not denied.value.retryable
    with PortalClient(portal.base, "mka_aaaaaaaaaaaa_" + "A" * 43) as stranger:
        with pytest.raises(PortalError) as anonymous:
            stranger.me()
        assert anonymous.value.status == 401
