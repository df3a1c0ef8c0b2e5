"""Report agent: the job's findings as an HTML page and a PDF, stored as artifacts."""

from __future__ import annotations

from actors.report.agent import HTML_NAME, PDF_NAME, ReportAgent
from actors.report.render import TEMPLATES_DIR, render_html, render_pdf

__all__ = ["HTML_NAME", "PDF_NAME", "TEMPLATES_DIR", "ReportAgent", "render_html", "render_pdf"]
