"""Integration tests of the report agent: real WeasyPrint PDFs, read back with pypdf, stored in real object stores."""

from __future__ import annotations

import hashlib
import io
import logging
import re
import socket
import uuid
from pathlib import Path

import pytest
from pypdf import PdfReader

from actors.report import ReportAgent, render_html, render_pdf
from schemas.artifacts import Artifact
from schemas.pipeline import ReportInput
from cluster.objects import FsObjectStore, S3ObjectStore, job_key
from schemas._errors import AgentError
from tests.fakes import FakeClock
from tests.integration.s3_server import S3Server, s3_server  # noqa: F401  (fixture)
from tests.unit.test_report_render import TIMEOUT_REASON, make_report

pytestmark = pytest.mark.integration


def _squash(text: str) -> str:
    """Drop all whitespace: PDF text extraction breaks lines wherever the layout wrapped."""
    return re.sub(r"\s+", "", text)


def _pdf_text(pdf: bytes) -> str:
    return _squash("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages))


@pytest.fixture
def store(tmp_path: Path) -> FsObjectStore:
    """A filesystem object store in a fresh directory."""
    return FsObjectStore(tmp_path / "objects")


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock (artifact timestamps)."""
    return FakeClock()


def _agent(store: FsObjectStore | S3ObjectStore, clock: FakeClock) -> ReportAgent:
    ids = iter(f"art-{n}" for n in range(1, 100))
    return ReportAgent(store, clock=clock, new_id=lambda: next(ids))


def _pdf(store: FsObjectStore | S3ObjectStore, clock: FakeClock, report: ReportInput) -> Artifact:
    artifacts = _agent(store, clock).render(report)
    assert artifacts[0].kind == "pdf"
    return artifacts[0]


def test_pdf_shows_claims_evidence_degraded_banner_and_trace_id(store: FsObjectStore, clock: FakeClock) -> None:
    report = make_report(degraded=True)
    assert report.merge is not None
    artifact = _pdf(store, clock, report)
    pdf = store.get(artifact.key)
    assert pdf.startswith(b"%PDF-")
    text = _pdf_text(pdf)
    for claim in report.merge.claims:
        assert text.count(_squash(claim.text)) == 1, claim.text  # each claim in full once
    for item in report.evidence:
        assert _squash(item.text) in text
    assert "DEGRADED" in text and _squash(TIMEOUT_REASON) in text
    assert report.trace_id and report.trace_id in text
    assert report.job_id in text


def test_pdf_without_degradation_has_no_banner(store: FsObjectStore, clock: FakeClock) -> None:
    report = make_report(degraded=False)
    text = _pdf_text(store.get(_pdf(store, clock, report).key))
    assert "DEGRADED" not in text
    assert "All3providersanswered" in text


def test_stored_artifact_describes_the_stored_bytes(store: FsObjectStore, clock: FakeClock) -> None:
    report = make_report()
    artifacts = _agent(store, clock).render(report)
    assert [a.kind for a in artifacts] == ["pdf", "html", "markdown", "chart"]  # one chart: DE has a market size
    artifact = artifacts[0]
    pdf = store.get(job_key(report.brief.project, report.job_id, "report.pdf"))
    assert artifact.key == f"projects/{report.brief.project}/jobs/{report.job_id}/report.pdf"
    assert (artifact.id, artifact.job_id, artifact.kind) == ("art-1", report.job_id, "pdf")
    assert (artifact.project, artifact.step, artifact.pii_class) == (report.brief.project, "render", "pseudonymized")
    assert artifact.content_type == "application/pdf"
    assert artifact.sha256 == hashlib.sha256(pdf).hexdigest() and artifact.size == len(pdf)
    assert artifact.created_at == clock.now()
    assert artifact.local_path and Path(artifact.local_path).read_bytes() == pdf
    assert artifact.uri == Path(artifact.local_path).as_uri()
    meta = store.stat(artifact.key).metadata
    assert meta["job-id"] == report.job_id and meta["trace-id"] == report.trace_id
    assert (meta["degraded"], meta["kind"], meta["project"]) == ("true", "pdf", report.brief.project)
    html = store.get(job_key(report.brief.project, report.job_id, "report.html")).decode()
    assert report.trace_id in html and store.stat(job_key(report.brief.project, report.job_id, "report.html")).content_type.startswith(
        "text/html")
    for art in artifacts:  # every export is described by its artifact
        body = store.get(art.key)
        assert art.sha256 == hashlib.sha256(body).hexdigest() and art.size == len(body)
    markdown = store.get(job_key(report.brief.project, report.job_id, "report.md")).decode()
    assert markdown.startswith("# ") and "## Executive summary" in markdown


def test_rerendering_a_job_overwrites_the_same_keys(store: FsObjectStore, clock: FakeClock) -> None:
    report = make_report()
    agent = _agent(store, clock)
    first = agent.render(report)[0]
    clock.advance(60)
    second = agent.render(report)[0]
    assert second.key == first.key and second.created_at > first.created_at
    job_dir = store.root / "projects" / report.brief.project / "jobs" / report.job_id
    assert sorted(p.name for p in job_dir.iterdir()) == ["chart-market-size.svg", "report.html", "report.md",
                                                          "report.pdf"]
    assert store.stat(second.key).sha256 == second.sha256 == hashlib.sha256(store.get(second.key)).hexdigest()


def test_report_is_stored_through_the_s3_store(s3_server: S3Server, clock: FakeClock) -> None:  # noqa: F811
    bucket = f"mka-test-{uuid.uuid4().hex[:12]}"
    s3 = S3ObjectStore(endpoint=s3_server.endpoint, access_key=s3_server.access_key, secret_key=s3_server.secret_key,
                       bucket=bucket, region=s3_server.region)
    report = make_report()
    artifact = _pdf(s3, clock, report)
    assert artifact.uri == f"s3://{bucket}/{artifact.key}" and artifact.local_path is None
    assert artifact.key == f"projects/{report.brief.project}/jobs/{report.job_id}/report.pdf"
    pdf = s3.get(artifact.key)
    assert pdf.startswith(b"%PDF-") and hashlib.sha256(pdf).hexdigest() == artifact.sha256
    stat = s3.stat(artifact.key)
    assert stat.content_type == "application/pdf" and stat.metadata["trace-id"] == report.trace_id


def test_render_pdf_never_touches_the_network(monkeypatch: pytest.MonkeyPatch,
                                              caplog: pytest.LogCaptureFixture) -> None:
    attempts: list[object] = []

    def no_connect(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", no_connect)
    html = render_html(make_report()).replace(
        "</body>",
        '<img src="https://example.invalid/pixel.png"><img src="file:///etc/hostname">'
        '<link rel="stylesheet" href="http://example.invalid/x.css"></body>',
    )
    with caplog.at_level(logging.WARNING):
        pdf = render_pdf(html)
    assert pdf.startswith(b"%PDF-")
    assert attempts == []
    for url in ("https://example.invalid/pixel.png", "http://example.invalid/x.css", "file:///etc/hostname"):
        assert f"refuses to fetch {url!r}" in caplog.text  # local files outside the templates too


def test_a_rendering_failure_stores_nothing(store: FsObjectStore, clock: FakeClock,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import weasyprint  # type: ignore[import-untyped]

    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("pango exploded")

    monkeypatch.setattr(weasyprint.HTML, "write_pdf", broken)
    report = make_report()
    with pytest.raises(AgentError, match="pango exploded") as info:
        _agent(store, clock).render(report)
    assert info.value.retryable is False
    for name in ("report.pdf", "report.html", "report.md"):
        assert not store.exists(job_key(report.brief.project, report.job_id, name))


def test_pdf_off_stores_no_pdf(tmp_path: Path) -> None:
    store = FsObjectStore(tmp_path)
    report = make_report()
    arts = ReportAgent(store, pdf=False).render(report)
    assert [a.kind for a in arts] == ["html", "markdown", "chart"]
    assert arts[0].content_type.startswith("text/html") and store.get(arts[0].key).startswith(b"<!DOCTYPE html")
    assert not store.exists(job_key(report.brief.project, report.job_id, "report.pdf"))


def test_the_brief_outputs_choose_the_exports(tmp_path: Path) -> None:
    store = FsObjectStore(tmp_path)
    pdf_only = make_report(outputs=["pdf"])
    assert [a.kind for a in ReportAgent(store).render(pdf_only)] == ["pdf", "html"]  # html: the PDF's own page
    markdown_only = make_report(outputs=["markdown"])
    assert [a.kind for a in ReportAgent(store).render(markdown_only)] == ["html", "markdown", "chart"]
    assert not store.exists(job_key(markdown_only.brief.project, markdown_only.job_id, "report.pdf"))
