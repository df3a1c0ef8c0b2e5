"""The report agent: renders a job's report (PDF, HTML, Markdown with its charts) and stores it as artifacts."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from actors.clock import Clock, SystemClock
from actors.object_store import ObjectStore, artifact_for, job_key
from actors.report.render import render_pdf, render_report
from schemas.artifacts import Artifact, StoredPii
from schemas.brief import REPORT_OUTPUTS
from schemas.pipeline import ReportInput

__all__ = ["HTML_NAME", "MARKDOWN_NAME", "PDF_NAME", "ReportAgent", "report_outputs"]

PDF_NAME = "report.pdf"
HTML_NAME = "report.html"
MARKDOWN_NAME = "report.md"
_CONTENT_TYPES = {"pdf": "application/pdf", "html": "text/html; charset=utf-8",
                  "markdown": "text/markdown; charset=utf-8", "chart": "image/svg+xml"}


def _ascii(value: str) -> str:
    """Object metadata must be printable ASCII: replace anything else."""
    return "".join(ch if ch.isascii() and ch.isprintable() else "?" for ch in value)


def report_outputs(report: ReportInput, *, pdf: bool = True) -> list[str]:
    """The report exports a job stores: the brief's `outputs` among pdf and markdown (pdf only when PDF rendering
    is on), and html always: it is the page the PDF is made from and the report the portal shows."""
    return [kind for kind in REPORT_OUTPUTS
            if kind == "html" or (kind in report.brief.outputs and (pdf or kind != "pdf"))]


class ReportAgent:
    """Renders a `ReportInput` and stores the exports the brief asks for under the job prefix `projects/<project>/jobs/<job_id>/`.

    `report.pdf`, `report.html` (the exact page the PDF is rendered from) and `report.md` with its
    charts beside it (`chart-*.svg`); a localized report goes under `projects/<project>/jobs/<job_id>/<locale>/` and its
    artifacts carry the locale. Re-rendering a job overwrites the same keys, so a retried step
    never leaves a second report, and everything is rendered before anything is stored.

    Example:
        >>> agent = ReportAgent(FsObjectStore(Path("/tmp/mka-doc")))  # doctest: +SKIP
        >>> [a.kind for a in agent.render(report_input)]  # doctest: +SKIP
        ['pdf', 'html', 'markdown', 'chart', 'chart']
    """

    def __init__(
        self, object_store: ObjectStore, *, clock: Clock | None = None, new_id: Callable[[], str] | None = None,
        pdf: bool = True,
    ) -> None:
        self._store = object_store
        self._pdf = pdf
        self._clock = clock or SystemClock()
        self._new_id = new_id or (lambda: uuid.uuid4().hex)

    def render(self, report: ReportInput) -> list[Artifact]:
        """Render the wanted exports, store them and return their artifacts (the PDF first when there is one)."""
        kinds = report_outputs(report, pdf=self._pdf)
        rendered = render_report(report)
        files: list[tuple[str, str, bytes]] = []  # (kind, name, bytes), all rendered before anything is stored
        if "pdf" in kinds:
            files.append(("pdf", PDF_NAME, render_pdf(rendered.html)))
        if "html" in kinds:
            files.append(("html", HTML_NAME, rendered.html.encode("utf-8")))
        if "markdown" in kinds:
            files.append(("markdown", MARKDOWN_NAME, rendered.markdown.encode("utf-8")))
            files += [("chart", f"{chart.name}.svg", chart.svg.encode("utf-8")) for chart in rendered.charts]
        metadata = self._metadata(report)
        locale = report.localization.locale if report.localization else None
        folder = f"{locale}/" if locale else ""
        artifacts = []
        for kind, name, body in files:
            key = job_key(report.brief.project, report.job_id, folder + name)
            stored = self._store.put(key, body, content_type=_CONTENT_TYPES[kind], metadata={**metadata, "kind": kind})
            artifacts.append(artifact_for(
                stored, project=report.brief.project, job_id=report.job_id, kind=kind, artifact_id=self._new_id(),
                created_at=self._clock.now(), step="render", locale=locale, pii_class=StoredPii.PSEUDONYMIZED,
            ))
        return artifacts

    @staticmethod
    def _metadata(report: ReportInput) -> dict[str, str]:
        meta = {
            "job-id": _ascii(report.job_id),
            "project": report.brief.project,
            "degraded": "true" if report.quorum.degraded or any(
                s.required and s.status == "failed" for s in report.sources) else "false",
            "generated-at": report.generated_at.isoformat(),
        }
        if report.trace_id:
            meta["trace-id"] = _ascii(report.trace_id)
        if report.localization:
            meta["locale"] = _ascii(report.localization.locale)
            meta["translation"] = report.localization.status
        return meta
