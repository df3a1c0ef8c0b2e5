"""One report's Figma export: its template filled as a plan, and the plan's SVG preview (pure; the role wraps it)."""

from __future__ import annotations

from typing import Any

from actors.figma.content import report_content
from actors.figma.plan import fill_plan
from actors.figma.preview import render_svg
from actors.figma.template import scan_template, template_roots
from schemas import AgentRequest
from schemas.figma import FigmaExport, FigmaRequest, FillPlan
from schemas.pipeline import ReportInput

__all__ = ["FigmaRole", "egress_view", "export_figma", "replaced_count"]


def export_figma(request: FigmaRequest) -> FigmaExport:
    """Fill the template with the report (in its locale) and draw the result."""
    report = request.report if isinstance(request.report, ReportInput) else ReportInput.model_validate(request.report)
    roots = template_roots(request.template)
    plan = fill_plan(scan_template(roots), report_content(report), template_id=request.template_id,
                     version=request.version, job_id=report.job_id)
    title = f"{request.template_id} v{request.version} · {report.job_id} · {plan.locale}"
    return FigmaExport(locale=plan.locale, plan=plan, preview=render_svg(roots, plan, title=title))


def egress_view(plan: FillPlan) -> dict[str, Any]:
    """The plan as the egress guard reads it: every text, with image bytes (our own chart renderings) left out."""
    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "data"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(plan.model_dump(mode="json"))


def replaced_count(plan: FillPlan) -> int:
    """Layers the plan changes, each clone's item layers included."""
    total = 0
    for rep in plan.replacements:
        total += 1 + (sum(len(item) for item in rep.value["items"]) if rep.kind == "clone" else 0)
    return total


class FigmaRole:
    """The `report` role's Figma method: fill a template for the envelope's report."""

    def figma(self, envelope: AgentRequest[Any]) -> FigmaExport:
        """The fill plan and preview of the envelope's `FigmaRequest`."""
        payload = envelope.payload
        request = payload if isinstance(payload, FigmaRequest) else FigmaRequest.model_validate(payload)
        return export_figma(request)
