"""Report agent: the job's findings as a PDF, the HTML page it is rendered from and Markdown, stored as artifacts."""

from __future__ import annotations

from actors.report.agent import (
    HTML_NAME,
    MARKDOWN_NAME,
    PDF_NAME,
    ReportAgent,
    report_outputs,
)
from actors.report.render import (
    TEMPLATES_DIR,
    render_html,
    render_markdown,
    render_pdf,
    render_report,
)

__all__ = [
    "HTML_NAME", "MARKDOWN_NAME", "PDF_NAME", "TEMPLATES_DIR", "ReportAgent", "render_html", "render_markdown",
    "render_pdf", "render_report", "report_outputs",
]
