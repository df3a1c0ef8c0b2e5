"""The report agent: renders a job's report (HTML and PDF) and stores it in the object store as artifacts."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from actors.clock import Clock, SystemClock
from actors.report.render import render_html, render_pdf
from actors.object_store import ObjectStore, artifact_for, job_key
from schemas.artifacts import Artifact
from schemas.pipeline import ReportInput

__all__ = ["HTML_NAME", "PDF_NAME", "ReportAgent"]

PDF_NAME = "report.pdf"
HTML_NAME = "report.html"


def _ascii(value: str) -> str:
    """Object metadata must be printable ASCII: replace anything else."""
    return "".join(ch if ch.isascii() and ch.isprintable() else "?" for ch in value)


class ReportAgent:
    """Renders a `ReportInput` and stores `jobs/<job_id>/report.pdf` (and `report.html`).

    Re-rendering a job overwrites the same keys, so a retried step never leaves a second report.

    Example:
        >>> agent = ReportAgent(FsObjectStore(Path("/tmp/mka-doc")))  # doctest: +SKIP
        >>> agent.render(report_input).key  # doctest: +SKIP
        'jobs/j1/report.pdf'
    """

    def __init__(
        self, object_store: ObjectStore, *, clock: Clock | None = None, new_id: Callable[[], str] | None = None,
        pdf: bool = True,
    ) -> None:
        self._store = object_store
        self._pdf = pdf
        self._clock = clock or SystemClock()
        self._new_id = new_id or (lambda: uuid.uuid4().hex)

    def render(self, report: ReportInput) -> Artifact:
        """Render HTML and PDF, store both under the job's keys and return the PDF artifact (HTML when pdf=False)."""
        html = render_html(report)
        metadata = self._metadata(report)
        if not self._pdf:  # HTML only (PDF rendering switched off by settings)
            stored_html = self._store.put(job_key(report.job_id, HTML_NAME), html.encode("utf-8"),
                                          content_type="text/html; charset=utf-8", metadata={**metadata, "kind": "html"})
            return artifact_for(stored_html, job_id=report.job_id, kind="html", artifact_id=self._new_id(),
                                created_at=self._clock.now())
        pdf = render_pdf(html)  # both rendered before anything is stored: a failure leaves no half report
        self._store.put(job_key(report.job_id, HTML_NAME), html.encode("utf-8"),
                        content_type="text/html; charset=utf-8", metadata={**metadata, "kind": "html"})
        stored = self._store.put(job_key(report.job_id, PDF_NAME), pdf,
                                 content_type="application/pdf", metadata={**metadata, "kind": "pdf"})
        return artifact_for(stored, job_id=report.job_id, kind="pdf", artifact_id=self._new_id(),
                            created_at=self._clock.now())

    @staticmethod
    def _metadata(report: ReportInput) -> dict[str, str]:
        meta = {
            "job-id": _ascii(report.job_id),
            "project": report.brief.project,
            "degraded": "true" if report.quorum.degraded else "false",
            "generated-at": report.generated_at.isoformat(),
        }
        if report.trace_id:
            meta["trace-id"] = _ascii(report.trace_id)
        return meta
